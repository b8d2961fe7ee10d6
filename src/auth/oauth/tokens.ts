import { and, eq, gt, isNull } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { oauthGrants, oauthTokens, users } from "../../db/schema";
import type { AuthContext } from "../../http/auth-context";
import { hashSecret, randomToken } from "../secrets";
import { revokeGrant, type RevokedGrant } from "./grants";

export type TokenPair = { access_token: string; token_type: "Bearer"; expires_in: number; refresh_token: string; scope: string };

/**
 * Issues an access token and a refresh token for a grant, as the RFC 6749 §5.1 response body (whose
 * `scope` is the access token's). `refreshScopes` defaults to `scopes`.
 */
export async function issueTokens(db: Database, grantId: string, scopes: readonly string[], config: Config, refreshScopes: readonly string[] = scopes): Promise<TokenPair> {
  const now = Date.now();
  const access = randomToken();
  const refresh = randomToken();
  const scope = scopes.join(" ");
  await db.insert(oauthTokens).values([
    { hash: hashSecret(access), kind: "access", grantId, scopes: scope, createdAt: new Date(now), expiresAt: new Date(now + config.ACCESS_TOKEN_TTL_SECONDS * 1000) },
    { hash: hashSecret(refresh), kind: "refresh", grantId, scopes: refreshScopes.join(" "), createdAt: new Date(now), expiresAt: new Date(now + config.REFRESH_TOKEN_TTL_SECONDS * 1000) },
  ]);
  return { access_token: access, token_type: "Bearer", expires_in: config.ACCESS_TOKEN_TTL_SECONDS, refresh_token: refresh, scope };
}

/** A token with its grant, as far as the caller needs it; null when unknown. */
function findToken(db: Database, token: string) {
  return findTokenByHash(db, hashSecret(token));
}

async function findTokenByHash(db: Database, hash: string) {
  const row = await db
    .select({
      hash: oauthTokens.hash,
      kind: oauthTokens.kind,
      scopes: oauthTokens.scopes,
      createdAt: oauthTokens.createdAt,
      expiresAt: oauthTokens.expiresAt,
      rotatedAt: oauthTokens.rotatedAt,
      revokedAt: oauthTokens.revokedAt,
      grantId: oauthGrants.id,
      grantRevokedAt: oauthGrants.revokedAt,
      clientId: oauthGrants.clientId,
      userId: oauthGrants.userId,
      user: users,
    })
    .from(oauthTokens)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
    .innerJoin(users, eq(users.id, oauthGrants.userId))
    .where(eq(oauthTokens.hash, hash))
    .get();
  return row ?? null;
}

type FoundToken = NonNullable<Awaited<ReturnType<typeof findTokenByHash>>>;

const isLive = (t: FoundToken, now = Date.now()) =>
  !t.revokedAt && !t.grantRevokedAt && !t.rotatedAt && t.user.isActive && t.expiresAt.getTime() > now;

/** The identity behind a live access token, or null (unknown, expired, revoked, or inactive user). */
export async function verifyAccessToken(db: Database, token: string): Promise<AuthContext | null> {
  const t = await findToken(db, token);
  if (!t || t.kind !== "access" || !isLive(t)) return null;
  const { user } = t;
  return { userId: t.userId, user, grantId: t.grantId, tokenHash: t.hash, clientId: t.clientId, scopes: t.scopes.split(" ").filter(Boolean), expiresAt: t.expiresAt.getTime() };
}

/**
 * True while the access token with this hash is live (not expired, revoked, rotated away with its grant,
 * or its user deactivated): a ticket minted with a token is only good while the token is.
 */
export async function accessTokenLive(db: Database, hash: string): Promise<boolean> {
  const t = await findTokenByHash(db, hash);
  return !!t && t.kind === "access" && isLive(t);
}

export type RefreshResult = { tokens: TokenPair } | { error: "invalid_grant" | "invalid_scope"; description: string; revoked?: RevokedGrant | null } | { limited: true };

/** RFC 9700 §4.14.2, said to the client whose refresh lost: it must sign in again. */
export const REUSED_REFRESH =
  "This refresh token was already used, so its grant has been revoked (refresh token reuse detection, RFC 9700 §4.14.2). " +
  "Sign in again, and send one refresh at a time.";

/**
 * Spends a refresh token and issues a new pair (rotation). The spend is one conditional UPDATE, so of
 * two concurrent refreshes exactly one wins; presenting a spent token revokes the grant (RFC 9700 §4.14.2),
 * so the winner's new tokens die too: clients must serialize refreshes. `admit` is asked once the token is
 * known to exist, with its grant (the per-grant limit), and stops the refresh when it answers false.
 */
export async function refreshTokens(
  db: Database,
  token: string,
  clientId: string,
  requested: readonly string[] | null,
  config: Config,
  admit: (grantId: string) => Promise<boolean> = async () => true,
): Promise<RefreshResult> {
  const t = await findToken(db, token);
  const invalid = { error: "invalid_grant", description: "The refresh token is invalid, expired or revoked." } as const;
  if (!t || t.kind !== "refresh" || t.clientId !== clientId) return invalid;
  if (!(await admit(t.grantId))) return { limited: true };
  const reused = async () => ({ error: "invalid_grant", description: REUSED_REFRESH, revoked: await revokeGrant(db, t.grantId) }) as const;
  if (t.rotatedAt) return reused();
  if (!isLive(t)) return invalid;
  const granted = t.scopes.split(" ").filter(Boolean);
  const scopes = requested ?? granted;
  // RFC 6749 §6: a refresh may narrow the scope, never widen it.
  if (!scopes.every((s) => granted.includes(s))) return { error: "invalid_scope", description: "A refresh cannot widen the scope." };
  const spent = await db
    .update(oauthTokens)
    .set({ rotatedAt: new Date() })
    .where(and(eq(oauthTokens.hash, t.hash), isNull(oauthTokens.rotatedAt), isNull(oauthTokens.revokedAt), gt(oauthTokens.expiresAt, new Date())))
    .returning({ hash: oauthTokens.hash });
  // Lost a race with another refresh of the same token: that is reuse too.
  if (spent.length === 0) return reused();
  // RFC 6749 §6: the new refresh token keeps exactly the scope of the one presented; only the access
  // token is narrowed. Otherwise one narrowed refresh would lose the rest of the grant for good.
  return { tokens: await issueTokens(db, t.grantId, scopes, config, granted) };
}

/**
 * RFC 7009 revocation on behalf of `clientId`. A refresh token ends its whole grant; an access token ends
 * itself. Tokens of other clients and unknown tokens are left alone, and the caller answers 200 either way.
 */
export async function revokeToken(db: Database, token: string, clientId: string): Promise<{ userId: number; grantId: string } | null> {
  const t = await findToken(db, token);
  if (!t || t.clientId !== clientId) return null;
  if (t.kind === "refresh") await revokeGrant(db, t.grantId);
  else await db.update(oauthTokens).set({ revokedAt: new Date() }).where(eq(oauthTokens.hash, t.hash));
  return { userId: t.userId, grantId: t.grantId };
}

/**
 * RFC 7662 §2.2 introspection response for `caller`. §4: a client learns only about its own tokens
 * (another client's token answers inactive, so nothing about its user leaks) unless staff gave it the
 * `introspect` permission, as a resource server needs.
 */
export async function introspectToken(db: Database, token: string, issuer: string, caller: { id: string; introspect: boolean }) {
  const t = await findToken(db, token);
  if (!t || !isLive(t) || (t.clientId !== caller.id && !caller.introspect)) return { active: false as const };
  return {
    active: true as const,
    scope: t.scopes,
    client_id: t.clientId,
    username: t.user.email,
    token_type: t.kind === "access" ? "Bearer" : "refresh_token",
    exp: Math.floor(t.expiresAt.getTime() / 1000),
    iat: Math.floor(t.createdAt.getTime() / 1000),
    sub: String(t.userId),
    iss: issuer,
  };
}
