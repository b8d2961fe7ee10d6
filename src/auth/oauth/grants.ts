import { and, eq, gt, isNull, ne } from "drizzle-orm";
import type { Database } from "../../db/client";
import { oauthGrants, oauthTokens, sessions } from "../../db/schema";
import { randomToken } from "../secrets";

/**
 * True when the user has a grant for this client, not revoked, with a refresh token still alive, that
 * covers every one of `scopes`: the user already said yes and has not taken it back.
 */
export async function hasLiveGrant(db: Database, userId: number, clientId: string, scopes: readonly string[]): Promise<boolean> {
  const rows = await db
    .select({ scopes: oauthGrants.scopes })
    .from(oauthGrants)
    .innerJoin(oauthTokens, eq(oauthTokens.grantId, oauthGrants.id))
    .where(
      and(
        eq(oauthGrants.userId, userId),
        eq(oauthGrants.clientId, clientId),
        isNull(oauthGrants.revokedAt),
        eq(oauthTokens.kind, "refresh"),
        isNull(oauthTokens.rotatedAt),
        isNull(oauthTokens.revokedAt),
        gt(oauthTokens.expiresAt, new Date()),
      ),
    );
  return rows.some((g) => scopes.every((s) => g.scopes.split(" ").includes(s)));
}

/** Records that `userId` authorized `clientId` for `scopes`; every code and token will carry its id. */
export async function createGrant(db: Database, userId: number, clientId: string, scopes: readonly string[]): Promise<string> {
  const id = randomToken();
  await db.insert(oauthGrants).values({ id, userId, clientId, scopes: scopes.join(" "), createdAt: new Date() });
  return id;
}

export type RevokedGrant = { grantId: string; userId: number };

/** Ends a grant: its codes, access tokens and refresh tokens all stop working at once. */
export async function revokeGrant(db: Database, grantId: string): Promise<RevokedGrant | null> {
  const [row] = await db
    .update(oauthGrants)
    .set({ revokedAt: new Date() })
    .where(and(eq(oauthGrants.id, grantId), isNull(oauthGrants.revokedAt)))
    .returning({ grantId: oauthGrants.id, userId: oauthGrants.userId });
  return row ?? null;
}

/** Ends every live grant of a user (all of them, or all but `keepGrantId`); returns the ended ids. */
export async function revokeUserGrants(db: Database, userId: number, keepGrantId?: string): Promise<string[]> {
  const rows = await db
    .update(oauthGrants)
    .set({ revokedAt: new Date() })
    .where(and(eq(oauthGrants.userId, userId), isNull(oauthGrants.revokedAt), keepGrantId ? ne(oauthGrants.id, keepGrantId) : undefined))
    .returning({ id: oauthGrants.id });
  return rows.map((r) => r.id);
}

/** Signs a user out of every browser session. */
export async function deleteUserSessions(db: Database, userId: number): Promise<void> {
  await db.delete(sessions).where(eq(sessions.userId, userId));
}
