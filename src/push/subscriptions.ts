import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { pushSubscriptions } from "../db/schema";

export type NewSubscription = { endpoint: string; p256dh: string; auth: string };

/**
 * Stores a browser's subscription for the user. An endpoint is one browser profile: registered again (new
 * keys, or now signed in as someone else) it is replaced, so a shared browser notifies only its current user.
 * `created` is false when the user had registered exactly this endpoint already.
 */
export async function saveSubscription(db: Database, userId: number, input: NewSubscription) {
  const [had] = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.endpoint, input.endpoint));
  if (had && had.userId === userId && had.p256dh === input.p256dh && had.auth === input.auth) return { row: had, created: false };
  const [row] = await db
    .insert(pushSubscriptions)
    .values({ id: `ps_${crypto.randomUUID().replaceAll("-", "")}`, userId, ...input, createdAt: new Date() })
    .onConflictDoUpdate({ target: pushSubscriptions.endpoint, set: { userId, p256dh: input.p256dh, auth: input.auth, createdAt: new Date() } })
    .returning();
  return { row: row!, created: had?.userId !== userId };
}

export function listSubscriptions(db: Database, userId: number) {
  return db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)).orderBy(desc(pushSubscriptions.createdAt));
}

/** Deletes the user's subscription; false when they have none with this id. */
export async function deleteSubscription(db: Database, userId: number, id: string): Promise<boolean> {
  const rows = await db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, userId))).returning({ id: pushSubscriptions.id });
  return rows.length > 0;
}

export function subscriptionById(db: Database, id: string) {
  return db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, id)).get();
}

/** The push service said the subscription is gone (404/410): forget it. */
export async function forgetSubscription(db: Database, id: string): Promise<void> {
  await db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id));
}
