// The search index's query on one shard (the index itself is migrations-messages/0002_search_and_cleanup.sql).
import { and, eq, sql } from "drizzle-orm";
import { messages } from "../db/shard-schema";
import type { Shard } from "../db/shards";
import { columns } from "../messages/store";
import type { Marks } from "./query";

export type SearchOrder = "newest" | "rank";

/** Tokens of context FTS5's snippet() keeps around the matches. */
const SNIPPET_TOKENS = 16;

/**
 * By rank, only this many of the newest matches per shard are scored: BM25 is computed for every
 * candidate, and a word in a million messages would cost seconds. Newest first has no such bound: the
 * index yields matches newest first and the query stops at a page.
 */
export const RANK_WINDOW = 10_000;

/**
 * Live messages of `conversationIds` matching `match` (an expression from matchExpression), with a
 * snippet of each marked with `marks`, at most
 * `limit` after skipping `offset`. Newest first, they come in the index's own order (row ids, which grow
 * as messages are stored), from below the row id `below`, so a page costs the same however common the
 * word; by rank (BM25, lower is better) among the shard's newest RANK_WINDOW matches.
 */
export function matching(s: Shard, conversationIds: number[], match: string, marks: Marks, order: SearchOrder, below: number | null, limit: number, offset = 0) {
  const mine = and(
    sql`messages_fts MATCH ${match}`,
    sql`${messages.conversationId} IN (SELECT value FROM json_each(${JSON.stringify(conversationIds)}))`,
    eq(messages.deleted, false),
  );
  const rank = sql<number>`bm25(messages_fts)`;
  const joined = sql`messages_fts JOIN ${messages} ON ${messages.id} = messages_fts.rowid`;
  // By rank, the page's row ids are chosen first, so snippets and the message's other reads are made
  // for the page alone, not for every candidate.
  const oldestRanked = sql`coalesce((SELECT messages_fts.rowid FROM ${joined} WHERE ${mine} ORDER BY messages_fts.rowid DESC LIMIT 1 OFFSET ${RANK_WINDOW - 1}), 0)`;
  const ranked = sql`SELECT messages_fts.rowid FROM ${joined} WHERE ${mine} AND messages_fts.rowid >= ${oldestRanked} ORDER BY ${rank}, messages_fts.rowid DESC LIMIT ${limit} OFFSET ${offset}`;
  const query = s.db
    .select({
      ...columns(s),
      row: sql<number>`messages_fts.rowid`.as("row"),
      snippet: sql<string>`snippet(messages_fts, 0, ${marks.start}, ${marks.end}, '…', ${SNIPPET_TOKENS})`.as("snippet"),
      rank: rank.as("rank"),
    })
    .from(messages)
    .innerJoin(sql`messages_fts`, sql`messages_fts.rowid = ${messages.id}`);
  if (order === "rank") return query.where(and(mine, sql`messages_fts.rowid IN (${ranked})`)).orderBy(sql`${rank}, messages_fts.rowid DESC`);
  return query
    .where(and(mine, below !== null ? sql`messages_fts.rowid < ${below}` : undefined))
    .orderBy(sql`messages_fts.rowid DESC`)
    .limit(limit)
    .offset(offset);
}
