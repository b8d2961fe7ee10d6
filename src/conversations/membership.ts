import { and, eq, ne, sql } from "drizzle-orm";
import { uniqueViolation, type Database } from "../db/client";
import { conversations, participants, type ConversationRow } from "../db/schema";
import { DomainError } from "../errors";
import { membership, requireActiveUsers } from "./conversations";
import { MAX_PARTICIPANTS } from "./schemas";

/** Any participant may rename the conversation. */
export async function renameConversation(db: Database, conversationId: number, userId: number, title: string | null): Promise<ConversationRow> {
  await membership(db, conversationId, userId);
  const now = new Date();
  const [row] = await db.update(conversations).set({ title, updatedAt: now, lastActivityAt: now }).where(eq(conversations.id, conversationId)).returning();
  return row!;
}

/**
 * The owner adds a user. Its watermarks start at the current last_seq: it has nothing to acknowledge,
 * and older messages keep the status they had. A conversation holds at most MAX_PARTICIPANTS (409 beyond).
 */
export async function addParticipant(db: Database, conversationId: number, actorId: number, userId: number): Promise<void> {
  const { conversation } = await membership(db, conversationId, actorId);
  if (conversation.ownerId !== actorId) throw new DomainError(403, "Only the owner adds participants.");
  await requireActiveUsers(db, [userId], "user_id");
  let added: unknown[];
  try {
    added = await db.insert(participants).select(newcomer(db, conversationId, userId, Date.now())).returning({ userId: participants.userId });
  } catch (error) {
    if (uniqueViolation(error)) throw new DomainError(409, "That user is already a participant.");
    throw error;
  }
  if (added.length === 0) throw new DomainError(409, `A conversation has at most ${MAX_PARTICIPANTS} participants; remove someone first.`);
}

/**
 * The participant row to insert, or no row once the conversation is full. The count is taken inside the
 * INSERT, one statement, so two owners' requests adding the 200th member at once cannot both pass it.
 */
function newcomer(db: Database, conversationId: number, userId: number, now: number) {
  const count = sql`(SELECT count(*) FROM ${participants} p WHERE p.conversation_id = ${conversationId})`;
  return db
    .select({
      conversationId: conversations.id,
      userId: sql<number>`${userId}`.as("user_id"),
      joinedAt: sql<number>`${now}`.as("joined_at"),
      deliveredSeq: conversations.lastSeq,
      deliveredAt: sql<null>`NULL`.as("delivered_at"),
      readSeq: conversations.lastSeq,
      readAt: sql<null>`NULL`.as("read_at"),
    })
    .from(conversations)
    .where(and(eq(conversations.id, conversationId), sql`${count} < ${MAX_PARTICIPANTS}`));
}

const LAST_PARTICIPANT = "The last participant cannot leave; delete the conversation instead.";

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
    .limit(1);
  const present = actorId === userId || (await db.select().from(participants).where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId))).get());
  if (!present) throw new DomainError(404, "That user is not a participant.");
  if (others.length === 0) throw new DomainError(409, LAST_PARTICIPANT);
  // The checks above were separate reads, so the batch (one transaction) checks again: two members
  // leaving at once could both see the other one still there and leave nobody, and an owner leaving
  // while the heir chosen from a stale read left too would pass ownership to a non-participant. So the
  // delete only happens while someone else remains, and the heir is picked after it, in SQL.
  const [removed] = await db.batch([
    db
      .delete(participants)
      .where(
        and(
          eq(participants.conversationId, conversationId),
          eq(participants.userId, userId),
          sql`(SELECT count(*) FROM ${participants} p WHERE p.conversation_id = ${conversationId}) > 1`,
        ),
      )
      .returning({ userId: participants.userId }),
    db
      .update(conversations)
      .set({
        ownerId: sql`CASE WHEN ${conversations.ownerId} = ${userId} THEN (SELECT p.user_id FROM ${participants} p WHERE p.conversation_id = ${conversationId} ORDER BY p.joined_at, p.user_id LIMIT 1) ELSE ${conversations.ownerId} END`,
        updatedAt: new Date(),
      })
      .where(
        and(
          eq(conversations.id, conversationId),
          sql`NOT EXISTS (SELECT 1 FROM ${participants} p WHERE p.conversation_id = ${conversationId} AND p.user_id = ${userId})`,
        ),
      ),
  ]);
  if (removed.length === 0) {
    const still = await db.select().from(participants).where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId))).get();
    throw still ? new DomainError(409, LAST_PARTICIPANT) : new DomainError(404, "That user is not a participant.");
  }
}
