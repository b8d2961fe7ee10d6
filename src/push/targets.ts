import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversations, participants, presence, pushSubscriptions, users } from "../db/schema";
import { compile, jsonValues, qb } from "../db/compiled";

export type PushTarget = { subscriptionId: string; userId: number; mutedUntil: Date | null; previews: boolean; title: string | null };

/**
 * The statement choosing who a flush may notify by push: the subscriptions of `candidates` (members with
 * no socket open on the conversation) who have no user stream open either, with their mute and preview
 * settings. Run in the flush's own batch to the main database, so it adds no round trip.
 */
const targetsRead = compile(["conversationId", "candidates"], (p) =>
  qb
    .select({
      subscriptionId: pushSubscriptions.id,
      userId: pushSubscriptions.userId,
      mutedUntil: participants.mutedUntil,
      previews: users.notificationPreviews,
      title: conversations.title,
    })
    .from(pushSubscriptions)
    .innerJoin(participants, and(eq(participants.conversationId, p.conversationId), eq(participants.userId, pushSubscriptions.userId)))
    .innerJoin(users, eq(users.id, pushSubscriptions.userId))
    .innerJoin(conversations, eq(conversations.id, p.conversationId))
    .where(
      and(
        sql`${pushSubscriptions.userId} IN ${jsonValues(p.candidates)}`,
        sql`NOT EXISTS (SELECT 1 FROM ${presence} WHERE ${presence.userId} = ${pushSubscriptions.userId} AND ${presence.online} = 1)`,
      ),
    ),
);

export const pushTargets = (db: Database, conversationId: number, candidates: number[]) => targetsRead.bind(db, { conversationId, candidates: JSON.stringify(candidates) });
