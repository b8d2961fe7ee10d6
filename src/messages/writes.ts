// Statements the conversation's Durable Object runs against D1 for everything but new messages.
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversations, messages, participants } from "../db/schema";
import { onlineAmong } from "../presence/presence";
import { selectMessage, type StoredMessage } from "./store";

const lastSeqOf = (conversationId: number) => sql`(SELECT ${conversations.lastSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})`;

export type Change = { kind: "edit"; body: string } | { kind: "delete"; byOwner: boolean };

/**
 * Edits (its sender only) or tombstones (its sender, or the owner) a message, in one D1 batch: the
 * conversation's change counter moves and is stamped on the message only when the change is allowed,
 * so a resuming client can ask for every change after the counter it last saw. Returns the message as
 * it stands afterwards (its sender joined) and whether this call changed it, and (from the same batch) which of
 * `memberIds` have a user stream open; undefined when there is no such message.
 */
export async function changeMessage(
  db: Database,
  conversationId: number,
  messageId: number,
  userId: number,
  change: Change,
  memberIds: number[],
): Promise<{ message: StoredMessage; changed: boolean; online: number[] } | undefined> {
  const allowed = and(
    eq(messages.id, messageId),
    eq(messages.conversationId, conversationId),
    eq(messages.deleted, false),
    change.kind === "edit" || !change.byOwner ? eq(messages.senderId, userId) : undefined,
  );
  const [, changed, [message], online] = await db.batch([
    db
      .update(conversations)
      .set({ changeSeq: sql`${conversations.changeSeq} + 1` })
      .where(and(eq(conversations.id, conversationId), sql`EXISTS (SELECT 1 FROM ${messages} WHERE ${allowed})`)),
    db
      .update(messages)
      .set(
        change.kind === "edit"
          ? { body: change.body, editedAt: new Date(), changeSeq: sql`(SELECT ${conversations.changeSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})` }
          : { body: "", deleted: true, changeSeq: sql`(SELECT ${conversations.changeSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})` },
      )
      .where(allowed)
      .returning({ id: messages.id }),
    selectMessage(db, conversationId, messageId),
    onlineAmong(db, memberIds),
  ]);
  return message && { message, changed: changed.length > 0, online: online.map((o) => o.userId) };
}

/**
 * Moves a participant's watermarks forward only, never past the last message; read implies delivered.
 * Returns the watermarks as they stand afterwards, and (from the same batch) whether the participant has
 * a stream open to be told; null when they are not a participant.
 */
export async function moveWatermarks(db: Database, conversationId: number, userId: number, deliveredUpTo: number, readUpTo: number, now: Date) {
  const read = sql`min(${readUpTo}, ${lastSeqOf(conversationId)})`;
  const delivered = sql`min(max(${deliveredUpTo}, ${readUpTo}), ${lastSeqOf(conversationId)})`;
  const [[row], online] = await db.batch([
    db
    .update(participants)
    .set({
      readAt: sql`CASE WHEN ${read} > ${participants.readSeq} THEN ${now.getTime()} ELSE ${participants.readAt} END`,
      readSeq: sql`max(${participants.readSeq}, ${read})`,
      deliveredAt: sql`CASE WHEN ${delivered} > ${participants.deliveredSeq} THEN ${now.getTime()} ELSE ${participants.deliveredAt} END`,
      deliveredSeq: sql`max(${participants.deliveredSeq}, ${delivered})`,
    })
    .where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId)))
    .returning({ deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq }),
    onlineAmong(db, [userId]),
  ]);
  return row ? { ...row, online: online.length > 0 } : null;
}

/** The conversation's highest seq, read inside the flush's own transaction. */
const topSeq = (conversationId: number) => sql`(SELECT coalesce(max(${messages.seq}), 0) FROM ${messages} WHERE ${messages.conversationId} = ${conversationId})`;

/**
 * The statement moving every sender of a flush to its newest new message (a send implies having read
 * what came before); returns the watermarks as they stand afterwards.
 */
export function sendersCaughtUp(db: Database, conversationId: number, afterSeq: number, now: Date) {
  const newest = sql`(SELECT max(${messages.seq}) FROM ${messages} WHERE ${messages.conversationId} = ${conversationId} AND ${messages.senderId} = ${participants.userId} AND ${messages.seq} > ${afterSeq})`;
  return db
    .update(participants)
    .set({
      readSeq: sql`max(${participants.readSeq}, ${newest})`,
      readAt: now,
      deliveredSeq: sql`max(${participants.deliveredSeq}, ${newest})`,
      deliveredAt: now,
    })
    .where(and(eq(participants.conversationId, conversationId), sql`${newest} IS NOT NULL`))
    .returning({ userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq });
}

/**
 * The statement marking a flush delivered to the participants with a live socket (they get it as it is
 * broadcast), when the flush stored anything; returns their watermarks afterwards.
 */
export function deliveredToConnected(db: Database, conversationId: number, userIds: number[], afterSeq: number, now: Date) {
  return db
    .update(participants)
    .set({ deliveredSeq: sql`max(${participants.deliveredSeq}, ${topSeq(conversationId)})`, deliveredAt: now })
    .where(
      and(
        eq(participants.conversationId, conversationId),
        sql`${participants.userId} IN (SELECT value FROM json_each(${JSON.stringify(userIds)}))`,
        sql`${participants.deliveredSeq} < ${topSeq(conversationId)}`,
        sql`${topSeq(conversationId)} > ${afterSeq}`,
      ),
    )
    .returning({ userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq });
}

/** The statement recording a flush on the conversation row (the chat list reads these columns), if it stored anything. */
export function conversationAdvanced(db: Database, conversationId: number, at: Date) {
  return db
    .update(conversations)
    .set({ lastSeq: topSeq(conversationId), lastMessageAt: at, lastActivityAt: at })
    .where(and(eq(conversations.id, conversationId), sql`${conversations.lastSeq} < ${topSeq(conversationId)}`));
}
