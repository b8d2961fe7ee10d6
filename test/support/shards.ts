// Messages live in the message shards (MESSAGES_<n>), not in the main database: tests that look at
// stored rows, or write rows behind the rooms' backs, find a conversation's shard here, and what the main
// database and each shard hold, read straight from D1.
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { ConversationResource } from "../../src/conversations/schemas";
import { SHARD_SLOTS, shardAt, shardBindings, type Shard } from "../../src/db/shards";
import { appWith } from "./http";

export { SHARD_SLOTS };

/**
 * The shard holding a conversation's messages, as the main database names it (conversations.shard):
 * its number, its D1 binding and drizzle over it (for store.ts). Throws for a conversation that does
 * not exist (a deleted one included): ask before deleting.
 */
export async function shardOf(conversationId: number): Promise<{ index: number; d1: D1Database; shard: Shard }> {
  const index = await shardOfConversation(conversationId);
  if (index === undefined) throw new Error(`no conversation ${conversationId} in the main database`);
  const d1 = shardBindings(env)[index];
  if (!d1) throw new Error(`conversation ${conversationId} names shard ${index}, which is not bound`);
  return { index, d1, shard: shardAt(env, index) };
}

/** The shard's own row id (messages.id) of a message's API id. */
export const localId = (apiId: number) => Math.floor(apiId / SHARD_SLOTS);

/** The API id of row `local` of shard `index`. */
export const apiIdOf = (local: number, index: number) => local * SHARD_SLOTS + index;

/**
 * Reads until `done` holds of what was read, at most `timeoutMs`, and returns that read: for what follows
 * an answer by design (the main database's copy of a flush: last_seq, the last message, watermarks; an
 * edit's copy). Fails with the last read.
 */
export async function settled<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms; last read: ${JSON.stringify(value).slice(0, 800)}`);
    await sleep(10);
  }
}

/** How many shards the tests run with (MESSAGES_0 and MESSAGES_1 in wrangler.toml). */
export const shardCount = () => shardBindings(env).length;

/** The shard a message id names. */
export const shardOfId = (messageId: number) => messageId % SHARD_SLOTS;

/** The shard the main database records for a conversation (undefined once it is gone). */
export async function shardOfConversation(conversationId: number): Promise<number | undefined> {
  return (await env.DB.prepare("SELECT shard FROM conversations WHERE id = ?").bind(conversationId).first<{ shard: number }>())?.shard;
}

/** `message_shards`: conversations per shard, as the least-full choice reads them (0 for a shard without a row). */
export async function shardCounts(): Promise<number[]> {
  const { results } = await env.DB.prepare("SELECT shard, conversations FROM message_shards").all<{ shard: number; conversations: number }>();
  const counts = Array.from({ length: shardCount() }, () => 0);
  for (const r of results) counts[r.shard] = r.conversations;
  return counts;
}

/** Conversation rows per shard, counted in the main database. */
export async function conversationRowsPerShard(): Promise<number[]> {
  const { results } = await env.DB.prepare("SELECT shard, count(*) AS n FROM conversations GROUP BY shard").all<{ shard: number; n: number }>();
  const counts = Array.from({ length: shardCount() }, () => 0);
  for (const r of results) counts[r.shard] = r.n;
  return counts;
}

/** `message_shards` agrees with the conversation rows: the least-full choice counts what is there. */
export async function expectCountsMatchRows(): Promise<void> {
  expect(await shardCounts()).toEqual(await conversationRowsPerShard());
}

export type ShardRow = { id: number; conversation_id: number; seq: number; sender_id: number; body: string; sent_at: number; deleted: number; edited_at: number | null };

/** A conversation's rows in one shard, by seq (`id` is the shard's own row id, not the API's). */
export async function rowsIn(shard: number, conversationId: number): Promise<ShardRow[]> {
  const d1 = shardBindings(env)[shard]!;
  const { results } = await d1
    .prepare("SELECT id, conversation_id, seq, sender_id, body, sent_at, deleted, edited_at FROM messages WHERE conversation_id = ? ORDER BY seq")
    .bind(conversationId)
    .all<ShardRow>();
  return results;
}

/** Every row of a shard (row id and conversation). */
export async function allRowsIn(shard: number): Promise<{ id: number; conversation_id: number }[]> {
  const { results } = await shardBindings(env)[shard]!.prepare("SELECT id, conversation_id FROM messages ORDER BY id").all<{ id: number; conversation_id: number }>();
  return results;
}

/** Where each shard holds rows of a conversation: [rows in shard 0, rows in shard 1, …]. */
export async function rowsPerShard(conversationId: number): Promise<number[]> {
  return Promise.all(shardBindings(env).map(async (d1) => (await d1.prepare("SELECT count(*) AS n FROM messages WHERE conversation_id = ?").bind(conversationId).first<{ n: number }>())!.n));
}

/** The app with every shard but `shard` closed: whatever it creates goes to `shard`. */
export function onlyShardOpen(shard: number) {
  const closed = Array.from({ length: shardCount() }, (_, i) => i).filter((i) => i !== shard);
  return appWith({ CLOSED_SHARDS: closed.join(",") });
}

/** Starts a conversation on `shard` (the others closed for this one request) and checks it landed there. */
export async function startOn(shard: number, who: { token: string }, participants: number[], extra: Record<string, unknown> = {}): Promise<ConversationResource> {
  const res = await onlyShardOpen(shard)("/api/conversations/", {
    method: "POST",
    headers: { Authorization: `Bearer ${who.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ participants, ...extra }),
  });
  expect(res.status).toBe(201);
  const conversation = (await res.json()) as ConversationResource;
  expect(await shardOfConversation(conversation.id)).toBe(shard);
  return conversation;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

