import { and, eq, sql } from "drizzle-orm";
import { viewerByToken } from "../auth/oauth/tokens";
import { member, membersQuery, membershipQuery, membershipSelect } from "../conversations/conversations";
import { batch, compile, every, jsonValues, qb } from "../db/compiled";
import { conversations, participants } from "../db/schema";
import { knownShard, rememberShard, type Shard } from "../db/shards";
import type { ReadSessions } from "../db/sessions";
import { DomainError } from "../errors";
import { batchAs, type Viewer } from "../http/auth-context";
import { assertPageExists, pageBody } from "../http/pagination";
import { toMessageResource } from "./resource";
import type { MessageListQuery } from "./schemas";
import type { MessageResource } from "./schemas";
import { namesQuery, sendersOf, withSenders } from "./senders";
import { statusRange, statusView, type Watermark } from "./status";
import { afterSeq, beforeSeq, bySeqRange, filtered, findMessage, newestAcross, type MessageRow, type Position } from "./store";
import type { z } from "@hono/zod-openapi";

type Query = z.infer<typeof MessageListQuery> & { page: number; page_size?: number };
/** The databases a read uses: the main one and the shards, through the request's read sessions. */
export type Reads = Pick<ReadSessions, "main" | "shard">;
export const DEFAULT_CURSOR_LIMIT = 50;

const watermarkColumns = { conversationId: participants.conversationId, userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq };

const watermarksRead = compile(["ids"], (p) => qb.select(watermarkColumns).from(participants).where(sql`${participants.conversationId} IN ${jsonValues(p.ids)}`));
const marksRead = compile(["conversationId"], (p) => qb.select(watermarkColumns).from(participants).where(eq(participants.conversationId, p.conversationId)));

const membershipByToken = compile(["conversationId", "hash"], (p) => membershipSelect(p.conversationId, viewerByToken(p.hash)));

/**
 * The main batch every read of one conversation's messages makes: the caller's membership, everyone's
 * watermarks, the members' names; for a token still to check, on the primary with the token first, and
 * checked (401 or 403) before anything else is answered.
 */
const conversationBatch = (reads: Reads, viewer: Viewer, conversationId: number) =>
  batchAs(reads.main, viewer, (db, who) => [
    who.hash === null ? membershipQuery(db, conversationId, who.userId) : membershipByToken.bind(db, { conversationId, hash: who.hash }),
    marksRead.bind(db, { conversationId }),
    membersQuery(db, [conversationId]),
  ]);

/**
 * The main batch and a read of the conversation's shard: at once when this isolate knows the shard (it
 * never changes), else once the batch has named it. A stranger gets 404 either way.
 */
export async function withShardRead<R>(reads: Reads, conversationId: number, viewer: Viewer, read: (shard: Shard) => PromiseLike<R>) {
  const main = conversationBatch(reads, viewer, conversationId);
  const known = knownShard(conversationId);
  const rows = known !== undefined ? read(reads.shard(known)) : main.then(({ results: [m] }) => read(reads.shard(member(m).conversation.shard)));
  const [{ viewerId, results: [membership, marks, members] }, found] = await Promise.all([main, rows]);
  const { conversation } = member(membership);
  rememberShard(conversationId, conversation.shard);
  return { viewerId, conversation, marks, members, found };
}

export function withParams(url: string, set: Record<string, string>, drop: string[]): string {
  const u = new URL(url);
  for (const key of drop) u.searchParams.delete(key);
  for (const [k, v] of Object.entries(set)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * One conversation's messages, oldest first, for a participant (404 for anyone else). Unfiltered pages
 * map to a seq range (seqs have no gaps and deletions keep theirs) and count is last_seq, so every page
 * costs the same at any depth, and so do cursors: the main batch (membership, watermarks, names) and
 * the shard's rows are read at once. Filtered lists need the viewer's status ranges first and use
 * OFFSET and count(*), whose cost grows with the matches.
 */
export async function listConversationMessages(reads: Reads, conversationId: number, viewer: Viewer, q: Query, url: string, pageSize: number) {
  const filters = q.status !== undefined || q.sender !== undefined || q.since !== undefined;
  const size = q.page_size ?? pageSize;
  if (filters) {
    if (q.after_seq !== undefined || q.before_seq !== undefined) throw new DomainError(400, "Use one cursor (after_seq or before_seq) and no filters with it.");
    const {
      viewerId,
      results: [membership, marks, members],
    } = await conversationBatch(reads, viewer, conversationId);
    const { conversation } = member(membership);
    const view = statusView(viewerId, marks);
    const seqRanges = q.status
      ? [true, false].map((own) => {
          const [low, high] = statusRange(view, own, q.status!);
          return { own, low, high };
        })
      : undefined;
    const filter = { senderId: q.sender, since: q.since ? new Date(q.since) : undefined, seqRanges, viewerId };
    const { count, rows } = await filtered(reads.shard(conversation.shard), conversationId, filter, (q.page - 1) * size, size);
    assertPageExists(q.page, size, count);
    return pageBody(url, q.page, size, count, (await withSenders(reads.main, rows, members)).map((m) => toMessageResource(m, view)));
  }
  if (q.after_seq !== undefined && q.before_seq !== undefined) throw new DomainError(400, "Use one cursor (after_seq or before_seq) and no filters with it.");
  const limit = q.limit ?? DEFAULT_CURSOR_LIMIT;
  const range = (shard: Shard) =>
    every(
      q.after_seq !== undefined
        ? afterSeq(shard, conversationId, q.after_seq, limit)
        : q.before_seq !== undefined
          ? beforeSeq(shard, conversationId, q.before_seq, limit)
          : bySeqRange(shard, conversationId, (q.page - 1) * size, q.page * size),
    );
  const { viewerId, conversation, marks, members, found } = await withShardRead(reads, conversationId, viewer, range);
  const view = statusView(viewerId, marks);
  const rows = await withSenders(reads.main, q.before_seq !== undefined ? [...found].reverse() : found, members);
  // The summary follows a flush by one main-database write: rows already in the shard count too.
  const lastSeq = Math.max(conversation.lastSeq, rows.at(-1)?.seq ?? 0);
  const present = rows.map((m) => toMessageResource(m, view));
  if (q.after_seq === undefined && q.before_seq === undefined) {
    assertPageExists(q.page, size, lastSeq);
    return pageBody(url, q.page, size, lastSeq, present);
  }
  const first = rows[0]?.seq;
  const last = rows.at(-1)?.seq;
  const cursorParams = ["after_seq", "before_seq", "page", "page_size"];
  return {
    count: lastSeq,
    next: last !== undefined && last < lastSeq ? withParams(url, { after_seq: String(last), limit: String(limit) }, cursorParams) : null,
    previous: first !== undefined && first > 1 ? withParams(url, { before_seq: String(first), limit: String(limit) }, cursorParams) : null,
    results: present,
  };
}

/**
 * A message of a conversation the viewer belongs to, with how the viewer sees statuses. Anything else is
 * the same 404, word for word: a stranger must not learn from the answer that a message id exists elsewhere.
 */
export async function visibleMessage(reads: Reads, conversationId: number, messageId: number, viewer: Viewer) {
  const read = await withShardRead(reads, conversationId, viewer, (shard) => findMessage(shard, conversationId, messageId)).catch(strangerAsNull);
  if (!read?.found) throw new DomainError(404, "No such message.");
  const [message] = await withSenders(reads.main, [read.found], read.members);
  return { message: message!, view: statusView(read.viewerId, read.marks) };
}

/** Membership's 404 (not a participant, or no such conversation) as null; other failures stay failures. */
function strangerAsNull(error: unknown): null {
  if (error instanceof DomainError && error.status === 404) return null;
  throw error;
}

/**
 * Rows from any of the viewer's conversations as resources: everyone's watermarks there and the names
 * the rows need, in one main batch.
 */
export async function presentAcross(reads: Reads, viewerId: number, rows: MessageRow[]): Promise<MessageResource[]> {
  if (rows.length === 0) return [];
  const ids = [...new Set(rows.map((r) => r.conversationId))];
  const [marks, names] = await batch(reads.main, [watermarksRead.bind(reads.main, { ids: JSON.stringify(ids) }), namesQuery(reads.main, [...new Set(rows.flatMap(sendersOf))])]);
  const views = new Map(ids.map((id) => [id, statusView(viewerId, marks.filter((m: Watermark & { conversationId: number }) => m.conversationId === id))]));
  return (await withSenders(reads.main, rows, names)).map((m) => toMessageResource(m, views.get(m.conversationId)!));
}

/** The conversations the viewer takes part in now (or only `conversationId`, if they do), by shard. */
export async function conversationsByShard(reads: Reads, viewerId: number, conversationId?: number): Promise<Map<number, number[]>> {
  const mine = await reads.main
    .select({ id: conversations.id, shard: conversations.shard })
    .from(participants)
    .innerJoin(conversations, eq(conversations.id, participants.conversationId))
    .where(and(eq(participants.userId, viewerId), conversationId === undefined ? undefined : eq(participants.conversationId, conversationId)));
  const byShard = new Map<number, number[]>();
  for (const c of mine) byShard.set(c.shard, [...(byShard.get(c.shard) ?? []), c.id]);
  return byShard;
}

/** A position in the list across conversations, as its `before` cursor: `<sent_at in ms>.<id>`. */
const cursorOf = (m: { sentAt: Date; id: number }) => `${m.sentAt.getTime()}.${m.id}`;

function parsePosition(cursor: string): Position {
  const [sentAt, id] = cursor.split(".").map(Number);
  return { sentAt: sentAt!, id: id! };
}

/**
 * Messages from all the viewer's conversations, newest first, by page or from a `before` cursor (what
 * `next` links carry). The conversations' shards are read at once and their parts merged; a cursor names a
 * position in one total order (sent_at, then id), so it stays right whichever shards the rows come from
 * and however many messages arrive meanwhile. Unbounded: slower as history grows, and a page costs what
 * all the pages before it cost.
 */
export async function listAllMessages(reads: Reads, viewerId: number, q: { page: number; size: number; before?: string }, url: string) {
  const from = q.before === undefined ? null : parsePosition(q.before);
  const byShard = await conversationsByShard(reads, viewerId);
  const want = from ? q.size + 1 : q.page * q.size;
  const parts = await Promise.all([...byShard].map(([index, ids]) => newestAcross(reads.shard(index), ids, from, want)));
  const count = parts.reduce((n, p) => n + p.count, 0);
  const merged = parts.flatMap((p) => p.rows).sort((a, b) => b.sentAt.getTime() - a.sentAt.getTime() || b.id - a.id);
  const rows = from ? merged.slice(0, q.size) : merged.slice((q.page - 1) * q.size, q.page * q.size);
  if (!from) assertPageExists(q.page, q.size, count);
  const results = await presentAcross(reads, viewerId, rows);
  // `next` is always a cursor, so a client following it neither repeats nor skips messages while new ones
  // arrive; `previous` goes back by page, where there are pages.
  const more = from ? merged.length > q.size : q.page * q.size < count;
  return {
    count,
    next: more && rows.length ? withParams(url, { before: cursorOf(rows.at(-1)!), page_size: String(q.size) }, ["before", "page"]) : null,
    previous: !from && q.page > 1 ? withParams(url, { page: String(q.page - 1), page_size: String(q.size) }, ["before"]) : null,
    results,
  };
}
