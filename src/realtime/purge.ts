import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversations, messageShards, participants } from "../db/schema";
import type { Shard } from "../db/shards";
import { removeConversationChunk } from "../attachments/removal";
import { deleteChunk } from "../messages/store";
import { batch } from "../db/compiled";

const PURGE_CHUNK = 1000;
const KEY = "purge";

/**
 * Starts deleting a conversation: its members go at once (everyone gets 404 from then on), and the
 * room's alarm deletes its messages, then its attachments, in chunks, so a long history never exceeds
 * one request's limits.
 */
export async function startPurge(storage: DurableObjectStorage, db: Database, purge: Purge): Promise<void> {
  await db.delete(participants).where(eq(participants.conversationId, purge.conversationId));
  await storage.put(KEY, purge);
  await storage.setAlarm(Date.now());
}

/** A conversation being deleted, and its message shard. */
export type Purge = { conversationId: number; shard: number };

/** The conversation being purged, if one is. */
export const purging = (storage: DurableObjectStorage) => storage.get<Purge>(KEY);

/**
 * One chunk from the alarm; true when the conversation is gone (its row, and its count on its shard)
 * and the room's storage cleared.
 */
export async function purgeStep(storage: DurableObjectStorage, db: Database, bucket: R2Bucket, shard: Shard, conversationId: number): Promise<boolean> {
  if ((await deleteChunk(shard, conversationId, PURGE_CHUNK)) > 0 || (await removeConversationChunk(db, bucket, conversationId)) > 0) {
    await storage.setAlarm(Date.now());
    return false;
  }
  await batch(db, [
    db
      .update(messageShards)
      .set({ conversations: sql`max(${messageShards.conversations} - 1, 0)` })
      .where(eq(messageShards.shard, shard.index)),
    db.delete(conversations).where(eq(conversations.id, conversationId)),
  ]);
  await storage.deleteAll();
  return true;
}
