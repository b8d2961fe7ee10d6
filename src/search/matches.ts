// The search index's query on one shard (the index itself is migrations-messages/0002_search_and_cleanup.sql).
import { and, eq, sql } from "drizzle-orm";
import { messages } from "../db/shard-schema";
import type { Shard } from "../db/shards";
import { columns } from "../messages/store";

export type SearchOrder = "newest" | "rank";

/**
 * By rank, only this many of the newest matches per shard are scored: BM25 is computed for every
 * candidate, and a word in a million messages would cost seconds. Newest first has no such bound: the
 * index yields matches newest first and the query stops at a page.
 */
export const RANK_WINDOW = 10_000;

/**
 * Live messages of `conversationIds` matching `match` (an expression from matchExpression), at most
 * `limit` after skipping `offset`. Newest first, they come in the index's own order (row ids, which grow
 * as messages are stored), from below the row id `below`, so a page stops early however common the word;
 * by rank (BM25, lower is better) among the shard's newest RANK_WINDOW matches, the page's row ids are
 * chosen in the index first and its messages read by id after, so the query runs once.
 */
export function matching(s: Shard, conversationIds: number[], match: string, order: SearchOrder, below: number | null, limit: number, offset = 0, blocked: readonly number[] = []) {
  const mine = and(
    sql`messages_fts MATCH ${match}`,
    sql`${messages.conversationId} IN (SELECT value FROM json_each(${JSON.stringify(conversationIds)}))`,
    eq(messages.deleted, false),
    // Nothing from people the viewer blocked.
    blocked.length ? sql`${messages.senderId} NOT IN (SELECT value FROM json_each(${JSON.stringify(blocked)}))` : undefined,
    // A disappearing message past its time, not yet tombstoned by its room's alarm, is gone all the same.
    sql`(${messages.expiresAt} IS NULL OR ${messages.expiresAt} > CAST(unixepoch('subsec') * 1000 AS INTEGER))`,
  );
  const joined = sql`messages_fts JOIN ${messages} ON ${messages.id} = messages_fts.rowid`;
  if (order === "rank") {
    const oldestRanked = sql`coalesce((SELECT messages_fts.rowid FROM ${joined} WHERE ${mine} ORDER BY messages_fts.rowid DESC LIMIT 1 OFFSET ${RANK_WINDOW - 1}), 0)`;
    const ranked = sql`(SELECT messages_fts.rowid AS row, bm25(messages_fts) AS score FROM ${joined} WHERE ${mine} AND messages_fts.rowid >= ${oldestRanked} ORDER BY score, messages_fts.rowid DESC LIMIT ${limit} OFFSET ${offset}) p`;
    return s.db
      .select({ ...columns(s), row: sql<number>`p.row`.as("row"), rank: sql<number>`p.score`.as("rank") })
      .from(messages)
      .innerJoin(ranked, sql`p.row = ${messages.id}`)
      .orderBy(sql`p.score, p.row DESC`);
  }
  return s.db
    .select({ ...columns(s), row: sql<number>`messages_fts.rowid`.as("row"), rank: sql<number>`0`.as("rank") })
    .from(messages)
    .innerJoin(sql`messages_fts`, sql`messages_fts.rowid = ${messages.id}`)
    .where(and(mine, below !== null ? sql`messages_fts.rowid < ${below}` : undefined))
    .orderBy(sql`messages_fts.rowid DESC`)
    .limit(limit)
    .offset(offset);
}
