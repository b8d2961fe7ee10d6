import { and, count, desc, eq, gt, sql, type Placeholder } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { byConversation, membersSelect, toConversationResource } from "../conversations/conversations";
import type { Database } from "../db/client";
import { compile, qb } from "../db/compiled";
import { viewerByToken } from "../auth/oauth/tokens";
import { batchAs, type Viewer } from "../http/auth-context";
import { blocks, conversations, mentions, participants, users, type ConversationRow } from "../db/schema";
import { hideBlockedChat } from "../messages/blocked";
import { watermarksSelect } from "../messages/listing";
import { toChatMessageResource } from "../messages/resource";
import { statusView } from "../messages/status";

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

/** The chat list's batch for one combination of filters: the count, the page, its members and their watermarks. */
function chatsBatch(unreadOnly: boolean, only: boolean, byToken: boolean) {
  const names = ["userId", "hash", "limit", "offset", "conversationId"] as const;
  const where = (p: Record<(typeof names)[number], Placeholder>) =>
    and(eq(participants.userId, byToken ? viewerByToken(p.hash) : p.userId), unreadOnly ? gt(conversations.lastSeq, participants.readSeq) : undefined, only ? eq(participants.conversationId, p.conversationId) : undefined);
  const order = [desc(conversations.lastActivityAt), desc(conversations.id)] as const;
  // The page's conversation ids as a subquery, so members and watermarks come in the same batch.
  const pageIds = (p: Record<(typeof names)[number], Placeholder>) =>
    sql`${qb.select({ id: conversations.id }).from(participants).innerJoin(conversations, eq(conversations.id, participants.conversationId)).where(where(p)).orderBy(...order).limit(p.limit).offset(p.offset)}`;
  return [
    compile(names, (p) => qb.select({ n: count() }).from(participants).innerJoin(conversations, eq(conversations.id, participants.conversationId)).where(where(p))),
    compile(names, (p) =>
      qb
        .select({ conversation: conversations, readSeq: participants.readSeq, mutedUntil: participants.mutedUntil, mentions: unreadMentions, lastSenderBlocked, ...senderColumns })
        .from(participants)
        .innerJoin(conversations, eq(conversations.id, participants.conversationId))
        .leftJoin(sender, eq(sender.id, conversations.lastSenderId))
        .where(where(p))
        .orderBy(...order)
        .limit(p.limit)
        .offset(p.offset),
    ),
    compile(names, (p) => membersSelect(pageIds(p))),
    compile(names, (p) => watermarksSelect(pageIds(p))),
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
    results: [[total], rows, members, marks],
  } = await batchAs(db, viewer, (db, who) => {
    const [counted, page, pageMembers, pageMarks] = chatsRead(options.unreadOnly, options.conversationId !== undefined, who.hash !== null);
    const values = { ...who, limit: options.limit, offset: options.offset, conversationId: options.conversationId ?? null };
    return [counted.bind(db, values), page.bind(db, values), pageMembers.bind(db, values), pageMarks.bind(db, values)];
  });
  const byId = byConversation(members);
  const results = rows.map((r) => {
    const view = statusView(userId, marks.filter((m) => m.conversationId === r.conversation.id));
    return {
      conversation: toConversationResource(r.conversation, byId.get(r.conversation.id) ?? []),
      last_message: r.conversation.lastMessageId === null ? null : hideBlockedChat(toChatMessageResource(lastMessageOf(r.conversation, r.senderFirstName, r.senderLastName), view), Boolean(r.lastSenderBlocked)),
      unread_count: Math.max(0, r.conversation.lastSeq - r.readSeq),
      mentions: r.mentions,
      muted_until: r.mutedUntil?.toISOString() ?? null,
    };
  });
  return { count: total?.n ?? 0, results };
}
