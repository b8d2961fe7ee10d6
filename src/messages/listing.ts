import { eq, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { member, membershipQuery } from "../conversations/conversations";
import { participants } from "../db/schema";
import { DomainError } from "../errors";
import { assertPageExists, pageBody } from "../http/pagination";
import { toMessageResource } from "./resource";
import type { MessageListQuery } from "./schemas";
import { statusRange, statusView, type StatusView, type Watermark } from "./status";
import { acrossConversations, afterSeq, beforeSeq, bySeqRange, filtered } from "./store";
import type { z } from "@hono/zod-openapi";

type Query = z.infer<typeof MessageListQuery> & { page: number; page_size?: number };
const DEFAULT_CURSOR_LIMIT = 50;

const watermarkColumns = { conversationId: participants.conversationId, userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq };

/** The statement reading every participant's watermarks in the given conversations (ids as one JSON parameter, or a subquery). */
export function watermarksQuery(db: Database, conversationIds: number[] | SQL) {
  const ids = Array.isArray(conversationIds) ? sql`(SELECT value FROM json_each(${JSON.stringify(conversationIds)}))` : conversationIds;
  return db.select(watermarkColumns).from(participants).where(sql`${participants.conversationId} IN ${ids}`);
}

/** The statement reading every participant's watermarks in one conversation. */
const marksQuery = (db: Database, conversationId: number) => db.select(watermarkColumns).from(participants).where(eq(participants.conversationId, conversationId));

/** How `viewerId` sees statuses in one conversation. */
export async function viewOf(db: Database, conversationId: number, viewerId: number): Promise<StatusView> {
  const marks: Watermark[] = await marksQuery(db, conversationId);
  return statusView(viewerId, marks);
}

function withParams(url: string, set: Record<string, string>, drop: string[]): string {
  const u = new URL(url);
  for (const key of drop) u.searchParams.delete(key);
  for (const [k, v] of Object.entries(set)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * One conversation's messages, oldest first, for a participant (404 for anyone else). Unfiltered pages
 * map to a seq range (seqs have no gaps and deletions keep theirs) and count is last_seq, so every page
 * costs the same at any depth, and so do cursors: membership, watermarks and the rows are one D1 batch.
 * Filtered lists need the viewer's status ranges first and use OFFSET and count(*), whose cost grows
 * with the matches.
 */
export async function listConversationMessages(db: Database, conversationId: number, viewerId: number, q: Query, url: string, pageSize: number) {
  const filters = q.status !== undefined || q.sender !== undefined || q.since !== undefined;
  const size = q.page_size ?? pageSize;
  if (filters) {
    if (q.after_seq !== undefined || q.before_seq !== undefined) throw new DomainError(400, "Use one cursor (after_seq or before_seq) and no filters with it.");
    const [membership, marks] = await db.batch([membershipQuery(db, conversationId, viewerId), marksQuery(db, conversationId)]);
    member(membership);
    const view = statusView(viewerId, marks);
    const seqRanges = q.status
      ? [true, false].map((own) => {
          const [low, high] = statusRange(view, own, q.status!);
          return { own, low, high };
        })
      : undefined;
    const { count, rows } = await filtered(db, conversationId, { senderId: q.sender, since: q.since ? new Date(q.since) : undefined, seqRanges, viewerId }, (q.page - 1) * size, size);
    assertPageExists(q.page, size, count);
    return pageBody(url, q.page, size, count, rows.map((m) => toMessageResource(m, view)));
  }
  if (q.after_seq !== undefined && q.before_seq !== undefined) throw new DomainError(400, "Use one cursor (after_seq or before_seq) and no filters with it.");
  const limit = q.limit ?? DEFAULT_CURSOR_LIMIT;
  const range =
    q.after_seq !== undefined
      ? afterSeq(db, conversationId, q.after_seq, limit)
      : q.before_seq !== undefined
        ? beforeSeq(db, conversationId, q.before_seq, limit)
        : bySeqRange(db, conversationId, (q.page - 1) * size, q.page * size);
  const [membership, marks, found] = await db.batch([membershipQuery(db, conversationId, viewerId), marksQuery(db, conversationId), range]);
  const { conversation } = member(membership);
  const view = statusView(viewerId, marks);
  const rows = q.before_seq !== undefined ? [...found].reverse() : found;
  const present = rows.map((m) => toMessageResource(m, view));
  if (q.after_seq === undefined && q.before_seq === undefined) {
    assertPageExists(q.page, size, conversation.lastSeq);
    return pageBody(url, q.page, size, conversation.lastSeq, present);
  }
  const first = rows[0]?.seq;
  const last = rows.at(-1)?.seq;
  const cursorParams = ["after_seq", "before_seq", "page", "page_size"];
  return {
    count: conversation.lastSeq,
    next: last !== undefined && last < conversation.lastSeq ? withParams(url, { after_seq: String(last), limit: String(limit) }, cursorParams) : null,
    previous: first !== undefined && first > 1 ? withParams(url, { before_seq: String(first), limit: String(limit) }, cursorParams) : null,
    results: present,
  };
}

/** Messages from all the viewer's conversations, newest first (unbounded: slower as history grows). */
export async function listAllMessages(db: Database, viewerId: number, page: number, size: number, url: string) {
  const { count, rows } = await acrossConversations(db, viewerId, (page - 1) * size, size);
  assertPageExists(page, size, count);
  const ids = [...new Set(rows.map((r) => r.conversationId))];
  const marks = await watermarksQuery(db, ids);
  const views = new Map(ids.map((id) => [id, statusView(viewerId, marks.filter((m) => m.conversationId === id))]));
  return pageBody(url, page, size, count, rows.map((m) => toMessageResource(m, views.get(m.conversationId)!)));
}
