// The schema of every message shard (MESSAGES_<n>): the same migrations (migrations-messages/) on each.
// No foreign keys: users and conversations live in the main database; the conversation's room is the
// only writer of its rows and removes them when the conversation is deleted.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });

/** An attachment as a message keeps it. */
export type StoredAttachment = { id: string; name: string; contentType: string; size: number; sha256: string; width: number | null; height: number | null; createdAt: number };

/** `id` is the shard's own row id; the API's message id also names the shard (see src/db/shards.ts). */
export const messages = sqliteTable(
  "messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    conversationId: integer("conversation_id").notNull(),
    seq: integer("seq").notNull(),
    senderId: integer("sender_id").notNull(),
    body: text("body").notNull(),
    clientMessageId: text("client_message_id"),
    sentAt: timestamp("sent_at").notNull(),
    editedAt: timestamp("edited_at"),
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    // The conversation's change counter when this message was last edited or deleted (0: never), so a
    // resuming client can ask for every change after the one it saw; the counter is the highest of them.
    changeSeq: integer("change_seq").notNull().default(0),
    /** The row id (not the API id) of the message this one replies to, in the same conversation. */
    replyTo: integer("reply_to"),
    /** Participants mentioned as `<@id>` in the body when it was sent or last edited; null when none. */
    mentions: text("mentions", { mode: "json" }).$type<number[]>(),
    pinnedAt: timestamp("pinned_at"),
    pinnedBy: integer("pinned_by"),
    /** Copies of the attachments' descriptions (the rows are in the main database, the bytes in R2). */
    attachments: text("attachments", { mode: "json" }).$type<StoredAttachment[]>(),
    /** Who made a tombstone: its sender, the conversation's owner, a moderator, or its time running out. */
    deletedBy: text("deleted_by", { enum: ["sender", "owner", "moderator", "expiry"] }),
    /** When a disappearing message is tombstoned by its room (sent under a message_ttl_seconds); null: never. */
    expiresAt: timestamp("expires_at"),
  },
  (t) => [
    uniqueIndex("messages_conversation_seq").on(t.conversationId, t.seq),
    uniqueIndex("messages_idempotency").on(t.conversationId, t.senderId, t.clientMessageId),
    index("messages_conversation_change").on(t.conversationId, t.changeSeq),
    index("messages_thread").on(t.replyTo, t.seq).where(sql`${t.replyTo} IS NOT NULL`),
    index("messages_pins").on(t.conversationId, t.pinnedAt).where(sql`${t.pinnedAt} IS NOT NULL`),
    index("messages_expiry").on(t.conversationId, t.expiresAt).where(sql`${t.expiresAt} IS NOT NULL AND ${t.deleted} = 0`),
    // A user's own messages, by conversation: their data export, and their tombstones when they delete their account.
    index("messages_sender").on(t.senderId, t.conversationId, t.seq),
  ],
);

/**
 * One user's reaction with one emoji to a message (`message_id` is the row id). A message's reactions go
 * with it: a trigger (migrations-messages/0002_search_and_cleanup.sql) deletes them when its row goes.
 */
export const reactions = sqliteTable(
  "reactions",
  {
    messageId: integer("message_id").notNull(),
    emoji: text("emoji").notNull(),
    userId: integer("user_id").notNull(),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.emoji, t.userId] }), index("reactions_user").on(t.userId)],
);
