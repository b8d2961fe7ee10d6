import { and, eq, ne } from "drizzle-orm";
import { membership } from "../conversations/conversations";
import type { Database } from "../db/client";
import { participants, users } from "../db/schema";
import { DomainError } from "../errors";
import { room } from "../realtime/room";
import { viewOf } from "./listing";
import { toMessageResource } from "./resource";
import { findMessage, type Sender, type StoredMessage } from "./store";

/**
 * Sends through the conversation's room, which also checks membership (404 for strangers); `created`
 * is false for a retry of an earlier send.
 */
export async function sendMessage(env: Cloudflare.Env, conversationId: number, sender: Sender, body: string, clientMessageId: string | null) {
  const result = await room(env, conversationId).send({ conversationId, sender, body, clientMessageId });
  if (!result.ok) throw new DomainError(result.status, result.detail);
  return { message: result.resource, created: result.created };
}

/**
 * A message of a conversation the viewer belongs to, with the membership. Anything else is the same 404,
 * word for word: a stranger must not learn from the answer that a message id exists elsewhere.
 */
export async function visibleMessage(db: Database, conversationId: number, messageId: number, userId: number) {
  const [member, message] = await Promise.all([membership(db, conversationId, userId).catch(strangerAsNull), findMessage(db, conversationId, messageId)]);
  if (!member || !message) throw new DomainError(404, "No such message.");
  return { ...member, message };
}

/** Membership's 404 (not a participant, or no such conversation) as null; other failures stay failures. */
function strangerAsNull(error: unknown): null {
  if (error instanceof DomainError && error.status === 404) return null;
  throw error;
}

async function applyChange(env: Cloudflare.Env, db: Database, message: StoredMessage, viewerId: number, change: { body: string; editedAt?: Date; deleted?: boolean }) {
  const changed = await room(env, message.conversationId).change(message.conversationId, message.id, change);
  if (!changed) throw new DomainError(409, "The message has been deleted.");
  return toMessageResource(changed, await viewOf(db, message.conversationId, viewerId));
}

/** Edits a message; only its sender may. */
export async function editMessage(env: Cloudflare.Env, db: Database, conversationId: number, messageId: number, userId: number, body: string) {
  const { message } = await visibleMessage(db, conversationId, messageId, userId);
  if (message.senderId !== userId) throw new DomainError(403, "Only the sender may edit a message.");
  return applyChange(env, db, message, userId, { body, editedAt: new Date() });
}

/** Deletes a message as a tombstone (it keeps its seq); its sender or the conversation's owner may. */
export async function deleteMessage(env: Cloudflare.Env, db: Database, conversationId: number, messageId: number, userId: number) {
  const { message, conversation } = await visibleMessage(db, conversationId, messageId, userId);
  if (message.senderId !== userId && conversation.ownerId !== userId) {
    throw new DomainError(403, "Only the sender or the conversation's owner may delete a message.");
  }
  if (!message.deleted) await applyChange(env, db, message, userId, { body: "", deleted: true });
}

/** Per other participant: whether and when the message was delivered and read. */
export async function messageReceipts(db: Database, conversationId: number, messageId: number, userId: number) {
  const { message } = await visibleMessage(db, conversationId, messageId, userId);
  const rows = await db
    .select({ participant: participants, firstName: users.firstName, lastName: users.lastName })
    .from(participants)
    .innerJoin(users, eq(users.id, participants.userId))
    .where(and(eq(participants.conversationId, conversationId), ne(participants.userId, message.senderId)));
  return rows.map(({ participant: p, firstName, lastName }) => {
    const delivered = p.deliveredSeq >= message.seq;
    const read = p.readSeq >= message.seq;
    return {
      user: { id: p.userId, first_name: firstName, last_name: lastName },
      delivered,
      delivered_at: delivered ? (p.deliveredAt?.toISOString() ?? null) : null,
      read,
      read_at: read ? (p.readAt?.toISOString() ?? null) : null,
    };
  });
}

/** Moves the caller's watermarks forward through the room. */
export async function updateReceipts(env: Cloudflare.Env, db: Database, conversationId: number, userId: number, deliveredUpTo = 0, readUpTo = 0) {
  await membership(db, conversationId, userId);
  const marks = await room(env, conversationId).receipt(conversationId, userId, deliveredUpTo, readUpTo);
  if (!marks) throw new DomainError(404, "No such conversation.");
  return { user: userId, delivered_up_to: marks.deliveredSeq, read_up_to: marks.readSeq };
}
