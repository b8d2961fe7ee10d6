import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { participants, type ConversationRow } from "../db/schema";
import { DomainError } from "../errors";
import { assertPageExists, pageBody } from "../http/pagination";
import { toMessageResource } from "./resource";
import type { MessageListQuery } from "./schemas";
import { statusRange, statusView, type StatusView, type Watermark } from "./status";
import { acrossConversations, afterSeq, beforeSeq, bySeqRange, filtered, type StoredMessage } from "./store";
import type { z } from "@hono/zod-openapi";

type Query = z.infer<typeof MessageListQuery> & { page: number; page_size?: number };
const DEFAULT_CURSOR_LIMIT = 50;

const watermarkColumns = { conversationId: participants.conversationId, userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq };

/** Every participant's watermarks in the given conversations (one query; ids travel as one JSON parameter). */
export async function watermarksOf(db: Database, conversationIds: number[]) {
  if (conversationIds.length === 0) return [];
  return db.select(watermarkColumns).from(participants).where(sql`${participants.conversationId} IN (SELECT value FROM json_each(${JSON.stringify(conversationIds)}))`);
}

/** How `viewerId` sees statuses in one conversation. */
export async function viewOf(db: Database, conversationId: number, viewerId: number): Promise<StatusView> {
  const marks: Watermark[] = await db.select(watermarkColumns).from(participants).where(eq(participants.conversationId, conversationId));
  return statusView(viewerId, marks);
}

function withParams(url: string, set: Record<string, string>, drop: string[]): string {
  const u = new URL(url);
  for (const key of drop) u.searchParams.delete(key);
  for (const [k, v] of Object.entries(set)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * One conversation's messages, oldest first. Unfiltered pages map to a seq range (seqs have no gaps and
 * deletions keep theirs), and count is last_seq, so every page costs the same at any depth; so do cursors.
 * Filtered lists use OFFSET and count(*), whose cost grows with the matches.
 */
export async function listConversationMessages(db: Database, conversation: ConversationRow, viewerId: number, q: Query, url: string, pageSize: number) {
  const view = await viewOf(db, conversation.id, viewerId);
  const present = (rows: StoredMessage[]) => rows.map((m) => toMessageResource(m, view));
  const filters = q.status !== undefined || q.sender !== undefined || q.since !== undefined;

  if (q.after_seq !== undefined || q.before_seq !== undefined) {
    if (filters || (q.after_seq !== undefined && q.before_seq !== undefined)) {
      throw new DomainError(400, "Use one cursor (after_seq or before_seq) and no filters with it.");
    }
    const limit = q.limit ?? DEFAULT_CURSOR_LIMIT;
    const rows = q.after_seq !== undefined ? await afterSeq(db, conversation.id, q.after_seq, limit) : (await beforeSeq(db, conversation.id, q.before_seq!, limit)).reverse();
    const first = rows[0]?.seq;
    const last = rows.at(-1)?.seq;
    const cursorParams = ["after_seq", "before_seq", "page", "page_size"];
    return {
      count: conversation.lastSeq,
      next: last !== undefined && last < conversation.lastSeq ? withParams(url, { after_seq: String(last), limit: String(limit) }, cursorParams) : null,
      previous: first !== undefined && first > 1 ? withParams(url, { before_seq: String(first), limit: String(limit) }, cursorParams) : null,
      results: present(rows),
    };
  }

  const size = q.page_size ?? pageSize;
  if (!filters) {
    assertPageExists(q.page, size, conversation.lastSeq);
    const rows = await bySeqRange(db, conversation.id, (q.page - 1) * size, q.page * size);
    return pageBody(url, q.page, size, conversation.lastSeq, present(rows));
  }
  const seqRanges = q.status
    ? [true, false].map((own) => {
        const [low, high] = statusRange(view, own, q.status!);
        return { own, low, high };
      })
    : undefined;
  const { count, rows } = await filtered(db, conversation.id, { senderId: q.sender, since: q.since ? new Date(q.since) : undefined, seqRanges, viewerId }, (q.page - 1) * size, size);
  assertPageExists(q.page, size, count);
  return pageBody(url, q.page, size, count, present(rows));
}

/** Messages from all the viewer's conversations, newest first (unbounded: slower as history grows). */
export async function listAllMessages(db: Database, viewerId: number, page: number, size: number, url: string) {
  const { count, rows } = await acrossConversations(db, viewerId, (page - 1) * size, size);
  assertPageExists(page, size, count);
  const ids = [...new Set(rows.map((r) => r.conversationId))];
  const marks = await watermarksOf(db, ids);
  const views = new Map(ids.map((id) => [id, statusView(viewerId, marks.filter((m) => m.conversationId === id))]));
  return pageBody(url, page, size, count, rows.map((m) => toMessageResource(m, views.get(m.conversationId)!)));
}
