// Messages live in the message shards (MESSAGES_<n>), not in the main database: tests that look at
// stored rows, or write rows behind the rooms' backs, find a conversation's shard here.
import { env } from "cloudflare:test";
import { SHARD_SLOTS, shardAt, shardBindings, type Shard } from "../../src/db/shards";

/**
 * The shard holding a conversation's messages, as the main database names it (conversations.shard):
 * its number, its D1 binding and drizzle over it (for store.ts). Throws for a conversation that does
 * not exist (a deleted one included): ask before deleting.
 */
export async function shardOf(conversationId: number): Promise<{ index: number; d1: D1Database; shard: Shard }> {
  const row = await env.DB.prepare("SELECT shard FROM conversations WHERE id = ?").bind(conversationId).first<{ shard: number }>();
  if (!row) throw new Error(`no conversation ${conversationId} in the main database`);
  const d1 = shardBindings(env)[row.shard];
  if (!d1) throw new Error(`conversation ${conversationId} names shard ${row.shard}, which is not bound`);
  return { index: row.shard, d1, shard: shardAt(env, row.shard) };
}

/** The shard's own row id (messages.id) of a message's API id. */
export const localId = (apiId: number) => Math.floor(apiId / SHARD_SLOTS);

/** The shard an API message id names. */
export const shardIndexOf = (apiId: number) => apiId % SHARD_SLOTS;

/** The API id of row `local` of shard `index`. */
export const apiIdOf = (local: number, index: number) => local * SHARD_SLOTS + index;

/**
 * Reads `read()` again until `done` holds of it, or `timeoutMs` passed, and returns the last value read
 * (for the caller to assert on). For what follows an answer by design: the main database's copy of a
 * flush (last_seq, the last message, watermarks) is written right after the sends are answered.
 */
export async function settled<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}
