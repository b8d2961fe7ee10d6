// A conversation's membership and title, changed only by its room (src/realtime/conversation-room.ts),
// which checks who may from what it holds and calls these one at a time: each is one D1 batch, which also
// reads which members have a user stream open to be told.
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { batch } from "../db/compiled";
import { conversations, participants, users } from "../db/schema";
import { DomainError } from "../errors";
import { byConversation, membersQuery, toConversationResource } from "./conversations";
import { onlineAmong, presenceAmong, type OnlineRow } from "../presence/presence";
import { MAX_PARTICIPANTS, type ConversationResource } from "./schemas";

/** What the room holds of a conversation's members, as these checks need it. */
export type Roster = { conversationId: number; ownerId: number; members: ReadonlyMap<number, { joinedAt: number }> };

const LAST_PARTICIPANT = "The last participant cannot leave; delete the conversation instead.";

/** The conversation as a resource, read in the same batch as a change. */
function resourceAfter(db: Database, conversationId: number) {
  return [db.select().from(conversations).where(eq(conversations.id, conversationId)), membersQuery(db, [conversationId])] as const;
}

/**
 * The owner adds an active user, whose watermarks start at the current last_seq: it has nothing to
 * acknowledge, and older messages keep the status they had. At most MAX_PARTICIPANTS (409 beyond).
 */
export async function addParticipant(
  db: Database,
  roster: Roster,
  actorId: number,
  userId: number,
): Promise<{ conversation: ConversationResource; joinedAt: number; lastSeq: number; online: OnlineRow[] }> {
  if (roster.ownerId !== actorId) throw new DomainError(403, "Only the owner adds participants.");
  if (roster.members.has(userId)) throw new DomainError(409, "That user is already a participant.");
  if (roster.members.size >= MAX_PARTICIPANTS) throw new DomainError(409, `A conversation has at most ${MAX_PARTICIPANTS} participants; remove someone first.`);
  const now = new Date();
  const id = roster.conversationId;
  const [added, , [row], members, online] = await batch(db, [
    db
      .insert(participants)
      .select(
        db
          .select({
            conversationId: conversations.id,
            userId: users.id,
            joinedAt: sql<number>`${now.getTime()}`.as("joined_at"),
            deliveredSeq: conversations.lastSeq,
            deliveredAt: sql<null>`NULL`.as("delivered_at"),
            readSeq: conversations.lastSeq,
            readAt: sql<null>`NULL`.as("read_at"),
            mutedUntil: sql<null>`NULL`.as("muted_until"),
          })
          .from(conversations)
          .innerJoin(users, and(eq(users.id, userId), eq(users.isActive, true)))
          .where(eq(conversations.id, id)),
      )
      .returning({ lastSeq: participants.readSeq }),
    // Clients keep the newest of two `conversation.updated` events by this.
    db.update(conversations).set({ updatedAt: now }).where(and(eq(conversations.id, id), sql`changes() > 0`)),
    ...resourceAfter(db, id),
    presenceAmong(db, [...roster.members.keys(), userId]),
  ]);
  if (added.length === 0) throw new DomainError(400, `Unknown or inactive user: ${userId}.`, [{ path: "user_id", message: `No active user with id ${userId}.` }]);
  return { conversation: toConversationResource(row!, byConversation(members).get(id) ?? []), joinedAt: now.getTime(), lastSeq: added[0]!.lastSeq, online };
}

/**
 * The owner removes anyone; anyone removes themself. The owner leaving hands ownership to the longest
 * member. The last participant cannot leave: a conversation never has fewer than one (delete it instead).
 * Returns the owner and the conversation afterwards.
 */
export async function removeParticipant(db: Database, roster: Roster, actorId: number, userId: number): Promise<{ ownerId: number; conversation: ConversationResource; online: number[] }> {
  if (actorId !== userId && roster.ownerId !== actorId) throw new DomainError(403, "Only the owner removes other participants.");
  if (!roster.members.has(userId)) throw new DomainError(404, "That user is not a participant.");
  const heirs = [...roster.members].filter(([id]) => id !== userId).sort(([a, x], [b, y]) => x.joinedAt - y.joinedAt || a - b);
  if (heirs.length === 0) throw new DomainError(409, LAST_PARTICIPANT);
  const owner = roster.ownerId === userId ? heirs[0]![0] : roster.ownerId;
  const id = roster.conversationId;
  const [, , [row], members, online] = await batch(db, [
    db.delete(participants).where(and(eq(participants.conversationId, id), eq(participants.userId, userId))),
    db.update(conversations).set({ ownerId: owner, updatedAt: new Date() }).where(eq(conversations.id, id)),
    ...resourceAfter(db, id),
    onlineAmong(db, [...roster.members.keys()]),
  ]);
  return { ownerId: owner, conversation: toConversationResource(row!, byConversation(members).get(id) ?? []), online: ids(online) };
}

/** What a conversation's settings change sets: the title, disappearing messages, or both. */
export type ConversationChanges = { title?: string | null; messageTtlSeconds?: number | null };

/** Any participant renames the conversation (or clears its title); only the owner sets disappearing messages. */
export async function changeConversation(db: Database, roster: Roster, actorId: number, changes: ConversationChanges): Promise<{ conversation: ConversationResource; online: number[] }> {
  if (changes.messageTtlSeconds !== undefined && roster.ownerId !== actorId) throw new DomainError(403, "Only the owner turns disappearing messages on or off.");
  const now = new Date();
  const id = roster.conversationId;
  const [, [row], members, online] = await batch(db, [
    db.update(conversations).set({ ...changes, updatedAt: now, lastActivityAt: now }).where(eq(conversations.id, id)),
    ...resourceAfter(db, id),
    onlineAmong(db, [...roster.members.keys()]),
  ]);
  return { conversation: toConversationResource(row!, byConversation(members).get(id) ?? []), online: ids(online) };
}

const ids = (rows: { userId: number }[]) => rows.map((r) => r.userId);

/** A participant's own mute of the conversation's push notifications (null: not muted). */
export async function mutedUntil(db: Database, conversationId: number, userId: number, until: Date | null): Promise<void> {
  await db.update(participants).set({ mutedUntil: until }).where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId)));
}
