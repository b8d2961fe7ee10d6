import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversations, participants, presence, pushSubscriptions, users } from "../db/schema";

export type PushTarget = { subscriptionId: string; userId: number; mutedUntil: Date | null; previews: boolean; title: string | null };

/**
 * The statement choosing who a flush may notify by push: the subscriptions of `candidates` (members with
 * no socket open on the conversation) who have no user stream open either, with their mute and preview
 * settings. Run in the flush's own batch to the main database, so it adds no round trip.
 */
export function pushTargets(db: Database, conversationId: number, candidates: number[]) {
  return db
    .select({
      subscriptionId: pushSubscriptions.id,
      userId: pushSubscriptions.userId,
      mutedUntil: participants.mutedUntil,
      previews: users.notificationPreviews,
      title: conversations.title,
    })
    .from(pushSubscriptions)
    .innerJoin(participants, and(eq(participants.conversationId, conversationId), eq(participants.userId, pushSubscriptions.userId)))
    .innerJoin(users, eq(users.id, pushSubscriptions.userId))
    .innerJoin(conversations, eq(conversations.id, conversationId))
    .where(
      and(
        sql`${pushSubscriptions.userId} IN (SELECT value FROM json_each(${JSON.stringify(candidates)}))`,
        sql`NOT EXISTS (SELECT 1 FROM ${presence} WHERE ${presence.userId} = ${pushSubscriptions.userId} AND ${presence.online} = 1)`,
      ),
    );
}
