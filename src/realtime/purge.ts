import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversations, participants } from "../db/schema";
import { deleteChunk } from "../messages/store";

const PURGE_CHUNK = 1000;
const KEY = "purge";

/**
 * Starts deleting a conversation: its members go at once (everyone gets 404 from then on), and the
 * room's alarm deletes its messages in chunks, so a long history never exceeds one request's limits.
 */
export async function startPurge(storage: DurableObjectStorage, db: Database, conversationId: number): Promise<void> {
  await db.delete(participants).where(eq(participants.conversationId, conversationId));
  await storage.put(KEY, conversationId);
  await storage.setAlarm(Date.now());
}

/** The conversation being purged, if one is. */
export const purging = (storage: DurableObjectStorage) => storage.get<number>(KEY);

/** One chunk from the alarm; true when the conversation is gone and the room's storage cleared. */
export async function purgeStep(storage: DurableObjectStorage, db: Database, conversationId: number): Promise<boolean> {
  if ((await deleteChunk(db, conversationId, PURGE_CHUNK)) > 0) {
    await storage.setAlarm(Date.now());
    return false;
  }
  await db.delete(conversations).where(eq(conversations.id, conversationId));
  await storage.deleteAll();
  return true;
}
