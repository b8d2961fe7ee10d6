import { and, asc, count, desc, eq, sql, type Placeholder, type SQL } from "drizzle-orm";
import { refuseIfBlockedBy } from "../users/blocks";
import type { Database } from "../db/client";
import { batch, compile, every, jsonValues, qb } from "../db/compiled";
import { conversations, messageShards, participants, users, type ConversationRow, type ParticipantRow } from "../db/schema";
import { DomainError } from "../errors";
import type { Sender } from "../messages/store";
import type { ConversationResource } from "./schemas";

const NOT_FOUND = "No such conversation.";

/** The select of a conversation with the membership row of `userId` (a value or SQL naming the user). */
export const membershipSelect = (conversationId: Placeholder, userId: Placeholder | SQL) =>
  qb
    .select({ conversation: conversations, participant: participants })
    .from(participants)
    .innerJoin(conversations, eq(conversations.id, participants.conversationId))
    .where(and(eq(participants.conversationId, conversationId), eq(participants.userId, userId)));

const membershipRead = compile(["conversationId", "userId"], (p) => membershipSelect(p.conversationId, p.userId));

/** The statement reading the conversation with the caller's membership row (none for a stranger). */
export const membershipQuery = (db: Database, conversationId: number, userId: number) => membershipRead.bind(db, { conversationId, userId });

/** membershipQuery's answer, or the 404 a stranger gets: the same as for a missing conversation. */
export function member<T>(rows: T[]): T {
  if (!rows[0]) throw new DomainError(404, NOT_FOUND);
  return rows[0];
}

/** The conversation and the caller's membership; a non-participant gets the same 404 as a missing one. */
export async function membership(db: Database, conversationId: number, userId: number): Promise<{ conversation: ConversationRow; participant: ParticipantRow }> {
  return member(await every(membershipQuery(db, conversationId, userId)));
}

const membersRead = compile(["ids"], (p) =>
  qb
    .select({ conversationId: participants.conversationId, id: users.id, firstName: users.firstName, lastName: users.lastName })
    .from(participants)
    .innerJoin(users, eq(users.id, participants.userId))
    .where(sql`${participants.conversationId} IN ${jsonValues(p.ids)}`)
    .orderBy(asc(participants.joinedAt), asc(participants.userId)),
);

/** The statement listing the members of conversations, oldest first. */
export const membersQuery = (db: Database, conversationIds: number[]) => membersRead.bind(db, { ids: JSON.stringify(conversationIds) });

/** Groups membersQuery's rows by conversation. */
export function byConversation(rows: ({ conversationId: number } & Sender)[]): Map<number, Sender[]> {
  const map = new Map<number, Sender[]>();
  for (const { conversationId, ...sender } of rows) map.set(conversationId, [...(map.get(conversationId) ?? []), sender]);
  return map;
}

/** Members of each conversation, for the resources (one query). */
export async function membersOf(db: Database, conversationIds: number[]): Promise<Map<number, Sender[]>> {
  return byConversation(await every(membersQuery(db, conversationIds)));
}

export function toConversationResource(c: ConversationRow, members: Sender[]): ConversationResource {
  return {
    id: c.id,
    title: c.title,
    owner: c.ownerId,
    participants: members.map((m) => ({ id: m.id, first_name: m.firstName, last_name: m.lastName })),
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    last_seq: c.lastSeq,
    last_message_at: c.lastMessageAt?.toISOString() ?? null,
    last_activity_at: c.lastActivityAt.toISOString(),
    message_ttl_seconds: c.messageTtlSeconds,
  };
}

/** Rows plus members, as resources. */
export async function resources(db: Database, rows: ConversationRow[]): Promise<ConversationResource[]> {
  const members = await membersOf(db, rows.map((r) => r.id));
  return rows.map((r) => toConversationResource(r, members.get(r.id) ?? []));
}

/** The caller's conversations, newest activity first. */
export async function listConversations(db: Database, userId: number, offset: number, limit: number) {
  const mine = eq(participants.userId, userId);
  const [total] = await db.select({ n: count() }).from(participants).where(mine);
  const rows = await db
    .select({ c: conversations })
    .from(participants)
    .innerJoin(conversations, eq(conversations.id, participants.conversationId))
    .where(mine)
    .orderBy(desc(conversations.lastActivityAt), desc(conversations.id))
    .limit(limit)
    .offset(offset);
  return { count: total?.n ?? 0, rows: rows.map((r) => r.c) };
}

/**
 * Active users among `ids`; throws 400 naming the unknown or inactive ones. `field` is the request
 * field the ids came from, so each error's path points at what the client sent (`participants` when
 * starting a conversation, `user_id` when adding one person).
 */
export async function requireActiveUsers(db: Database, ids: number[], field = "participants"): Promise<void> {
  const found = await db
    .select({ id: users.id })
    .from(users)
    .where(and(sql`${users.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`, eq(users.isActive, true)));
  const known = new Set(found.map((u) => u.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length) {
    throw new DomainError(400, `Unknown or inactive users: ${missing.join(", ")}.`, missing.map((id) => ({ path: field, message: `No active user with id ${id}.` })));
  }
}

/** The existing conversation of exactly these two users, if any. */
async function directConversation(db: Database, a: number, b: number): Promise<ConversationRow | undefined> {
  const row = await db
    .select({ c: conversations })
    .from(conversations)
    .where(
      sql`${conversations.id} IN (
        SELECT p.conversation_id FROM ${participants} p WHERE p.user_id = ${a}
        INTERSECT SELECT p.conversation_id FROM ${participants} p WHERE p.user_id = ${b})
      AND (SELECT count(*) FROM ${participants} p WHERE p.conversation_id = ${conversations.id}) = 2`,
    )
    .orderBy(asc(conversations.id))
    .get();
  return row?.c;
}

/**
 * Creates a conversation owned by `ownerId` (or returns the direct one when asked to reuse it), on the
 * open message shard (`openShards`) holding the fewest conversations.
 */
export async function createConversation(
  db: Database,
  openShards: number[],
  ownerId: number,
  input: { participants: number[]; title?: string | null; reuse_direct: boolean },
): Promise<{ conversation: ConversationRow; created: boolean }> {
  const others = [...new Set(input.participants)].filter((id) => id !== ownerId);
  await requireActiveUsers(db, others);
  if (input.reuse_direct && others.length === 1) {
    const existing = await directConversation(db, ownerId, others[0]!);
    if (existing) return { conversation: existing, created: false };
  }
  await refuseIfBlockedBy(db, ownerId, others);
  const now = new Date();
  const leastFull = sql<number>`(SELECT value FROM json_each(${JSON.stringify(openShards)}) ORDER BY coalesce((SELECT ${messageShards.conversations} FROM ${messageShards} WHERE ${messageShards.shard} = value), 0), value LIMIT 1)`;
  // Inside the batch's transaction the newest conversation id is the one just inserted.
  const newest = sql`(SELECT max(${conversations.id}) FROM ${conversations})`;
  // One transaction: the conversation, its shard's count and all its members, or nothing.
  const [[conversation]] = await batch(db, [
    db.insert(conversations).values({ title: input.title ?? null, ownerId, createdAt: now, updatedAt: now, lastActivityAt: now, shard: leastFull }).returning(),
    db
      .insert(messageShards)
      .values({ shard: sql`(SELECT ${conversations.shard} FROM ${conversations} WHERE ${conversations.id} = ${newest})`, conversations: 1 })
      .onConflictDoUpdate({ target: messageShards.shard, set: { conversations: sql`${messageShards.conversations} + 1` } }),
    ...[ownerId, ...others].map((userId) => db.insert(participants).values({ conversationId: newest, userId, joinedAt: now })),
  ]);
  return { conversation: conversation!, created: true };
}
