import { and, eq, isNull } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { oauthCodes, oauthGrants } from "../../db/schema";
import { hashSecret, randomToken } from "../secrets";
import { revokeGrant, type RevokedGrant } from "./grants";
import { verifyChallenge } from "./pkce";
import { issueTokens, type TokenPair } from "./tokens";

/** Issues a single-use authorization code for a grant; D1 keeps only its hash. */
export async function issueCode(db: Database, grantId: string, redirectUri: string, codeChallenge: string, config: Config): Promise<string> {
  const code = randomToken();
  await db.insert(oauthCodes).values({
    hash: hashSecret(code),
    grantId,
    redirectUri,
    codeChallenge,
    expiresAt: new Date(Date.now() + config.AUTH_CODE_TTL_SECONDS * 1000),
  });
  return code;
}

export type ExchangeInput = { code: string; clientId: string; redirectUri: string | undefined; codeVerifier: string };

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6). The code is spent by one conditional UPDATE; a code
 * presented again revokes every token issued from it (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
 */
export async function exchangeCode(db: Database, input: ExchangeInput, config: Config): Promise<TokenPair | { error: string; revoked?: RevokedGrant | null }> {
  const row = await db
    .select({ code: oauthCodes, clientId: oauthGrants.clientId, scopes: oauthGrants.scopes, revokedAt: oauthGrants.revokedAt })
    .from(oauthCodes)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthCodes.grantId))
    .where(eq(oauthCodes.hash, hashSecret(input.code)))
    .get();
  if (!row) return { error: "The authorization code is invalid." };
  const { code } = row;
  if (code.usedAt) {
    const revoked = await revokeGrant(db, code.grantId);
    return { error: "The authorization code was already used; every token issued from it is revoked.", revoked };
  }
  if (row.revokedAt || code.expiresAt.getTime() <= Date.now()) return { error: "The authorization code has expired." };
  if (row.clientId !== input.clientId) return { error: "The authorization code was issued to another client." };
  if ((input.redirectUri ?? "") !== code.redirectUri) return { error: "redirect_uri does not match the authorization request." };
  if (!verifyChallenge(input.codeVerifier, code.codeChallenge)) return { error: "The code_verifier does not match the code_challenge." };

  const spent = await db
    .update(oauthCodes)
    .set({ usedAt: new Date() })
    .where(and(eq(oauthCodes.hash, code.hash), isNull(oauthCodes.usedAt)))
    .returning({ hash: oauthCodes.hash });
  if (spent.length === 0) {
    const revoked = await revokeGrant(db, code.grantId);
    return { error: "The authorization code was already used; every token issued from it is revoked.", revoked };
  }
  return issueTokens(db, code.grantId, row.scopes.split(" ").filter(Boolean), config);
}
