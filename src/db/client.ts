import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";
import * as shardSchema from "./shard-schema";

/**
 * Drizzle over a D1 database or one of its sessions (D1's Sessions API: the same prepare and batch,
 * which is all drizzle calls); cheap to create per request.
 */
export function database(d1: D1Database | D1DatabaseSession) {
  return drizzle(d1 as D1Database, { schema });
}

export type Database = ReturnType<typeof database>;

/** Drizzle over a message shard (src/db/shards.ts). */
export function shardDatabase(d1: D1Database | D1DatabaseSession) {
  return drizzle(d1 as D1Database, { schema: shardSchema });
}

export type ShardDatabase = ReturnType<typeof shardDatabase>;

/** The `table.column` named by a UNIQUE violation anywhere in an error's cause chain, or null. */
export function uniqueViolation(error: unknown): string | null {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const match = /UNIQUE constraint failed: ([\w.]+)/.exec(e.message);
    if (match) return match[1] ?? null;
  }
  return null;
}
