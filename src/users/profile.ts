import { eq } from "drizzle-orm";
import { deleteUserSessions, revokeUserGrants } from "../auth/oauth/grants";
import { hashPassword, verifyPassword } from "../auth/password";
import type { Database } from "../db/client";
import { users, type UserRow } from "../db/schema";
import { DomainError } from "../errors";
import type { ProfileChanges, StaffChanges } from "./schemas";
import { getUserById, rethrowUserConflict } from "./users";

/**
 * Applies a user's own profile changes. A new password needs the current one, and ends every other
 * grant and browser session of the user, keeping only the grant the request came with.
 */
export async function updateProfile(db: Database, user: UserRow, changes: ProfileChanges, currentGrantId: string): Promise<{ user: UserRow; revokedGrants: string[] }> {
  const { current_password, new_password, ...profile } = changes;
  let passwordHash: string | undefined;
  if (new_password !== undefined) {
    if (!current_password || !(await verifyPassword(current_password, user.passwordHash))) {
      throw new DomainError(400, "The current password is wrong.", [{ path: "current_password", message: "The current password is wrong." }]);
    }
    if (new_password.toLowerCase() === user.email) {
      throw new DomainError(400, "The password must not be the email address.", [{ path: "new_password", message: "The password must not be the email address." }]);
    }
    passwordHash = await hashPassword(new_password);
  }
  try {
    const [updated] = await db
      .update(users)
      .set({
        firstName: profile.first_name,
        lastName: profile.last_name,
        phoneNumber: profile.phone_number,
        bio: profile.bio,
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
  } catch (error) {
    rethrowUserConflict(error);
  }
}

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
