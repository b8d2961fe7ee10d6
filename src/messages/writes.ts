// Statements the conversation's Durable Object runs against D1 for everything but new messages.
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversations, messages, participants } from "../db/schema";

const lastSeqOf = (conversationId: number) => sql`(SELECT ${conversations.lastSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})`;

/**
 * Moves the conversation's change counter and stamps it on one message, in one transaction, so a
 * resuming client can ask for every change after the counter it last saw.
 */
export async function changeMessage(
  db: Database,
  conversationId: number,
  messageId: number,
  change: { body: string; editedAt?: Date; deleted?: boolean },
): Promise<boolean> {
  const [, updated] = await db.batch([
    db.update(conversations).set({ changeSeq: sql`${conversations.changeSeq} + 1` }).where(eq(conversations.id, conversationId)),
    db
      .update(messages)
      .set({
        body: change.body,
        editedAt: change.editedAt,
        deleted: change.deleted,
        changeSeq: sql`(SELECT ${conversations.changeSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})`,
      })
      .where(and(eq(messages.id, messageId), eq(messages.conversationId, conversationId), eq(messages.deleted, false)))
      .returning({ id: messages.id }),
  ]);
  return updated.length > 0;
}

/**
 * Moves a participant's watermarks forward only, never past the last message; read implies delivered.
 * Returns the watermarks as they stand afterwards.
 */
export async function moveWatermarks(db: Database, conversationId: number, userId: number, deliveredUpTo: number, readUpTo: number, now: Date) {
  const read = sql`min(${readUpTo}, ${lastSeqOf(conversationId)})`;
  const delivered = sql`min(max(${deliveredUpTo}, ${readUpTo}), ${lastSeqOf(conversationId)})`;
  const [row] = await db
    .update(participants)
    .set({
      readAt: sql`CASE WHEN ${read} > ${participants.readSeq} THEN ${now.getTime()} ELSE ${participants.readAt} END`,
      readSeq: sql`max(${participants.readSeq}, ${read})`,
      deliveredAt: sql`CASE WHEN ${delivered} > ${participants.deliveredSeq} THEN ${now.getTime()} ELSE ${participants.deliveredAt} END`,
      deliveredSeq: sql`max(${participants.deliveredSeq}, ${delivered})`,
    })
    .where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId)))
    .returning({ deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq });
  return row ?? null;
}

/** The statement moving a sender's own watermarks to its newest message (a send implies having read). */
export function senderWatermarks(db: Database, conversationId: number, userId: number, seq: number, now: Date) {
  return db
    .update(participants)
    .set({
      readSeq: sql`max(${participants.readSeq}, ${seq})`,
      readAt: now,
      deliveredSeq: sql`max(${participants.deliveredSeq}, ${seq})`,
      deliveredAt: now,
    })
    .where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId)));
}

/** The statement recording a flush on the conversation row: the chat list reads these columns. */
export function conversationAdvanced(db: Database, conversationId: number, lastSeq: number, at: Date) {
  return db.update(conversations).set({ lastSeq, lastMessageAt: at, lastActivityAt: at }).where(eq(conversations.id, conversationId));
}
