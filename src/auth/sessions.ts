import { and, eq, gt } from "drizzle-orm";
import type { Database } from "../db/client";
import { sessions, users, type UserRow } from "../db/schema";
import { hashSecret, randomToken } from "./secrets";

/**
 * `__Host-` makes the browser insist on Secure, Path=/ and no Domain, so no sibling host can plant it.
 * Browsers treat http://localhost and 127.0.0.1 as secure contexts, so this works under `wrangler dev`.
 */
export const SESSION_COOKIE = "__Host-hey_session";
export const CSRF_COOKIE = "__Host-hey_csrf";

/** Starts a browser session; returns the cookie value (only its hash is stored). */
export async function createSession(db: Database, userId: number, ttlSeconds: number): Promise<string> {
  const token = randomToken();
  const now = Date.now();
  await db.insert(sessions).values({ hash: hashSecret(token), userId, createdAt: new Date(now), expiresAt: new Date(now + ttlSeconds * 1000) });
  return token;
}

/** The active user behind a session cookie value, or null. */
export async function sessionUser(db: Database, token: string | undefined): Promise<UserRow | null> {
  if (!token) return null;
  const row = await db
    .select({ user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.hash, hashSecret(token)), gt(sessions.expiresAt, new Date())))
    .get();
  return row?.user.isActive ? row.user : null;
}

/** Ends the browser session behind a cookie value, if there is one. */
export async function endSession(db: Database, token: string | undefined): Promise<void> {
  if (token) await db.delete(sessions).where(eq(sessions.hash, hashSecret(token)));
}
