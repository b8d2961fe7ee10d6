import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

/**
 * Drizzle over a D1 database (the main one or a message shard, src/db/shards.ts) or one of its sessions
 * (D1's Sessions API: the same prepare and batch, which is all drizzle calls). No schema: nothing uses
 * relational queries, and with one every call rebuilt their config (a quarter of a room's CPU per send).
 */
export function database(d1: D1Database | D1DatabaseSession): Database {
  let db = made.get(d1);
  if (!db) made.set(d1, (db = drizzle(d1 as D1Database)));
  return db;
}

/** Drizzle, and the D1 database or session under it (`$client`) for statements compiled once (src/db/compiled.ts). */
export type Database = DrizzleD1Database & { $client: D1Database | D1DatabaseSession };

/** One per binding (a session is new each request): drizzle builds its dialect and session on every call. */
const made = new WeakMap<D1Database | D1DatabaseSession, Database>();

/** The `table.column` named by a UNIQUE violation anywhere in an error's cause chain, or null. */
export function uniqueViolation(error: unknown): string | null {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const match = /UNIQUE constraint failed: ([\w.]+)/.exec(e.message);
    if (match) return match[1] ?? null;
  }
  return null;
}
