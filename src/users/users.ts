import { eq } from "drizzle-orm";
import { hashPassword, verifyPassword } from "../auth/password";
import { uniqueViolation, type Database } from "../db/client";
import { users, type UserRow } from "../db/schema";
import { DomainError } from "../errors";
import { presenceView } from "../presence/presence";
import type { PresenceRow } from "./directory";
import type { PublicUser, SignupInput, UserResource } from "./schemas";

/** The name a deleted account keeps (src/accounts/deletion.ts): its messages' tombstones show it as their sender. */
export const DELETED_NAME = { firstName: "Deleted user", lastName: "" } as const;

/** The user as the API shows it: never the password hash. */
export function toUserResource(user: UserRow): UserResource {
  return {
    id: user.id,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    phone_number: user.phoneNumber,
    bio: user.bio,
    is_active: user.isActive,
    is_staff: user.isStaff,
    show_presence: user.showPresence,
    notification_previews: user.notificationPreviews,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

/**
 * Creates a user; 409 when the email (in any letter case) is taken. Phone numbers are not unique:
 * a 409 for a taken number would tell anyone whether that number is on Hey.
 */
export async function createUser(db: Database, input: SignupInput, options: { isStaff?: boolean } = {}) {
  const now = new Date();
  const values = {
    email: input.email.toLowerCase(),
    passwordHash: await hashPassword(input.password),
    firstName: input.first_name,
    lastName: input.last_name,
    phoneNumber: input.phone_number ?? null,
    bio: input.bio ?? null,
    isStaff: options.isStaff ?? false,
    createdAt: now,
    updatedAt: now,
  };
  try {
    const [user] = await db.insert(users).values(values).returning();
    return user!;
  } catch (error) {
    if (uniqueViolation(error) !== "users.email") throw error;
    const taken = { path: "email", message: "A user with this email already exists." };
    throw new DomainError(409, taken.message, [taken]);
  }
}

export async function getUserById(db: Database, id: number): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export async function getUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.email, email.toLowerCase())).get();
}

/**
 * The active user with this email and password, or null. Costs one full password verification
 * whether or not the email exists, so the response time does not reveal registered emails.
 */
export async function authenticate(db: Database, email: string, password: string): Promise<UserRow | null> {
  const user = await getUserByEmail(db, email);
  const ok = await verifyPassword(password, user?.passwordHash ?? null);
  return ok && user?.isActive ? user : null;
}

/** Another user as people who share a conversation with them see them: no contact details or flags. */
export function toPublicUser(user: UserRow, seen: PresenceRow | null): PublicUser {
  return { id: user.id, first_name: user.firstName, last_name: user.lastName, bio: user.bio, ...presenceView(user.showPresence, seen) };
}
