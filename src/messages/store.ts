// The one module that queries messages. Every function is handed the database holding the
// conversation, so messages can later be sharded across D1 databases without touching callers.
import { and, asc, count, desc, eq, gt, gte, lte, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { messages, participants, users, type MessageRow } from "../db/schema";

export type Sender = { id: number; firstName: string; lastName: string };
export type StoredMessage = MessageRow & { sender: Sender };

const columns = {
  id: messages.id,
  conversationId: messages.conversationId,
  seq: messages.seq,
  senderId: messages.senderId,
  body: messages.body,
  clientMessageId: messages.clientMessageId,
  sentAt: messages.sentAt,
  editedAt: messages.editedAt,
  deleted: messages.deleted,
  changeSeq: messages.changeSeq,
  // Aliased: drizzle maps a D1 batch's rows from column-name-keyed objects, so a second "id" column
  // (users.id next to messages.id) collapses into the first and shifts every later field; a retried send
  // settled by the room's batch came back with the sender's id as the message id.
  sender: { id: sql<number>`${users.id}`.as("sender_user_id"), firstName: users.firstName, lastName: users.lastName },
};

const select = (db: Database) => db.select(columns).from(messages).innerJoin(users, eq(users.id, messages.senderId));

// The list queries return drizzle builders (run when awaited) so tests can EXPLAIN the exact SQL.

/** Messages with `low < seq ≤ high`, oldest first: the index makes any depth cost the same. */
export function bySeqRange(db: Database, conversationId: number, low: number, high: number) {
  return select(db)
    .where(and(eq(messages.conversationId, conversationId), gt(messages.seq, low), lte(messages.seq, high)))
    .orderBy(asc(messages.seq));
}

/** The newest `limit` messages with seq below `before`, newest first. */
export function beforeSeq(db: Database, conversationId: number, before: number, limit: number) {
  return select(db)
    .where(and(eq(messages.conversationId, conversationId), lt(messages.seq, before)))
    .orderBy(desc(messages.seq))
    .limit(limit);
}

export function afterSeq(db: Database, conversationId: number, after: number, limit: number) {
  return select(db)
    .where(and(eq(messages.conversationId, conversationId), gt(messages.seq, after)))
    .orderBy(asc(messages.seq))
    .limit(limit);
}

export type Filter = { senderId?: number; since?: Date; seqRanges?: { own: boolean; low: number; high: number }[]; viewerId?: number };

function filterCondition(conversationId: number, f: Filter): SQL | undefined {
  const ranges = f.seqRanges?.map((r) =>
    and(r.own ? eq(messages.senderId, f.viewerId!) : ne(messages.senderId, f.viewerId!), gt(messages.seq, r.low), lte(messages.seq, r.high)),
  );
  return and(
    eq(messages.conversationId, conversationId),
    f.senderId !== undefined ? eq(messages.senderId, f.senderId) : undefined,
    f.since ? gte(messages.sentAt, f.since) : undefined,
    ranges ? or(...ranges) : undefined,
  );
}

/** A filtered page (OFFSET and count(*): cost grows with the matches, as the docs say). */
export async function filtered(db: Database, conversationId: number, f: Filter, offset: number, limit: number) {
  const where = filterCondition(conversationId, f);
  const [total] = await db.select({ n: count() }).from(messages).where(where);
  const rows = await select(db).where(where).orderBy(asc(messages.seq)).limit(limit).offset(offset);
  return { count: total?.n ?? 0, rows };
}

/** Every conversation of `userId`, newest message first (an unbounded list: cost grows with history). */
export async function acrossConversations(db: Database, userId: number, offset: number, limit: number) {
  const mine = sql`${messages.conversationId} IN (SELECT ${participants.conversationId} FROM ${participants} WHERE ${participants.userId} = ${userId})`;
  const [total] = await db.select({ n: count() }).from(messages).where(mine);
  const rows = await select(db).where(mine).orderBy(desc(messages.sentAt), desc(messages.id)).limit(limit).offset(offset);
  return { count: total?.n ?? 0, rows };
}

/** The statement reading one message of a conversation, with its sender. */
export function selectMessage(db: Database, conversationId: number, id: number) {
  return select(db).where(and(eq(messages.conversationId, conversationId), eq(messages.id, id)));
}

export function findMessage(db: Database, conversationId: number, id: number): Promise<StoredMessage | undefined> {
  return selectMessage(db, conversationId, id).get();
}

/** The conversation a message belongs to, for the flat `/api/messages/{id}/` routes. */
export async function conversationOfMessage(db: Database, id: number): Promise<number | undefined> {
  return (await db.select({ c: messages.conversationId }).from(messages).where(eq(messages.id, id)).get())?.c;
}

/** One queued send as a flush writes it: `s` sender, `b` body, `k` client_message_id (or null). */
export type PendingRow = { s: number; b: string; k: string | null };

const field = (name: "s" | "b" | "k") => sql.raw(`json_extract(j.value, '$.${name}')`);

/** The statement that finds earlier sends (retries) among a flush's keyed rows. */
export function earlierSends(db: Database, conversationId: number, rows: PendingRow[]) {
  const keyed = JSON.stringify(rows.filter((r) => r.k !== null));
  return select(db).where(
    and(
      eq(messages.conversationId, conversationId),
      sql`(${messages.senderId}, ${messages.clientMessageId}) IN (SELECT ${field("s")}, ${field("k")} FROM json_each(${keyed}) j)`,
    ),
  );
}

/**
 * The statement that stores a chunk of a flush in one go: every row but those whose key is already
 * stored, numbered on from the conversation's highest seq in queue order, so seqs stay gap-free
 * whichever rows turn out to be retries. Set-based over one JSON parameter: D1 caps bound parameters,
 * not rows.
 */
export function insertFresh(db: Database, conversationId: number, rows: PendingRow[], sentAt: Date) {
  const top = sql`(SELECT coalesce(max(${messages.seq}), 0) FROM ${messages} WHERE ${messages.conversationId} = ${conversationId})`;
  const stored = sql`SELECT 1 FROM ${messages} m WHERE m.conversation_id = ${conversationId} AND m.sender_id = ${field("s")} AND m.client_message_id = ${field("k")}`;
  const fresh = db
    // drizzle's INSERT … SELECT wants every column, in table order (a NULL id takes the next one).
    .select({
      id: sql<null>`NULL`.as("id"),
      conversationId: sql<number>`${conversationId}`.as("conversation_id"),
      seq: sql<number>`${top} + row_number() OVER (ORDER BY j.key)`.as("seq"),
      senderId: sql<number>`${field("s")}`.as("sender_id"),
      body: sql<string>`${field("b")}`.as("body"),
      clientMessageId: sql<string | null>`${field("k")}`.as("client_message_id"),
      sentAt: sql<number>`${sentAt.getTime()}`.as("sent_at"),
      editedAt: sql<null>`NULL`.as("edited_at"),
      deleted: sql<number>`0`.as("deleted"),
      changeSeq: sql<number>`0`.as("change_seq"),
    })
    .from(sql`json_each(${JSON.stringify(rows)}) j`)
    .where(sql`${field("k")} IS NULL OR NOT EXISTS (${stored})`);
  return db.insert(messages).select(fresh).returning({ id: messages.id, seq: messages.seq });
}

/** Deletes up to `chunk` messages of a conversation; returns how many went. */
export async function deleteChunk(db: Database, conversationId: number, chunk: number): Promise<number> {
  const result = await db.run(
    sql`DELETE FROM ${messages} WHERE ${messages.id} IN (SELECT ${messages.id} FROM ${messages} WHERE ${messages.conversationId} = ${conversationId} LIMIT ${chunk})`,
  );
  return result.meta.changes ?? 0;
}
