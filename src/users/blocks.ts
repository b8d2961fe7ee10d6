import { and, count, desc, eq, or, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { blocks, participants, users } from "../db/schema";
import { DomainError } from "../errors";
import { batch } from "../db/compiled";

const within = (ids: readonly number[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/** Blocks `blocked` for `blocker`; `created` is false when it already was. 404 for no such user, 400 for oneself. */
export async function blockUser(db: Database, blocker: number, blocked: number) {
  if (blocker === blocked) throw new DomainError(400, "You can't block yourself.", [{ path: "user_id", message: "That is you." }]);
  const [[user], inserted] = await batch(db, [
    db.select({ id: users.id, firstName: users.firstName, lastName: users.lastName }).from(users).where(eq(users.id, blocked)),
    db
      .insert(blocks)
      .select(
        db
          .select({ blockerId: sql<number>`${blocker}`.as("blocker_id"), blockedId: users.id, createdAt: sql<number>`${Date.now()}`.as("created_at") })
          .from(users)
          .where(eq(users.id, blocked)),
      )
      .onConflictDoNothing()
      .returning({ createdAt: blocks.createdAt }),
  ]);
  if (!user) throw new DomainError(404, "No such user.");
  const [row] = inserted.length ? inserted : await db.select({ createdAt: blocks.createdAt }).from(blocks).where(and(eq(blocks.blockerId, blocker), eq(blocks.blockedId, blocked)));
  return { user, createdAt: row!.createdAt, created: inserted.length > 0 };
}

/** Unblocks; false when `blocked` was not blocked. */
export async function unblockUser(db: Database, blocker: number, blocked: number): Promise<boolean> {
  const rows = await db.delete(blocks).where(and(eq(blocks.blockerId, blocker), eq(blocks.blockedId, blocked))).returning({ id: blocks.blockedId });
  return rows.length > 0;
}

export async function listBlocks(db: Database, blocker: number, offset: number, limit: number) {
  const [[total], rows] = await batch(db, [
    db.select({ n: count() }).from(blocks).where(eq(blocks.blockerId, blocker)),
    db
      .select({ id: users.id, firstName: users.firstName, lastName: users.lastName, createdAt: blocks.createdAt })
      .from(blocks)
      .innerJoin(users, eq(users.id, blocks.blockedId))
      .where(eq(blocks.blockerId, blocker))
      .orderBy(desc(blocks.createdAt))
      .limit(limit)
      .offset(offset),
  ]);
  return { count: total?.n ?? 0, rows };
}

/** The conversations two users share (their rooms are told of a block between them). */
export async function sharedConversations(db: Database, a: number, b: number): Promise<number[]> {
  const theirs = db.select({ id: participants.conversationId }).from(participants).where(eq(participants.userId, b));
  const rows = await db
    .select({ id: participants.conversationId })
    .from(participants)
    .where(and(eq(participants.userId, a), sql`${participants.conversationId} IN ${theirs}`));
  return rows.map((r) => r.id);
}

/** Refuses a conversation with, or adding, anyone among `targets` who blocked `actor`. */
export async function refuseIfBlockedBy(db: Database, actor: number, targets: readonly number[]): Promise<void> {
  if (!targets.length) return;
  const [row] = await db
    .select({ n: count() })
    .from(blocks)
    .where(and(eq(blocks.blockedId, actor), sql`${blocks.blockerId} IN ${within(targets)}`));
  if (row?.n) throw new DomainError(403, "You can't start a conversation with, or add, someone who blocked you.");
}

/** The blocks either way between `userId` and `others`. */
export function blocksBetween(db: Database, userId: number, others: readonly number[]) {
  return db
    .select({ blocker: blocks.blockerId, blocked: blocks.blockedId })
    .from(blocks)
    .where(or(and(eq(blocks.blockerId, userId), sql`${blocks.blockedId} IN ${within(others)}`), and(eq(blocks.blockedId, userId), sql`${blocks.blockerId} IN ${within(others)}`)));
}
