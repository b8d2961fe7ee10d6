// The search index's query on one shard (the index itself is migrations-messages/0002_search_and_cleanup.sql).
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { messages } from "../db/shard-schema";
import type { Shard } from "../db/shards";
import { apiId, columns, type Position } from "../messages/store";
import { MARK_END, MARK_START } from "./query";

export type SearchOrder = "newest" | "rank";

/** Tokens of context FTS5's snippet() keeps around the matches. */
const SNIPPET_TOKENS = 16;

/**
 * The first `limit` live messages of `conversationIds` matching `match` (an expression from
 * matchExpression), newest first from `from`, or by rank (bm25: lower is better) skipping `offset`.
 */
export function matching(s: Shard, conversationIds: number[], match: string, order: SearchOrder, from: Position | null, limit: number, offset = 0) {
  const after = from && sql`(${messages.sentAt} < ${from.sentAt} OR (${messages.sentAt} = ${from.sentAt} AND ${apiId(s)} < ${from.id}))`;
  const rank = sql<number>`bm25(messages_fts)`;
  return s.db
    .select({
      ...columns(s),
      snippet: sql<string>`snippet(messages_fts, 0, ${MARK_START}, ${MARK_END}, '…', ${SNIPPET_TOKENS})`.as("snippet"),
      rank: rank.as("rank"),
    })
    .from(messages)
    .innerJoin(sql`messages_fts`, sql`messages_fts.rowid = ${messages.id}`)
    .where(
      and(
        sql`messages_fts MATCH ${match}`,
        sql`${messages.conversationId} IN (SELECT value FROM json_each(${JSON.stringify(conversationIds)}))`,
        eq(messages.deleted, false),
        order === "newest" ? (after ?? undefined) : undefined,
      ),
    )
    .orderBy(...(order === "rank" ? [asc(rank)] : []), desc(messages.sentAt), desc(messages.id))
    .limit(limit)
    .offset(offset);
}
