import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** Drizzle over a D1 database; cheap to create per request. */
export function database(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type Database = ReturnType<typeof database>;

/** The `table.column` named by a UNIQUE violation anywhere in an error's cause chain, or null. */
export function uniqueViolation(error: unknown): string | null {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const match = /UNIQUE constraint failed: ([\w.]+)/.exec(e.message);
    if (match) return match[1] ?? null;
  }
  return null;
}
