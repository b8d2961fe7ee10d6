import { and, asc, eq, ne, sql } from "drizzle-orm";
import { uniqueViolation, type Database } from "../db/client";
import { conversations, participants, type ConversationRow } from "../db/schema";
import { DomainError } from "../errors";
import { membership, requireActiveUsers } from "./conversations";

/** Any participant may rename the conversation. */
export async function renameConversation(db: Database, conversationId: number, userId: number, title: string | null): Promise<ConversationRow> {
  await membership(db, conversationId, userId);
  const now = new Date();
  const [row] = await db.update(conversations).set({ title, updatedAt: now, lastActivityAt: now }).where(eq(conversations.id, conversationId)).returning();
  return row!;
}

/**
 * The owner adds a user. Its watermarks start at the current last_seq: it has nothing to acknowledge,
 * and older messages keep the status they had.
 */
export async function addParticipant(db: Database, conversationId: number, actorId: number, userId: number): Promise<void> {
  const { conversation } = await membership(db, conversationId, actorId);
  if (conversation.ownerId !== actorId) throw new DomainError(403, "Only the owner adds participants.");
  await requireActiveUsers(db, [userId]);
  const lastSeq = sql`(SELECT ${conversations.lastSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})`;
  try {
    await db.insert(participants).values({ conversationId, userId, joinedAt: new Date(), deliveredSeq: lastSeq, readSeq: lastSeq });
  } catch (error) {
    if (uniqueViolation(error)) throw new DomainError(409, "That user is already a participant.");
    throw error;
  }
}

/**
 * The owner removes anyone; anyone removes themself. The owner leaving hands ownership to the longest
 * member. The last participant cannot leave: a conversation never has fewer than one (delete it instead).
 */
export async function removeParticipant(db: Database, conversationId: number, actorId: number, userId: number): Promise<void> {
  const { conversation } = await membership(db, conversationId, actorId);
  if (actorId !== userId && conversation.ownerId !== actorId) throw new DomainError(403, "Only the owner removes other participants.");
  const others = await db
    .select({ userId: participants.userId })
    .from(participants)
    .where(and(eq(participants.conversationId, conversationId), ne(participants.userId, userId)))
    .orderBy(asc(participants.joinedAt), asc(participants.userId));
  const present = actorId === userId || (await db.select().from(participants).where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId))).get());
  if (!present) throw new DomainError(404, "That user is not a participant.");
  if (others.length === 0) throw new DomainError(409, "The last participant cannot leave; delete the conversation instead.");
  const heir = conversation.ownerId === userId ? others[0]!.userId : conversation.ownerId;
  await db.batch([
    db.delete(participants).where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId))),
    db.update(conversations).set({ ownerId: heir, updatedAt: new Date() }).where(eq(conversations.id, conversationId)),
  ]);
}
