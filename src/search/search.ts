// Full-text search over the caller's conversations: each shard holding any of them is asked at once, and
// their answers merged into one order.
import type { z } from "@hono/zod-openapi";
import { DomainError } from "../errors";
import { conversationsByShard, presentAcross, withParams, type Reads } from "../messages/listing";
import type { Position } from "../messages/store";
import { matching } from "./matches";
import { highlighted, matchExpression } from "./query";
import type { SearchQuery } from "./schemas";

type Query = z.infer<typeof SearchQuery>;
type Hit = Awaited<ReturnType<typeof matching>>[number];

const BAD_CURSOR = "The cursor is not one this search gave; follow `next` as it is.";

/**
 * Where a page starts. Newest first, a cursor names the last hit (`<sent_at ms>.<id>`): one total order
 * across shards, which stays right as messages arrive. By rank, it is how many hits came before: BM25
 * scores move as the index changes, so no position in them stays put.
 */
function startOf(q: Query): { from: Position | null; offset: number } {
  if (q.cursor === undefined) return { from: null, offset: 0 };
  const pattern = q.order === "rank" ? /^(\d{1,6})$/ : /^(\d{1,15})\.(\d{1,16})$/;
  const parts = pattern.exec(q.cursor);
  if (!parts) throw new DomainError(400, BAD_CURSOR);
  return q.order === "rank" ? { from: null, offset: Number(parts[1]) } : { from: { sentAt: Number(parts[1]), id: Number(parts[2]) }, offset: 0 };
}

const newestFirst = (a: Hit, b: Hit) => b.sentAt.getTime() - a.sentAt.getTime() || b.id - a.id;
const byRank = (a: Hit, b: Hit) => a.rank - b.rank || newestFirst(a, b);

/** A page of the caller's messages matching `q.q`, with their snippets, and the next page's URL. */
export async function searchMessages(reads: Reads, viewerId: number, q: Query, url: string) {
  const match = matchExpression(q.q);
  if (match === null) throw new DomainError(400, "Give at least one word to search for.");
  const { from, offset } = startOf(q);
  const byShard = await conversationsByShard(reads, viewerId, q.conversation);
  if (q.conversation !== undefined && byShard.size === 0) throw new DomainError(404, "No such conversation.");
  // One more than a page, so `next` is only given when there is more.
  const want = offset + q.limit + 1;
  const parts = await Promise.all([...byShard].map(([index, ids]) => matching(reads.shard(index), ids, match, q.order, from, want)));
  const merged = parts.flat().sort(q.order === "rank" ? byRank : newestFirst);
  const page = merged.slice(offset, offset + q.limit);
  const messages = await presentAcross(reads, viewerId, page);
  const last = page.at(-1);
  const cursor = last && (q.order === "rank" ? String(offset + q.limit) : `${last.sentAt.getTime()}.${last.id}`);
  return {
    next: merged.length > offset + q.limit && cursor ? withParams(url, { cursor }, []) : null,
    results: page.map((hit, i) => ({ message: messages[i]!, snippet: highlighted(hit.snippet) })),
  };
}
