// The main database's attachment rows (the bytes are in R2 under each row's id).
import { and, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { attachments, participants, type AttachmentRow } from "../db/schema";
import type { StoredAttachment } from "../db/shard-schema";
import { compile, qb } from "../db/compiled";

/** An upload may be attached to a message for this long; the cleanup deletes it a little later. */
export const ATTACH_WITHIN_MS = 55 * 60 * 1000;
/** Unattached uploads older than this are deleted. */
export const UNATTACHED_TTL_MS = 60 * 60 * 1000;

/** The statement reading the bytes a user's attachments take in all. */
export function storedBytes(db: Database, userId: number) {
  return db.select({ bytes: sql<number>`coalesce(sum(${attachments.size}), 0)` }).from(attachments).where(eq(attachments.uploaderId, userId));
}

/** The attachment, if `userId` takes part in its conversation now. */
export async function visibleAttachment(db: Database, id: string, userId: number): Promise<AttachmentRow | undefined> {
  const [row] = await db
    .select({ attachment: attachments })
    .from(attachments)
    .innerJoin(participants, and(eq(participants.conversationId, attachments.conversationId), eq(participants.userId, userId)))
    .where(eq(attachments.id, id));
  return row?.attachment;
}

/** Of `ids`, those `userId` can see (for signed links). */
export function visibleAmong(db: Database, ids: string[], userId: number) {
  return db
    .select({ id: attachments.id })
    .from(attachments)
    .innerJoin(participants, and(eq(participants.conversationId, attachments.conversationId), eq(participants.userId, userId)))
    .where(inArray(attachments.id, ids));
}

/** The uploads a send names, if each is the sender's, to this conversation, recent and not attached yet. */
export function attachable(db: Database, ids: string[], senderId: number, conversationId: number, now: number) {
  return db
    .select()
    .from(attachments)
    .where(
      and(
        inArray(attachments.id, ids),
        eq(attachments.uploaderId, senderId),
        eq(attachments.conversationId, conversationId),
        isNull(attachments.messageId),
        sql`${attachments.createdAt} > ${now - ATTACH_WITHIN_MS}`,
      ),
    );
}

/** The statement marking uploads as attached: `pairs` of attachment id and message id. */
const attach = compile(["pairs"], (p) =>
  qb
    .update(attachments)
    .set({ messageId: sql`(SELECT json_extract(j.value, '$.m') FROM json_each(${p.pairs}) j WHERE json_extract(j.value, '$.a') = ${attachments.id})` })
    .where(sql`${attachments.id} IN (SELECT json_extract(value, '$.a') FROM json_each(${p.pairs}))`),
);

export const attached = (db: Database, pairs: { a: string; m: number }[]) => attach.bind(db, { pairs: JSON.stringify(pairs) });

/** Deletes up to `limit` rows matching `where` and returns their ids (whose objects the caller deletes). */
export async function takeRows(db: Database, where: ReturnType<typeof and>, limit: number): Promise<string[]> {
  const rows = await db
    .delete(attachments)
    .where(sql`${attachments.id} IN (SELECT ${attachments.id} FROM ${attachments} WHERE ${where} LIMIT ${limit})`)
    .returning({ id: attachments.id });
  return rows.map((r) => r.id);
}

export const ofMessage = (messageId: number) => eq(attachments.messageId, messageId);
export const ofConversation = (conversationId: number) => eq(attachments.conversationId, conversationId);
export const unsentBy = (userId: number) => and(isNull(attachments.messageId), eq(attachments.uploaderId, userId));
export const unattachedBefore = (time: number) => and(isNull(attachments.messageId), lt(attachments.createdAt, new Date(time)));

/** A row as a message keeps its copy. */
export function stored(row: AttachmentRow): StoredAttachment {
  return { id: row.id, name: row.name, contentType: row.contentType, size: row.size, sha256: row.sha256, width: row.width, height: row.height, createdAt: row.createdAt.getTime() };
}
