// Reads of a conversation's threads and pins: views of its messages, read like its history (the main
// batch and the shard's rows at once, 404 to strangers).
import type { z } from "@hono/zod-openapi";
import { DomainError } from "../errors";
import { assertPageExists, pageBody } from "../http/pagination";
import { DEFAULT_CURSOR_LIMIT, withParams, withShardRead, type Reads } from "./listing";
import { toMessageResource } from "./resource";
import type { ReplyListQuery } from "./schemas";
import { withSenders } from "./senders";
import { statusView } from "./status";
import { pinned, replies, replyBounds, rowIdIn, selectMessage } from "./store";
import { batch } from "../db/compiled";

type Query = z.infer<typeof ReplyListQuery> & { page: number; page_size?: number };
const NO_MESSAGE = "No such message.";

/**
 * The replies to a message, oldest first, by page or from a cursor (`after_seq` / `before_seq` with
 * `limit`), as the conversation's history pages. `count` counts deleted replies too: they keep their place.
 */
export async function listReplies(reads: Reads, conversationId: number, messageId: number, viewerId: number, q: Query, url: string, pageSize: number) {
  if (q.after_seq !== undefined && q.before_seq !== undefined) throw new DomainError(400, "Use one cursor: after_seq or before_seq.");
  const size = q.page_size ?? pageSize;
  const limit = q.limit ?? DEFAULT_CURSOR_LIMIT;
  const read = await withShardRead(reads, conversationId, viewerId, (shard) => {
    const row = rowIdIn(shard, messageId) ?? 0;
    const range =
      q.after_seq !== undefined
        ? { after: q.after_seq, limit }
        : q.before_seq !== undefined
          ? { before: q.before_seq, limit, newestFirst: true }
          : { limit: size, offset: (q.page - 1) * size };
    return batch(shard.db, [selectMessage(shard, conversationId, messageId), replyBounds(shard, row), replies(shard, row, range)]);
  });
  const [[parent], [bounds], found] = read.found;
  if (!parent) throw new DomainError(404, NO_MESSAGE);
  const view = statusView(viewerId, read.marks);
  const rows = await withSenders(reads.main, q.before_seq !== undefined ? [...found].reverse() : found, read.members);
  const results = rows.map((m) => toMessageResource(m, view));
  const count = bounds?.n ?? 0;
  if (q.after_seq === undefined && q.before_seq === undefined) {
    assertPageExists(q.page, size, count);
    return pageBody(url, q.page, size, count, results);
  }
  const cursorParams = ["after_seq", "before_seq", "page", "page_size"];
  const first = rows[0]?.seq;
  const last = rows.at(-1)?.seq;
  return {
    count,
    next: last !== undefined && last < (bounds?.last ?? 0) ? withParams(url, { after_seq: String(last), limit: String(limit) }, cursorParams) : null,
    previous: first !== undefined && first > (bounds?.first ?? Infinity) ? withParams(url, { before_seq: String(first), limit: String(limit) }, cursorParams) : null,
    results,
  };
}

/** The conversation's pinned messages, most recently pinned first (at most MAX_PINS). */
export async function listPins(reads: Reads, conversationId: number, viewerId: number) {
  const read = await withShardRead(reads, conversationId, viewerId, (shard) => pinned(shard, conversationId));
  const view = statusView(viewerId, read.marks);
  return (await withSenders(reads.main, read.found, read.members)).map((m) => toMessageResource(m, view));
}
