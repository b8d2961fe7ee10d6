// Full-text search over the caller's conversations: each shard holding any of them is asked at once, and
// their answers merged into one order.
import type { z } from "@hono/zod-openapi";
import { SHARD_SLOTS } from "../db/shards";
import { DomainError } from "../errors";
import { conversationsByShard, presentAcross, withParams, type Reads } from "../messages/listing";
import { matching } from "./matches";
import { lastIsPrefix, matchExpression, searchTerms } from "./query";
import { snippetOf } from "./snippet";
import type { SearchQuery } from "./schemas";

type Query = z.infer<typeof SearchQuery>;
type Hit = Awaited<ReturnType<typeof matching>>[number];

const BAD_CURSOR = "The cursor is not one this search gave; follow `next` as it is.";

/**
 * Where a page starts. Newest first, a cursor holds, per shard, the id of the last hit taken from it
 * (each shard is read in its own order, so this is exact whatever arrives meanwhile). By rank, it is how
 * many hits came before: BM25 scores move as the index changes, so no position in them stays put.
 */
function startOf(q: Query, shards: number): { below: Map<number, number>; offset: number } {
  const below = new Map<number, number>();
  if (q.cursor === undefined) return { below, offset: 0 };
  if (q.order === "rank") {
    if (!/^\d{1,6}$/.test(q.cursor)) throw new DomainError(400, BAD_CURSOR);
    return { below, offset: Number(q.cursor) };
  }
  for (const part of q.cursor.split(",")) {
    const id = /^\d{1,16}$/.test(part) ? Number(part) : NaN;
    const shard = id % SHARD_SLOTS;
    if (!Number.isSafeInteger(id) || shard >= shards || below.has(shard)) throw new DomainError(400, BAD_CURSOR);
    below.set(shard, Math.floor(id / SHARD_SLOTS));
  }
  return { below, offset: 0 };
}

const newer = (a: Hit, b: Hit) => b.sentAt.getTime() - a.sentAt.getTime() || b.id - a.id;

/** The first `n` hits of several shards' lists, newest first, taking from the head of one list at a time: each list is used from its start, in its order. */
function mergeNewest(lists: Hit[][], n: number): Hit[] {
  const heads = lists.map(() => 0);
  const taken: Hit[] = [];
  while (taken.length < n) {
    let best = -1;
    lists.forEach((list, i) => {
      const head = list[heads[i]!];
      if (head && (best < 0 || newer(head, lists[best]![heads[best]!]!) < 0)) best = i;
    });
    if (best < 0) break;
    taken.push(lists[best]![heads[best]!++]!);
  }
  return taken;
}

/** A page of the caller's messages matching `q.q`, with their snippets, and the next page's URL. */
export async function searchMessages(reads: Reads, viewerId: number, q: Query, url: string, shards: number, blocked: readonly number[] = []) {
  const terms = searchTerms(q.q);
  const match = matchExpression(q.q);
  if (match === null) throw new DomainError(400, "Give at least one word to search for.");
  const { below, offset } = startOf(q, shards);
  const byShard = await conversationsByShard(reads, viewerId, q.conversation);
  if (q.conversation !== undefined && byShard.size === 0) throw new DomainError(404, "No such conversation.");
  // One more than a page, so `next` is only given when there is more.
  const want = offset + q.limit + 1;
  const lists = await Promise.all([...byShard].map(([index, ids]) => matching(reads.shard(index), ids, match, q.order, below.get(index) ?? null, want, 0, blocked)));
  let page: Hit[];
  let more: boolean;
  let cursor: string;
  if (q.order === "rank") {
    const ranked = lists.flat().sort((a, b) => a.rank - b.rank || newer(a, b));
    page = ranked.slice(offset, offset + q.limit);
    more = ranked.length > offset + q.limit;
    cursor = String(offset + q.limit);
  } else {
    const merged = mergeNewest(lists, q.limit + 1);
    page = merged.slice(0, q.limit);
    more = merged.length > q.limit;
    for (const hit of page) below.set(hit.id % SHARD_SLOTS, hit.row);
    cursor = [...below].map(([shard, row]) => row * SHARD_SLOTS + shard).join(",");
  }
  const messages = await presentAcross(reads, viewerId, page);
  return {
    next: more ? withParams(url, { cursor }, []) : null,
    results: page.map((hit, i) => ({ message: messages[i]!, snippet: snippetOf(hit.body, terms, lastIsPrefix(q.q)) })),
  };
}
