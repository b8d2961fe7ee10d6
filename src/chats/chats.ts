import { and, count, desc, eq, gt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { byConversation, membersQuery, toConversationResource } from "../conversations/conversations";
import type { Database } from "../db/client";
import { conversations, messages, participants, users } from "../db/schema";
import { watermarksQuery } from "../messages/listing";
import { toMessageResource } from "../messages/resource";
import { statusView } from "../messages/status";
import type { StoredMessage } from "../messages/store";

const sender = alias(users, "sender");

// Aliased: in a D1 batch drizzle maps rows by column name, and the message's `id` and `change_seq`
// (and its sender's `id`) would collapse into the conversation's.
const lastMessageColumns = {
  lastId: sql<number | null>`${messages.id}`.as("last_id"),
  lastSeq: sql<number>`${messages.seq}`.as("last_seq_of_message"),
  lastSenderId: sql<number>`${messages.senderId}`.as("last_sender_id"),
  lastBody: sql<string>`${messages.body}`.as("last_body"),
  lastClientMessageId: sql<string | null>`${messages.clientMessageId}`.as("last_client_message_id"),
  lastSentAt: sql<number>`${messages.sentAt}`.as("last_sent_at"),
  lastEditedAt: sql<number | null>`${messages.editedAt}`.as("last_edited_at"),
  lastDeleted: sql<number>`${messages.deleted}`.as("last_deleted"),
  lastFirstName: sql<string>`${sender.firstName}`.as("last_first_name"),
  lastLastName: sql<string>`${sender.lastName}`.as("last_last_name"),
};

type LastMessageRow = { [K in keyof typeof lastMessageColumns]: (typeof lastMessageColumns)[K]["_"]["type"] } & { conversation: { id: number } };

function lastMessageOf(r: LastMessageRow): StoredMessage {
  return {
    id: r.lastId!,
    conversationId: r.conversation.id,
    seq: r.lastSeq,
    senderId: r.lastSenderId,
    body: r.lastBody,
    clientMessageId: r.lastClientMessageId,
    sentAt: new Date(r.lastSentAt),
    editedAt: r.lastEditedAt === null ? null : new Date(r.lastEditedAt),
    deleted: Boolean(r.lastDeleted),
    changeSeq: 0,
    sender: { id: r.lastSenderId, firstName: r.lastFirstName, lastName: r.lastLastName },
  };
}

/**
 * The chat list: each of the user's conversations with its last message and the user's unread count,
 * newest activity first. Unread is last_seq − read_seq (a send moves the sender's own read watermark),
 * and the last message is a point lookup on (conversation_id, seq): no query per row, no scan of messages.
 */
export async function listChats(db: Database, userId: number, options: { unreadOnly: boolean; offset: number; limit: number; conversationId?: number }) {
  const where = and(
    eq(participants.userId, userId),
    options.unreadOnly ? gt(conversations.lastSeq, participants.readSeq) : undefined,
    options.conversationId !== undefined ? eq(participants.conversationId, options.conversationId) : undefined,
  );
  const mine = () => db.select({ id: conversations.id }).from(participants).innerJoin(conversations, eq(conversations.id, participants.conversationId)).where(where);
  const order = [desc(conversations.lastActivityAt), desc(conversations.id)] as const;
  // The page's conversation ids as a subquery, so members and watermarks come in the same batch.
  const pageIds = sql`${mine().orderBy(...order).limit(options.limit).offset(options.offset)}`;
  const [[total], rows, members, marks] = await db.batch([
    db.select({ n: count() }).from(participants).innerJoin(conversations, eq(conversations.id, participants.conversationId)).where(where),
    db
      .select({ conversation: conversations, readSeq: participants.readSeq, ...lastMessageColumns })
      .from(participants)
      .innerJoin(conversations, eq(conversations.id, participants.conversationId))
      .leftJoin(messages, and(eq(messages.conversationId, conversations.id), eq(messages.seq, conversations.lastSeq)))
      .leftJoin(sender, eq(sender.id, messages.senderId))
      .where(where)
      .orderBy(...order)
      .limit(options.limit)
      .offset(options.offset),
    membersQuery(db, pageIds),
    watermarksQuery(db, pageIds),
  ]);
  const byId = byConversation(members);
  const results = rows.map((r) => {
    const view = statusView(userId, marks.filter((m) => m.conversationId === r.conversation.id));
    return {
      conversation: toConversationResource(r.conversation, byId.get(r.conversation.id) ?? []),
      last_message: r.lastId === null ? null : toMessageResource(lastMessageOf(r), view),
      unread_count: Math.max(0, r.conversation.lastSeq - r.readSeq),
    };
  });
  return { count: total?.n ?? 0, results };
}
