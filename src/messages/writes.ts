// Statements the conversation's room runs against the main database about its messages: the summary the
// chat list reads, and watermarks. The messages themselves are in the shard (src/messages/store.ts).
import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversations, mentions, participants } from "../db/schema";
import { onlineAmong } from "../presence/presence";
import type { MessageRow } from "./store";
import { batch, compile, qb } from "../db/compiled";

/**
 * Moves a participant's watermarks forward only, never past `lastSeq` (the room's, which the row's copy
 * may trail by a flush still being recorded); read implies delivered. Returns the watermarks as they
 * stand afterwards, and (from the same batch) whether the participant has a stream open to be told;
 * null when they are not a participant.
 */
export async function moveWatermarks(db: Database, conversationId: number, userId: number, marks: { deliveredUpTo: number; readUpTo: number; lastSeq: number }, now: Date) {
  const read = Math.min(marks.readUpTo, marks.lastSeq);
  const delivered = Math.min(Math.max(marks.deliveredUpTo, marks.readUpTo), marks.lastSeq);
  const [[row], online, [unread]] = await batch(db, [
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
    unreadMentions(db, conversationId, userId),
  ]);
  return row ? { ...row, online: online.length > 0, mentions: unread?.n ?? 0 } : null;
}

/** The statement counting a participant's unread mentions in a conversation (after their read watermark). */
function unreadMentions(db: Database, conversationId: number, userId: number) {
  return db
    .select({ n: sql<number>`count(*)` })
    .from(mentions)
    .innerJoin(participants, and(eq(participants.conversationId, mentions.conversationId), eq(participants.userId, mentions.userId)))
    .where(and(eq(mentions.userId, userId), eq(mentions.conversationId, conversationId), sql`${mentions.seq} > ${participants.readSeq}`));
}

/** A message's mentions as the main database keeps them: its seq and who it mentions. */
export type MentionRow = { seq: number; mentions: number[] | null };

const mentionsInsert = compile(["conversationId", "pairs"], (p) =>
  qb
    .insert(mentions)
    .select(
      qb
        .select({ userId: sql<number>`json_extract(j.value, '$.u')`.as("user_id"), conversationId: sql<number>`${p.conversationId}`.as("conversation_id"), seq: sql<number>`json_extract(j.value, '$.s')`.as("seq") })
        .from(sql`json_each(${p.pairs}) j`)
        // A mention of someone who has left meanwhile is not recorded.
        .where(sql`EXISTS (SELECT 1 FROM ${participants} p WHERE p.conversation_id = ${p.conversationId} AND p.user_id = json_extract(j.value, '$.u'))`),
    )
    .onConflictDoNothing(),
);

/** The statement recording who the given messages mention (the chat list counts the unread ones). */
export function mentionsRecorded(db: Database, conversationId: number, rows: MentionRow[]) {
  const pairs = rows.flatMap((r) => (r.mentions ?? []).map((u) => ({ u, s: r.seq })));
  return mentionsInsert.bind(db, { conversationId, pairs: JSON.stringify(pairs) });
}

/** The statement forgetting the mentions of a message (before an edit's are recorded, or once it is deleted). */
export function mentionsForgotten(db: Database, conversationId: number, seq: number) {
  return db.delete(mentions).where(and(eq(mentions.conversationId, conversationId), eq(mentions.seq, seq)));
}

/** A watermark raise a flush owes: user `u` has seq `d` delivered and `r` read. */
export type Raise = { u: number; d: number; r: number };

/**
 * The statement raising participants' watermarks to what a flush settled (senders have read their own
 * messages, connected members have them delivered); never lowers one. Returns them afterwards.
 */
const raisesUpdate = compile(["conversationId", "raises", "now"], (p) => {
  const of = (key: "d" | "r") => sql`(SELECT json_extract(j.value, '$.${sql.raw(key)}') FROM json_each(${p.raises}) j WHERE json_extract(j.value, '$.u') = ${participants.userId})`;
  return qb
    .update(participants)
    .set({
      deliveredAt: sql`CASE WHEN ${of("d")} > ${participants.deliveredSeq} THEN ${p.now} ELSE ${participants.deliveredAt} END`,
      deliveredSeq: sql`max(${participants.deliveredSeq}, ${of("d")})`,
      readAt: sql`CASE WHEN ${of("r")} > ${participants.readSeq} THEN ${p.now} ELSE ${participants.readAt} END`,
      readSeq: sql`max(${participants.readSeq}, ${of("r")})`,
    })
    .where(and(eq(participants.conversationId, p.conversationId), sql`${participants.userId} IN (SELECT json_extract(value, '$.u') FROM json_each(${p.raises}))`))
    .returning({ userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq });
});

export const watermarksRaised = (db: Database, conversationId: number, raises: Raise[], now: Date) =>
  raisesUpdate.bind(db, { conversationId, raises: JSON.stringify(raises), now: now.getTime() });

const summaryOf = (m: MessageRow) => ({
  lastSeq: m.seq,
  lastMessageAt: m.sentAt,
  lastMessageId: m.id,
  lastSenderId: m.senderId,
  lastBody: m.body,
  lastClientMessageId: m.clientMessageId,
  lastEditedAt: m.editedAt,
  lastDeleted: m.deleted,
});

/**
 * The statement copying a conversation's newest message to its row (the chat list reads these columns),
 * unless a newer one is there already.
 */
const advance = compile(["conversationId", "lastSeq", "lastMessageAt", "lastMessageId", "lastSenderId", "lastBody", "lastClientMessageId", "lastEditedAt", "lastDeleted"], (p) =>
  qb
    .update(conversations)
    // max: a repair from the shard (see ConversationState.load) must not move a later rename's activity back.
    .set({
      lastSeq: sql`${p.lastSeq}`,
      lastMessageAt: sql`${p.lastMessageAt}`,
      lastMessageId: sql`${p.lastMessageId}`,
      lastSenderId: sql`${p.lastSenderId}`,
      lastBody: sql`${p.lastBody}`,
      lastClientMessageId: sql`${p.lastClientMessageId}`,
      lastEditedAt: sql`${p.lastEditedAt}`,
      lastDeleted: sql`${p.lastDeleted}`,
      lastActivityAt: sql`max(${conversations.lastActivityAt}, ${p.lastMessageAt})`,
    })
    .where(and(eq(conversations.id, p.conversationId), lt(conversations.lastSeq, p.lastSeq))),
);

export function conversationAdvanced(db: Database, conversationId: number, last: MessageRow) {
  const summary = summaryOf(last);
  // Bound as D1 stores them: times in ms, flags as 0 or 1.
  return advance.bind(db, { conversationId, ...summary, lastMessageAt: summary.lastMessageAt.getTime(), lastEditedAt: summary.lastEditedAt?.getTime() ?? null, lastDeleted: summary.lastDeleted ? 1 : 0 });
}

/** The statement updating the copy of the conversation's last message after an edit or delete of it. */
export function lastMessageChanged(db: Database, conversationId: number, message: MessageRow) {
  return db
    .update(conversations)
    .set({ lastBody: message.body, lastEditedAt: message.editedAt, lastDeleted: message.deleted })
    .where(and(eq(conversations.id, conversationId), eq(conversations.lastMessageId, message.id)));
}
