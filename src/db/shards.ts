// The message shards: every D1 binding named MESSAGES_<n>, numbered from 0 with no gap. A conversation's
// shard is chosen when it is created (src/conversations/conversations.ts) and never changes.
import { ConfigError, config } from "../config";
import { database, type Database } from "./client";

/**
 * A message's id names its shard: id = the shard's row id × SHARD_SLOTS + the shard's number, so ids
 * stay unique across shards, `/api/messages/{id}/` finds the shard without a lookup, and at most
 * SHARD_SLOTS shards can exist (row ids stay below 2^43: far past a shard's 10 GB).
 */
export const SHARD_SLOTS = 1024;

export type Shard = { index: number; db: Database };

const bindingsCache = new WeakMap<object, D1Database[]>();

/** The shards' bindings, in order; ConfigError when there is none or too many. */
export function shardBindings(env: Cloudflare.Env): D1Database[] {
  let found = bindingsCache.get(env);
  if (!found) {
    found = [];
    for (let d1; (d1 = (env as unknown as Record<string, D1Database | undefined>)[`MESSAGES_${found.length}`]); ) found.push(d1);
    if (found.length === 0 || found.length > SHARD_SLOTS) throw new ConfigError(`wrangler.toml must bind from 1 to ${SHARD_SLOTS} message shards, MESSAGES_0 upwards.`);
    bindingsCache.set(env, found);
  }
  return found;
}

/** The shards that take new conversations: all but CLOSED_SHARDS (ConfigError if that closes every one). */
export function openShards(env: Cloudflare.Env): number[] {
  const closed = new Set(config(env).CLOSED_SHARDS);
  const open = shardBindings(env)
    .map((_, index) => index)
    .filter((index) => !closed.has(index));
  if (open.length === 0) throw new ConfigError("CLOSED_SHARDS closes every message shard: new conversations would have nowhere to go.");
  return open;
}

/** Shard `index` over the primary, or over whatever `open` makes of its binding (a read session). */
export function shardAt(env: Cloudflare.Env, index: number, open: (d1: D1Database) => D1Database | D1DatabaseSession = (d1) => d1): Shard {
  const d1 = shardBindings(env)[index];
  if (!d1) throw new Error(`No message shard ${index}: a conversation names a shard that wrangler.toml no longer binds.`);
  return { index, db: database(open(d1)) };
}

/** The shard a message id names (possibly one that does not exist, for an id no shard holds). */
export function shardOfMessage(messageId: number): number {
  return messageId % SHARD_SLOTS;
}

/**
 * Conversation → shard, as read from the main database: a conversation never changes shard and ids are
 * never reused, so an isolate keeps what it learnt and reads a known conversation's shard and main
 * rows at once instead of one after the other. Bounded: cleared when full.
 */
const known = new Map<number, number>();
const KNOWN_MAX = 100_000;

export function rememberShard(conversationId: number, shard: number): void {
  if (known.size >= KNOWN_MAX) known.clear();
  known.set(conversationId, shard);
}

export const knownShard = (conversationId: number): number | undefined => known.get(conversationId);
