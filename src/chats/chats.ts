import { and, count, desc, eq, gt } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { membersOf, toConversationResource } from "../conversations/conversations";
import type { Database } from "../db/client";
import { conversations, messages, participants, users } from "../db/schema";
import { watermarksOf } from "../messages/listing";
import { toMessageResource } from "../messages/resource";
import { statusView } from "../messages/status";

const sender = alias(users, "sender");

/**
 * The chat list: each of the user's conversations with its last message and the user's unread count,
 * newest activity first. Unread is last_seq − read_seq (a send moves the sender's own read watermark),
 * and the last message is a point lookup on (conversation_id, seq): no query per row, no scan of messages.
 */
export async function listChats(db: Database, userId: number, options: { unreadOnly: boolean; offset: number; limit: number }) {
  const where = and(eq(participants.userId, userId), options.unreadOnly ? gt(conversations.lastSeq, participants.readSeq) : undefined);
  const [total] = await db.select({ n: count() }).from(participants).innerJoin(conversations, eq(conversations.id, participants.conversationId)).where(where);
  const rows = await db
    .select({ conversation: conversations, readSeq: participants.readSeq, message: messages, sender: { id: sender.id, firstName: sender.firstName, lastName: sender.lastName } })
    .from(participants)
    .innerJoin(conversations, eq(conversations.id, participants.conversationId))
    .leftJoin(messages, and(eq(messages.conversationId, conversations.id), eq(messages.seq, conversations.lastSeq)))
    .leftJoin(sender, eq(sender.id, messages.senderId))
    .where(where)
    .orderBy(desc(conversations.lastActivityAt), desc(conversations.id))
    .limit(options.limit)
    .offset(options.offset);

  const ids = rows.map((r) => r.conversation.id);
  const members = await membersOf(db, ids);
  const marks = await watermarksOf(db, ids);
  const results = rows.map((r) => {
    const view = statusView(userId, marks.filter((m) => m.conversationId === r.conversation.id));
    return {
      conversation: toConversationResource(r.conversation, members.get(r.conversation.id) ?? []),
      last_message: r.message && r.sender ? toMessageResource({ ...r.message, sender: r.sender }, view) : null,
      unread_count: Math.max(0, r.conversation.lastSeq - r.readSeq),
    };
  });
  return { count: total?.n ?? 0, results };
}
