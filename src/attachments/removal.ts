// Removing attachments: rows from the main database, then their objects from R2, in chunks.
import type { Database } from "../db/client";
import { ofConversation, ofMessage, takeRows, unattachedBefore, unsentBy, UNATTACHED_TTL_MS } from "./store";

/** R2 deletes at most 1,000 keys a call. */
const CHUNK = 1000;

/** Deletes up to a chunk of attachments matching `where`; returns how many went. */
async function removeChunk(db: Database, bucket: R2Bucket, where: Parameters<typeof takeRows>[1]): Promise<number> {
  const ids = await takeRows(db, where, CHUNK);
  // Rows first: an object whose row is gone is unreachable, and an R2 failure only leaves bytes behind.
  if (ids.length) await bucket.delete(ids);
  return ids.length;
}

/** A deleted message's attachments. */
export const removeMessageAttachments = (db: Database, bucket: R2Bucket, messageId: number) => removeChunk(db, bucket, ofMessage(messageId));

/** One chunk of a deleted conversation's attachments (the purge calls it until none are left). */
export const removeConversationChunk = (db: Database, bucket: R2Bucket, conversationId: number) => removeChunk(db, bucket, ofConversation(conversationId));

/** A deleted account's uploads not sent yet (its sent ones go with its messages' tombstones), chunk after chunk. */
export async function removeUnsent(db: Database, bucket: R2Bucket, userId: number): Promise<void> {
  while ((await removeChunk(db, bucket, unsentBy(userId))) > 0);
}

/** Uploads never attached to a message within the hour, chunk after chunk (the cron's work). */
export async function removeUnattached(db: Database, bucket: R2Bucket, now = Date.now()): Promise<number> {
  let removed = 0;
  for (let n; (n = await removeChunk(db, bucket, unattachedBefore(now - UNATTACHED_TTL_MS))) > 0; ) removed += n;
  return removed;
}
