import { eq } from "drizzle-orm";
import { deleteUserSessions, revokeUserGrants } from "../auth/oauth/grants";
import { hashPassword, verifyPassword } from "../auth/password";
import type { Database } from "../db/client";
import { users, type UserRow } from "../db/schema";
import { DomainError } from "../errors";
import { passwordKey, refill, takeOrThrow } from "../limits/limits";
import type { ProfileChanges, StaffChanges } from "./schemas";
import { getUserById } from "./users";

/**
 * Applies a user's own profile changes. A new password needs the current one, and ends every other
 * grant and browser session of the user, keeping only the grant the request came with. Password checks
 * and new phone numbers are rate-limited through `env`'s limiters (429 when none is left).
 */
export async function updateProfile(env: Cloudflare.Env, db: Database, user: UserRow, changes: ProfileChanges, currentGrantId: string): Promise<{ user: UserRow; revokedGrants: string[] }> {
  const { current_password, new_password, ...profile } = changes;
  const passwordHash = new_password === undefined ? undefined : await newPasswordHash(env, user, current_password, new_password);
  // Removing a number is never limited, so a user can always take their number off Hey.
  if (profile.phone_number && profile.phone_number !== user.phoneNumber) {
    await takeOrThrow(env, "phone", `user:${user.id}`, "Too many phone number changes");
  }
  const [updated] = await db
    .update(users)
    .set({
      firstName: profile.first_name,
      lastName: profile.last_name,
      phoneNumber: profile.phone_number,
      bio: profile.bio,
      showPresence: profile.show_presence,
      notificationPreviews: profile.notification_previews,
      passwordHash,
      updatedAt: new Date(),
    })
    .where(eq(users.id, user.id))
    .returning();
  let revokedGrants: string[] = [];
  if (passwordHash) {
    revokedGrants = await revokeUserGrants(db, user.id, currentGrantId);
    await deleteUserSessions(db, user.id);
  }
  return { user: updated!, revokedGrants };
}

/**
 * The hash of `next` once `current` proves the user knows their password. The check first spends a
 * guess from the account's bucket, the one the sign-in page spends (src/auth/oauth/authorize.ts), so
 * a stolen token guesses no faster than the sign-in page allows; a right password refills it, as
 * signing in does.
 */
async function newPasswordHash(env: Cloudflare.Env, user: UserRow, current: string | undefined, next: string): Promise<string> {
  if (next.toLowerCase() === user.email) throw fieldError("new_password", "The password must not be the email address.");
  if (!current) throw fieldError("current_password", "Enter the current password to set a new one.");
  await checkCurrentPassword(env, user, current);
  return hashPassword(next);
}

/** Throws 400 unless `current` is the user's password, spending a guess from the account's bucket (429 when none is left). */
export async function checkCurrentPassword(env: Cloudflare.Env, user: UserRow, current: string): Promise<void> {
  const guesses = passwordKey(user.email);
  await takeOrThrow(env, "password", guesses, "Too many password attempts for this account");
  if (!(await verifyPassword(current, user.passwordHash))) throw fieldError("current_password", "The current password is wrong.");
  await refill(env, "password", guesses);
}

const fieldError = (path: string, message: string) => new DomainError(400, message, [{ path, message }]);

/** Staff changes to another user; deactivating ends all of the user's tokens and sessions at once. */
export async function updateUserFlags(db: Database, id: number, changes: StaffChanges): Promise<{ user: UserRow; revokedGrants: string[] }> {
  const existing = await getUserById(db, id);
  if (!existing) throw new DomainError(404, "No such user.");
  const [user] = await db
    .update(users)
    .set({ isActive: changes.is_active, isStaff: changes.is_staff, updatedAt: new Date() })
    .where(eq(users.id, id))
    .returning();
  let revokedGrants: string[] = [];
  if (changes.is_active === false) {
    revokedGrants = await revokeUserGrants(db, id);
    await deleteUserSessions(db, id);
  }
  return { user: user!, revokedGrants };
}
