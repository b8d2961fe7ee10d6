// The one module that queries messages. Each function is handed the conversation's shard; message ids
// leave and enter here in their API form (row id × SHARD_SLOTS + shard, see src/db/shards.ts). Senders'
// names live in the main database: src/messages/senders.ts joins them.
import { and, asc, count, desc, eq, gt, gte, lte, lt, max, ne, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { batch, compile, jsonValues, qb } from "../db/compiled";
import { SHARD_SLOTS, type Shard } from "../db/shards";
import { messages, reactions, type StoredAttachment } from "../db/shard-schema";

export type Sender = { id: number; firstName: string; lastName: string };
/** The message a reply quotes, as its row holds it (`preview` is empty once it is deleted). */
export type ReplyParent = { id: number; seq: number; senderId: number; preview: string; deleted: boolean };
/** A message's reactions with one emoji: who reacted, in the order of each emoji's first reaction. */
export type ReactionRow = { emoji: string; users: number[] };
/** A message as the store reads it: its row, the message it replies to, its live replies and its reactions. */
export type MessageRow = Omit<typeof messages.$inferSelect, "replyTo"> & { replyTo: ReplyParent | null; replyCount: number; reactions: ReactionRow[] };
export type StoredMessage = MessageRow & { sender: Sender; replySender: Sender | null };

/** The API's id of a row of shard `s`. */
export const apiId = (s: Pick<Shard, "index">) => sql<number>`${messages.id} * ${SHARD_SLOTS} + ${s.index}`;

/** The shard row id of API id `id`, or null when the id names another shard. */
export function rowIdIn(s: Shard, id: number): number | null {
  return id % SHARD_SLOTS === s.index ? Math.floor(id / SHARD_SLOTS) : null;
}

/** The condition matching the message with API id `id` in shard `s` (nothing, if the id names another shard). */
export function isMessage(s: Shard, id: number): SQL {
  const row = rowIdIn(s, id);
  return row === null ? sql`0` : eq(messages.id, row);
}

/** Characters of a parent's body a reply quotes (code points: SQLite's substr counts characters). */
export const QUOTE_LENGTH = 140;

const json = <T>(expression: SQL, name: string, empty: T) => sql<T>`${expression}`.mapWith((v: string | null) => (v === null ? empty : (JSON.parse(v) as T))).as(name);

// Correlated subqueries over the outer `messages` row: one index lookup each, in the same statement
// (nested in json(), whose inner sql keeps the outer columns' table names).
const replyParent = (s: Pick<Shard, "index">) =>
  json<ReplyParent | null>(
    sql`(SELECT json_object('id', p.id * ${SHARD_SLOTS} + ${s.index}, 'seq', p.seq, 'senderId', p.sender_id, 'preview', substr(p.body, 1, ${QUOTE_LENGTH}), 'deleted', json(CASE WHEN p.deleted THEN 'true' ELSE 'false' END)) FROM ${messages} p WHERE p.id = ${messages.replyTo})`,
    "reply_parent",
    null,
  );
// Nested: drizzle writes a selected expression's own columns without their table, which inside a subquery would name the inner row's.
const replyCount = sql<number>`${sql`(SELECT count(*) FROM ${messages} r WHERE r.reply_to = ${messages.id} AND r.deleted = 0)`}`.as("reply_count");
const reactionRows = json<ReactionRow[]>(
  sql`(SELECT json_group_array(json_object('emoji', emoji, 'users', json(users))) FROM (SELECT emoji, json_group_array(user_id) AS users, min(rowid) AS first FROM ${reactions} WHERE message_id = ${messages.id} GROUP BY emoji ORDER BY first))`,
  "reaction_rows",
  [],
);

/**
 * A disappearing message past its time reads as a tombstone before its room's alarm writes it as one: it
 * never shows again, however late the alarm. (Nested, as replyCount: the outer row's columns.)
 */
const expired = sql`(${messages.expiresAt} <= CAST(unixepoch('subsec') * 1000 AS INTEGER))`;
const unlessExpired = <T>(column: SQL, gone: SQL, name: string, mapWith: Parameters<SQL["mapWith"]>[0]) =>
  sql`${sql`CASE WHEN ${expired} THEN ${gone} ELSE ${column} END`}`.mapWith(mapWith).as(name) as unknown as SQL.Aliased<T>;

// Aliased: drizzle maps a D1 batch's rows by column name.
export const columns = (s: Pick<Shard, "index">) => ({
  id: apiId(s).as("id"),
  conversationId: messages.conversationId,
  seq: messages.seq,
  senderId: messages.senderId,
  body: unlessExpired<string>(sql`${messages.body}`, sql`''`, "body", messages.body),
  clientMessageId: messages.clientMessageId,
  sentAt: messages.sentAt,
  editedAt: messages.editedAt,
  deleted: unlessExpired<boolean>(sql`${messages.deleted}`, sql`1`, "deleted", messages.deleted),
  changeSeq: messages.changeSeq,
  mentions: unlessExpired<number[] | null>(sql`${messages.mentions}`, sql`NULL`, "mentions", messages.mentions),
  pinnedAt: unlessExpired<Date | null>(sql`${messages.pinnedAt}`, sql`NULL`, "pinned_at", messages.pinnedAt),
  pinnedBy: messages.pinnedBy,
  attachments: unlessExpired<StoredAttachment[] | null>(sql`${messages.attachments}`, sql`NULL`, "attachments", messages.attachments),
  expiresAt: messages.expiresAt,
  deletedBy: unlessExpired<DeletedBy | null>(sql`${messages.deletedBy}`, sql`coalesce(${messages.deletedBy}, 'expiry')`, "deleted_by", messages.deletedBy),
  replyTo: replyParent(s),
  replyCount,
  reactions: reactionRows,
});

const select = (s: Shard) => s.db.select(columns(s)).from(messages);

/** Made once per shard: the shard's index is part of the SQL (API ids). */
function perShard<T>(make: (s: Pick<Shard, "index">) => T): (s: Shard) => T {
  const made = new Map<number, T>();
  return (s) => {
    let it = made.get(s.index);
    if (!it) made.set(s.index, (it = make(s)));
    return it;
  };
}

// The pages of one conversation, compiled (src/db/compiled.ts): they are every history request's read.
const pageRead = {
  range: perShard((s) =>
    compile(["conversationId", "low", "high"], (p) =>
      qb.select(columns(s)).from(messages).where(and(eq(messages.conversationId, p.conversationId), gt(messages.seq, p.low), lte(messages.seq, p.high))).orderBy(asc(messages.seq)),
    ),
  ),
  before: perShard((s) =>
    compile(["conversationId", "seq", "limit"], (p) =>
      qb.select(columns(s)).from(messages).where(and(eq(messages.conversationId, p.conversationId), lt(messages.seq, p.seq))).orderBy(desc(messages.seq)).limit(p.limit),
    ),
  ),
  after: perShard((s) =>
    compile(["conversationId", "seq", "limit"], (p) =>
      qb.select(columns(s)).from(messages).where(and(eq(messages.conversationId, p.conversationId), gt(messages.seq, p.seq))).orderBy(asc(messages.seq)).limit(p.limit),
    ),
  ),
};

// The list reads return bound statements (run with `every`, or in a batch) so tests can EXPLAIN the exact SQL.

/** Messages with `low < seq ≤ high`, oldest first: the index makes any depth cost the same. */
export const bySeqRange = (s: Shard, conversationId: number, low: number, high: number) => pageRead.range(s).bind(s.db, { conversationId, low, high });

/** The newest `limit` messages with seq below `before`, newest first. */
export const beforeSeq = (s: Shard, conversationId: number, before: number, limit: number) => pageRead.before(s).bind(s.db, { conversationId, seq: before, limit });

/** The oldest `limit` messages with seq above `after`. */
export const afterSeq = (s: Shard, conversationId: number, after: number, limit: number) => pageRead.after(s).bind(s.db, { conversationId, seq: after, limit });

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

/** A filtered page (OFFSET and count(*): cost grows with the matches, as the docs say), in one batch. */
export async function filtered(s: Shard, conversationId: number, f: Filter, offset: number, limit: number) {
  const where = filterCondition(conversationId, f);
  const [[total], rows] = await batch(s.db, [
    s.db.select({ n: count() }).from(messages).where(where),
    select(s).where(where).orderBy(asc(messages.seq)).limit(limit).offset(offset),
  ]);
  return { count: total?.n ?? 0, rows };
}

/** Where a newest-first list across conversations stopped: the last row's sent_at and id. */
export type Position = { sentAt: number; id: number };

/**
 * One shard's part of a list across conversations, newest first: how many messages the conversations
 * hold here, and the first `limit` after `from` (ordered by sent_at, then id; ids are unique across
 * shards, so merging the shards' parts gives one total order). Unbounded: cost grows with their history.
 */
export async function newestAcross(s: Shard, conversationIds: number[], from: Position | null, limit: number) {
  const mine = sql`${messages.conversationId} IN (SELECT value FROM json_each(${JSON.stringify(conversationIds)}))`;
  const after = from && sql`(${messages.sentAt} < ${from.sentAt} OR (${messages.sentAt} = ${from.sentAt} AND ${apiId(s)} < ${from.id}))`;
  const [[total], rows] = await batch(s.db, [
    s.db.select({ n: count() }).from(messages).where(mine),
    select(s)
      .where(and(mine, after ?? undefined))
      .orderBy(desc(messages.sentAt), desc(messages.id))
      .limit(limit),
  ]);
  return { count: total?.n ?? 0, rows };
}

/** The statement reading one message of a conversation. */
export function selectMessage(s: Shard, conversationId: number, id: number) {
  return select(s).where(and(eq(messages.conversationId, conversationId), isMessage(s, id)));
}

export async function findMessage(s: Shard, conversationId: number, id: number): Promise<MessageRow | undefined> {
  return (await selectMessage(s, conversationId, id))[0];
}

/** The conversation a message belongs to, for the flat `/api/messages/{id}/` routes. */
export async function conversationOfMessage(s: Shard, id: number): Promise<number | undefined> {
  return (await s.db.select({ c: messages.conversationId }).from(messages).where(isMessage(s, id)))[0]?.c;
}

/** The conversation's newest message (none before its first) and its change counter, in one batch. */
export async function newest(s: Shard, conversationId: number): Promise<{ last: MessageRow | undefined; changeSeq: number }> {
  const [rows, [change]] = await batch(s.db, [
    select(s).where(eq(messages.conversationId, conversationId)).orderBy(desc(messages.seq)).limit(1),
    s.db.select({ n: max(messages.changeSeq) }).from(messages).where(eq(messages.conversationId, conversationId)),
  ]);
  return { last: rows[0], changeSeq: change?.n ?? 0 };
}

/** Messages with seq ≤ `upTo` changed after change `after`, in change order (for a resuming socket). */
export function changedSince(s: Shard, conversationId: number, upTo: number, after: number, limit: number) {
  return select(s)
    .where(and(eq(messages.conversationId, conversationId), lte(messages.seq, upTo), gt(messages.changeSeq, after)))
    .orderBy(asc(messages.changeSeq))
    .limit(limit);
}

/**
 * One queued send as a flush writes it: `s` sender, `b` body, `k` client_message_id (or null), `r` the
 * row id of the message it replies to (or null), `m` the participants it mentions (or null), `a` its
 * attachments (or null).
 */
export type PendingRow = { s: number; b: string; k: string | null; r: number | null; m: number[] | null; a: StoredAttachment[] | null; e: number | null };

const field = (name: keyof PendingRow) => sql.raw(`json_extract(j.value, '$.${name}')`);

// A flush's statements, compiled (src/db/compiled.ts): every send runs them.
const flushStatements = perShard((s) => ({
  earlier: compile(["conversationId", "rows"], (p) =>
    qb
      .select(columns(s))
      .from(messages)
      .where(and(eq(messages.conversationId, p.conversationId), sql`(${messages.senderId}, ${messages.clientMessageId}) IN (SELECT ${field("s")}, ${field("k")} FROM json_each(${p.rows}) j)`)),
  ),
  parents: compile(["conversationId", "ids"], (p) =>
    qb
      .select(columns(s))
      .from(messages)
      .where(and(eq(messages.conversationId, p.conversationId), eq(messages.deleted, false), sql`${messages.id} IN ${jsonValues(p.ids)}`)),
  ),
  insert: compile(["conversationId", "rows", "sentAt"], (p) => {
    const top = sql`(SELECT coalesce(max(${messages.seq}), 0) FROM ${messages} WHERE ${messages.conversationId} = ${p.conversationId})`;
    const stored = sql`SELECT 1 FROM ${messages} m WHERE m.conversation_id = ${p.conversationId} AND m.sender_id = ${field("s")} AND m.client_message_id = ${field("k")}`;
    const parent = sql`SELECT 1 FROM ${messages} p WHERE p.id = ${field("r")} AND p.conversation_id = ${p.conversationId} AND p.deleted = 0`;
    const fresh = qb
      // drizzle's INSERT … SELECT wants every column, in table order (a NULL id takes the next one).
      .select({
        id: sql<null>`NULL`.as("id"),
        conversationId: sql<number>`${p.conversationId}`.as("conversation_id"),
        seq: sql<number>`${top} + row_number() OVER (ORDER BY j.key)`.as("seq"),
        senderId: sql<number>`${field("s")}`.as("sender_id"),
        body: sql<string>`${field("b")}`.as("body"),
        clientMessageId: sql<string | null>`${field("k")}`.as("client_message_id"),
        sentAt: sql<number>`${p.sentAt}`.as("sent_at"),
        editedAt: sql<null>`NULL`.as("edited_at"),
        deleted: sql<number>`0`.as("deleted"),
        changeSeq: sql<number>`0`.as("change_seq"),
        replyTo: sql<number | null>`${field("r")}`.as("reply_to"),
        mentions: sql<string | null>`${field("m")}`.as("mentions"),
        pinnedAt: sql<null>`NULL`.as("pinned_at"),
        pinnedBy: sql<null>`NULL`.as("pinned_by"),
        attachments: sql<string | null>`${field("a")}`.as("attachments"),
        deletedBy: sql<null>`NULL`.as("deleted_by"),
        expiresAt: sql<number | null>`${field("e")}`.as("expires_at"),
      })
      .from(sql`json_each(${p.rows}) j`)
      .where(sql`(${field("k")} IS NULL OR NOT EXISTS (${stored})) AND (${field("r")} IS NULL OR EXISTS (${parent}))`);
    return qb.insert(messages).select(fresh).returning({ id: apiId(s), seq: messages.seq });
  }),
}));

/** The statement that finds earlier sends (retries) among a flush's keyed rows. */
export const earlierSends = (s: Shard, conversationId: number, rows: PendingRow[]) =>
  flushStatements(s).earlier.bind(s.db, { conversationId, rows: JSON.stringify(rows.filter((r) => r.k !== null)) });

/** The statement reading the messages (by row id) that a flush's replies quote, if they can be replied to. */
export const replyParents = (s: Shard, conversationId: number, rowIds: number[]) => flushStatements(s).parents.bind(s.db, { conversationId, ids: JSON.stringify(rowIds) });

/**
 * The statement that stores a chunk of a flush in one go: every row but those whose key is already
 * stored or whose reply names no live message of the conversation, numbered on from the conversation's
 * highest seq in queue order, so seqs stay gap-free whichever rows turn out to be retries. Set-based over
 * one JSON parameter: D1 caps bound parameters, not rows.
 */
export const insertFresh = (s: Shard, conversationId: number, rows: PendingRow[], sentAt: Date) =>
  flushStatements(s).insert.bind(s.db, { conversationId, rows: JSON.stringify(rows), sentAt: sentAt.getTime() });

export type DeletedBy = "sender" | "owner" | "moderator" | "expiry";

/** An edit, or a delete by the message's sender, the conversation's owner or a moderator (who may delete anyone's). */
export type Change = { kind: "edit"; body: string; mentions: number[] | null } | { kind: "delete"; by: Exclude<DeletedBy, "expiry"> };

/** The conversation's next change counter, for a statement that changes one of its messages. */
const nextChange = (conversationId: number) => sql`(SELECT max(m.change_seq) + 1 FROM ${messages} m WHERE m.conversation_id = ${conversationId})`;

/** What deleting a message leaves: its seq and sender, nothing it said, with the next change number. */
const tombstone = (conversationId: number, by: DeletedBy | SQL) => ({
  body: "",
  mentions: null,
  attachments: null,
  deleted: true,
  deletedBy: by,
  pinnedAt: null,
  pinnedBy: null,
  changeSeq: nextChange(conversationId),
});

/**
 * Edits (its sender only) or tombstones (its sender, or the owner) a message, in one batch: the
 * conversation's change counter (its messages' highest change_seq) moves on and is stamped on the
 * message only when the change is allowed. A tombstone loses its body, mentions, pin and reactions.
 * Returns the message before and after, and whether this call changed it; undefined when there is no
 * such message.
 */
export async function changeMessage(s: Shard, conversationId: number, messageId: number, userId: number, change: Change) {
  const allowed = and(
    isMessage(s, messageId),
    eq(messages.conversationId, conversationId),
    eq(messages.deleted, false),
    change.kind === "edit" || change.by === "sender" ? eq(messages.senderId, userId) : undefined,
  );
  const set =
    change.kind === "edit"
      ? { body: change.body, mentions: change.mentions, editedAt: new Date(), changeSeq: nextChange(conversationId) }
      : // The owner deleting their own message deletes it as its sender.
        tombstone(conversationId, change.by === "owner" ? sql`CASE WHEN ${messages.senderId} = ${userId} THEN 'sender' ELSE 'owner' END` : change.by);
  const [[before], changed, , [message]] = await batch(s.db, [
    selectMessage(s, conversationId, messageId),
    s.db.update(messages).set(set).where(allowed).returning({ id: messages.id }),
    // Only a tombstone's reactions go (changes() is the update's: the batch runs in order on one connection).
    s.db.delete(reactions).where(and(eq(reactions.messageId, rowIdIn(s, messageId) ?? 0), sql`${change.kind === "delete" ? 1 : 0} AND changes() > 0`)),
    selectMessage(s, conversationId, messageId),
  ]);
  return message && before && { before, message, changed: changed.length > 0 };
}

/** What a reaction or pin did: the message afterwards (undefined if none), and whether this write changed it. */
export type MarkResult = { message: MessageRow | undefined; changed: boolean };

/**
 * A reaction or pin as statements that can share a batch with others (see MarkQueue): each reads its
 * own results. Within one batch they run in order, in one transaction.
 */
export type MarkWrite = { statements: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]; outcome(results: unknown[]): MarkResult };

/**
 * Adds or removes one user's reaction to a live message of the conversation; adding fails (changed:
 * false) when the message already has `maxEmoji` other emoji. A change moves the conversation's change
 * counter onto the message, so a resuming socket gets it again.
 */
export function react(s: Shard, conversationId: number, messageId: number, userId: number, emoji: string, add: boolean, maxEmoji: number): MarkWrite {
  const row = rowIdIn(s, messageId) ?? 0;
  const live = sql`EXISTS (SELECT 1 FROM ${messages} WHERE ${messages.id} = ${row} AND ${messages.conversationId} = ${conversationId} AND ${messages.deleted} = 0)`;
  const write = add
    ? s.db
        .insert(reactions)
        .select(
          s.db
            .select({ messageId: sql<number>`${row}`.as("message_id"), emoji: sql<string>`${emoji}`.as("emoji"), userId: sql<number>`${userId}`.as("user_id"), createdAt: sql<number>`${Date.now()}`.as("created_at") })
            .from(sql`(SELECT 1)`)
            .where(sql`${live} AND (SELECT count(DISTINCT emoji) FROM ${reactions} WHERE message_id = ${row} AND emoji <> ${emoji}) < ${maxEmoji}`),
        )
        .onConflictDoNothing()
    : s.db.delete(reactions).where(and(eq(reactions.messageId, row), eq(reactions.emoji, emoji), eq(reactions.userId, userId), live));
  return {
    statements: [
      write,
      // changes() is the write's: a batch runs its statements in order on one connection.
      s.db.update(messages).set({ changeSeq: nextChange(conversationId) }).where(and(eq(messages.id, row), sql`changes() > 0`)).returning({ id: messages.id }),
      selectMessage(s, conversationId, messageId),
    ],
    outcome: ([, bumped, found]) => ({ message: (found as MessageRow[])[0], changed: (bumped as unknown[]).length > 0 }),
  };
}

/** Pins (by `userId`) or unpins a live message of the conversation; pinning fails (changed: false) when the conversation has `maxPins` pinned already. */
export function pin(s: Shard, conversationId: number, messageId: number, userId: number, on: boolean, maxPins: number): MarkWrite {
  const pinned = sql`(SELECT count(*) FROM ${messages} m WHERE m.conversation_id = ${conversationId} AND m.pinned_at IS NOT NULL)`;
  const target = and(isMessage(s, messageId), eq(messages.conversationId, conversationId), eq(messages.deleted, false));
  const write = on
    ? s.db
        .update(messages)
        .set({ pinnedAt: new Date(), pinnedBy: userId, changeSeq: nextChange(conversationId) })
        .where(and(target, sql`${messages.pinnedAt} IS NULL AND ${pinned} < ${maxPins}`))
    : s.db
        .update(messages)
        .set({ pinnedAt: null, pinnedBy: null, changeSeq: nextChange(conversationId) })
        .where(and(target, sql`${messages.pinnedAt} IS NOT NULL`));
  return {
    statements: [write.returning({ id: messages.id }), selectMessage(s, conversationId, messageId)],
    outcome: ([changed, found]) => ({ message: (found as MessageRow[])[0], changed: (changed as unknown[]).length > 0 }),
  };
}

/** The conversation's pinned messages, most recently pinned first. */
export function pinned(s: Shard, conversationId: number) {
  return select(s)
    .where(and(eq(messages.conversationId, conversationId), sql`${messages.pinnedAt} IS NOT NULL`))
    .orderBy(desc(messages.pinnedAt), desc(messages.id));
}

/** Replies to a message (by its row id) after or before a seq, at most `limit` from `offset`: a thread is a view of the conversation's order. */
export function replies(s: Shard, parentRowId: number, range: { after?: number; before?: number; limit: number; offset?: number; newestFirst?: boolean }) {
  return select(s)
    .where(
      and(
        eq(messages.replyTo, parentRowId),
        range.after !== undefined ? gt(messages.seq, range.after) : undefined,
        range.before !== undefined ? lt(messages.seq, range.before) : undefined,
      ),
    )
    .orderBy(range.newestFirst ? desc(messages.seq) : asc(messages.seq))
    .limit(range.limit)
    .offset(range.offset ?? 0);
}

/** The statement counting a message's replies (deleted ones too: they keep their place in the thread) and their first and last seq. */
export function replyBounds(s: Shard, parentRowId: number) {
  return s.db.select({ n: count(), first: sql<number | null>`min(${messages.seq})`, last: sql<number | null>`max(${messages.seq})` }).from(messages).where(eq(messages.replyTo, parentRowId));
}

/** Deletes up to `chunk` messages of a conversation; returns how many went. */
export async function deleteChunk(s: Shard, conversationId: number, chunk: number): Promise<number> {
  const result = await s.db.run(
    sql`DELETE FROM ${messages} WHERE ${messages.id} IN (SELECT ${messages.id} FROM ${messages} WHERE ${messages.conversationId} = ${conversationId} LIMIT ${chunk})`,
  );
  return result.meta.changes ?? 0;
}

/** The conversation's disappearing messages due by `now`, oldest first (at most `limit`), with their files. */
export function dueToExpire(s: Shard, conversationId: number, now: number, limit: number) {
  return s.db
    .select({ id: apiId(s).as("id"), attachments: messages.attachments })
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), eq(messages.deleted, false), lte(messages.expiresAt, new Date(now))))
    .orderBy(asc(messages.expiresAt))
    .limit(limit);
}

/**
 * Tombstones the given messages in one batch (disappearing ones, or a deleted account's), each with its own
 * change number, as a delete does (reactions go too); returns them as they are now.
 */
export async function tombstoneMessages(s: Shard, conversationId: number, ids: number[], by: "expiry" | "sender"): Promise<MessageRow[]> {
  const writes = ids.flatMap((id) => [
    s.db.update(messages).set(tombstone(conversationId, by)).where(and(isMessage(s, id), eq(messages.conversationId, conversationId), eq(messages.deleted, false))),
    s.db.delete(reactions).where(eq(reactions.messageId, rowIdIn(s, id) ?? 0)),
  ]);
  const read = select(s).where(and(eq(messages.conversationId, conversationId), sql`${messages.id} IN (SELECT value FROM json_each(${JSON.stringify(ids.map((id) => rowIdIn(s, id)))}))`)).orderBy(asc(messages.seq));
  const results = await batch(s.db, [...writes, read] as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return results.at(-1) as MessageRow[];
}

/** Up to `limit` of a sender's live messages in the conversation (a deleted account's, to tombstone), with their files. */
export function liveMessagesOf(s: Shard, conversationId: number, senderId: number, limit: number) {
  return s.db
    .select({ id: apiId(s).as("id"), attachments: messages.attachments })
    .from(messages)
    .where(and(eq(messages.senderId, senderId), eq(messages.conversationId, conversationId), eq(messages.deleted, false)))
    .limit(limit);
}

/** Removes a user's reactions to the conversation's messages (a deleted account's). */
export async function removeReactionsOf(s: Shard, conversationId: number, userId: number): Promise<void> {
  await s.db.delete(reactions).where(and(eq(reactions.userId, userId), sql`${reactions.messageId} IN (SELECT ${messages.id} FROM ${messages} WHERE ${messages.conversationId} = ${conversationId})`));
}

/** When the conversation's next disappearing message is due (ms), or null. */
export async function nextExpiry(s: Shard, conversationId: number): Promise<number | null> {
  const [row] = await s.db
    .select({ at: sql<number | null>`min(${messages.expiresAt})` })
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), eq(messages.deleted, false), sql`${messages.expiresAt} IS NOT NULL`));
  return row?.at ?? null;
}
