import { and, count, desc, eq, gt, sql, type Placeholder } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { toConversationResource } from "../conversations/conversations";
import type { Database } from "../db/client";
import { compile, qb } from "../db/compiled";
import { viewerByToken } from "../auth/oauth/tokens";
import { batchAs, type Viewer } from "../http/auth-context";
import { blocks, conversations, mentions, participants, users, type ConversationRow } from "../db/schema";
import { hideBlockedChat } from "../messages/blocked";
import { toChatMessageResource } from "../messages/resource";
import { statusView, type Watermark } from "../messages/status";
import type { Sender } from "../messages/store";

const sender = alias(users, "sender");

// Aliased: in a D1 batch drizzle maps rows by column name, and the sender's `id` would collapse into the conversation's.
const senderColumns = { senderFirstName: sql<string | null>`${sender.firstName}`.as("sender_first_name"), senderLastName: sql<string | null>`${sender.lastName}`.as("sender_last_name") };

/** The copy of a conversation's last message on its row, as a message. */
function lastMessageOf(c: ConversationRow, firstName: string | null, lastName: string | null) {
  return {
    id: c.lastMessageId!,
    conversationId: c.id,
    seq: c.lastSeq,
    senderId: c.lastSenderId!,
    body: c.lastBody ?? "",
    clientMessageId: c.lastClientMessageId,
    sentAt: c.lastMessageAt!,
    editedAt: c.lastEditedAt,
    deleted: c.lastDeleted,
    sender: { id: c.lastSenderId!, firstName: firstName ?? "", lastName: lastName ?? "" },
  };
}

/** The caller's unread mentions in the conversation of a `participants` row (an index range). */
const unreadMentions = sql<number>`(SELECT count(*) FROM ${mentions} WHERE ${mentions.userId} = ${participants.userId} AND ${mentions.conversationId} = ${participants.conversationId} AND ${mentions.seq} > ${participants.readSeq})`.as("unread_mentions");

/** Whether the caller blocked the sender of the conversation's last message (a primary-key lookup). */
const lastSenderBlocked = sql<number>`EXISTS (SELECT 1 FROM ${blocks} WHERE ${blocks.blockerId} = ${participants.userId} AND ${blocks.blockedId} = ${conversations.lastSenderId})`.as("last_sender_blocked");

// Each page row's members (oldest first) and everyone's watermarks as JSON, one index range per row, where
// statements of their own for the page's ids would sort the user's conversations again, once each.
// (Nested, as in messages/store.ts: the outer row's columns keep their table.)
const rowMembers = sql<string>`${sql`(SELECT json_group_array(json_object('id', id, 'firstName', first_name, 'lastName', last_name)) FROM (SELECT u.id, u.first_name, u.last_name FROM ${participants} m INNER JOIN ${users} u ON u.id = m.user_id WHERE m.conversation_id = ${conversations.id} ORDER BY m.joined_at, m.user_id))`}`
  .mapWith((v: string) => JSON.parse(v) as Sender[])
  .as("members");
const rowMarks = sql<string>`${sql`(SELECT json_group_array(json_object('userId', w.user_id, 'deliveredSeq', w.delivered_seq, 'readSeq', w.read_seq)) FROM ${participants} w WHERE w.conversation_id = ${conversations.id})`}`
  .mapWith((v: string) => JSON.parse(v) as Watermark[])
  .as("marks");

/**
 * The chat list's batch for one combination of filters: the count, and the page. The page's ids are sorted
 * first, alone; only its rows then get their columns, unread mentions, members and watermarks (SQLite
 * computes a sorted select's columns for every row it sorts, here all of the user's conversations).
 */
function chatsBatch(unreadOnly: boolean, only: boolean, byToken: boolean) {
  const names = ["userId", "hash", "limit", "offset", "conversationId"] as const;
  type Values = Record<(typeof names)[number], Placeholder>;
  const viewer = (p: Values) => (byToken ? viewerByToken(p.hash) : p.userId);
  const where = (p: Values) =>
    and(eq(participants.userId, viewer(p)), unreadOnly ? gt(conversations.lastSeq, participants.readSeq) : undefined, only ? eq(participants.conversationId, p.conversationId) : undefined);
  const order = [desc(conversations.lastActivityAt), desc(conversations.id)] as const;
  return [
    compile(names, (p) => qb.select({ n: count() }).from(participants).innerJoin(conversations, eq(conversations.id, participants.conversationId)).where(where(p))),
    compile(names, (p) => {
      const page = qb
        .select({ id: sql<number>`${conversations.id}`.as("page_id") })
        .from(participants)
        .innerJoin(conversations, eq(conversations.id, participants.conversationId))
        .where(where(p))
        .orderBy(...order)
        .limit(p.limit)
        .offset(p.offset)
        .as("page");
      return qb
        .select({ conversation: conversations, readSeq: participants.readSeq, mutedUntil: participants.mutedUntil, mentions: unreadMentions, lastSenderBlocked, ...senderColumns, members: rowMembers, marks: rowMarks })
        .from(page)
        .innerJoin(conversations, eq(conversations.id, page.id))
        .innerJoin(participants, and(eq(participants.conversationId, page.id), eq(participants.userId, viewer(p))))
        .leftJoin(sender, eq(sender.id, conversations.lastSenderId))
        .orderBy(...order);
    }),
  ] as const;
}

const compiledChats = new Map<string, ReturnType<typeof chatsBatch>>();

/** The chat list's compiled batch for these filters and way of naming the viewer (each combination compiled once). */
function chatsRead(unreadOnly: boolean, only: boolean, byToken: boolean) {
  const key = `${unreadOnly}:${only}:${byToken}`;
  let read = compiledChats.get(key);
  if (!read) compiledChats.set(key, (read = chatsBatch(unreadOnly, only, byToken)));
  return read;
}

/**
 * The chat list: each of the user's conversations with its last message and the user's unread count,
 * newest activity first. Unread is last_seq − read_seq (a send moves the sender's own read watermark),
 * and the last message is the copy on the conversation's row: no query per row, and no message shard read.
 * A last message from someone the caller blocked reads as a placeholder, wherever the list is shown.
 */
export async function listChats(db: Database, viewer: Viewer, options: { unreadOnly: boolean; offset: number; limit: number; conversationId?: number }) {
  const {
    viewerId: userId,
    results: [[total], rows],
  } = await batchAs(db, viewer, (db, who) => {
    const [counted, page] = chatsRead(options.unreadOnly, options.conversationId !== undefined, who.hash !== null);
    const values = { ...who, limit: options.limit, offset: options.offset, conversationId: options.conversationId ?? null };
    return [counted.bind(db, values), page.bind(db, values)];
  });
  const results = rows.map((r) => {
    const view = statusView(userId, r.marks);
    return {
      conversation: toConversationResource(r.conversation, r.members),
      last_message: r.conversation.lastMessageId === null ? null : hideBlockedChat(toChatMessageResource(lastMessageOf(r.conversation, r.senderFirstName, r.senderLastName), view), Boolean(r.lastSenderBlocked)),
      unread_count: Math.max(0, r.conversation.lastSeq - r.readSeq),
      mentions: r.mentions,
      muted_until: r.mutedUntil?.toISOString() ?? null,
    };
  });
  return { count: total?.n ?? 0, results };
}
