// One-time password reset links, for users who forgot theirs where Hey sends no email: staff issue a link
// (30 minutes, single use, only its hash stored) and hand it over; the page it opens sets a new password.
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { passwordResets, users } from "../db/schema";
import { deleteUserSessions, revokeUserGrants } from "./oauth/grants";
import { hashSecret, randomToken } from "./secrets";
import { batch } from "../db/compiled";

export const RESET_MINUTES = 30;

/** A new link secret for the user; any earlier unused link of theirs stops working. */
export async function issueReset(db: Database, userId: number, issuedBy: number, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + RESET_MINUTES * 60_000);
  await batch(db, [
    db.delete(passwordResets).where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt))),
    db.insert(passwordResets).values({ hash: hashSecret(token), userId, issuedBy, expiresAt }),
  ]);
  return { token, expiresAt };
}

const usable = (token: string, now: Date) => and(eq(passwordResets.hash, hashSecret(token)), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now));

/** The account a link resets, while the link is unused and unexpired; null otherwise. */
export async function resetTarget(db: Database, token: string, now = new Date()): Promise<{ email: string } | null> {
  const [row] = await db.select({ email: users.email }).from(passwordResets).innerJoin(users, eq(users.id, passwordResets.userId)).where(usable(token, now));
  return row ?? null;
}

/**
 * Spends the link: the password changes and the link is marked used in one transaction, only while it is
 * usable (two submissions: one wins); then every grant and sign-in session of the user ends, as after a
 * password change. Returns the user's id and the ended grants, or null when the link was not usable.
 */
export async function spendReset(db: Database, token: string, passwordHash: string, now = new Date()): Promise<{ userId: number; grantIds: string[] } | null> {
  const target = db.select({ userId: passwordResets.userId }).from(passwordResets).where(usable(token, now));
  const [, spent] = await batch(db, [
    db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, sql`(${target})`)),
    db.update(passwordResets).set({ usedAt: now }).where(usable(token, now)).returning({ userId: passwordResets.userId }),
  ]);
  const userId = spent[0]?.userId;
  if (userId === undefined) return null;
  const grantIds = await revokeUserGrants(db, userId);
  await deleteUserSessions(db, userId);
  return { userId, grantIds };
}
