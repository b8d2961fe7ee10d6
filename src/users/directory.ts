import { and, asc, count, eq, exists, or, sql, type AnyColumn, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { participants, presence, users, type UserRow } from "../db/schema";

/** True when the two users share at least one conversation. */
function sharesConversation(viewerId: number) {
  // drizzle's exists() does not parenthesise a raw sql`` subquery, and SQLite rejects `EXISTS SELECT ...`.
  return exists(
    sql`(SELECT 1 FROM ${participants} AS mine JOIN ${participants} AS theirs ON theirs.conversation_id = mine.conversation_id
        WHERE mine.user_id = ${viewerId} AND theirs.user_id = ${users.id})`,
  );
}

export type Listing = { search?: string; email?: string; offset: number; limit: number };

/**
 * Who is looking. `admin` comes from the request's token (isAdmin: staff and the admin scope), never
 * from the user's staff flag alone: a staff user's ordinary app sees what anyone's app sees.
 */
export type Viewer = { id: number; admin: boolean };

/** A user's presence row (none until their first stream). */
export type PresenceRow = { online: boolean; lastSeenAt: Date };
/** A user, and their presence row when the viewer may see it: only people who share a conversation do. */
export type DirectoryEntry = { user: UserRow; presence: PresenceRow | null };

/** Users with their presence rows, each row kept only if the user shares a conversation with the viewer. */
async function entries(db: Database, viewerId: number, where: SQL | undefined, page?: { offset: number; limit: number }): Promise<DirectoryEntry[]> {
  const query = db
    .select({ user: users, online: presence.online, lastSeenAt: presence.lastSeenAt, shared: sql<number>`${sharesConversation(viewerId)}` })
    .from(users)
    .leftJoin(presence, eq(presence.userId, users.id))
    .where(where)
    .orderBy(asc(users.id));
  const rows = page ? await query.limit(page.limit).offset(page.offset) : await query.limit(1);
  return rows.map((r) => ({ user: r.user, presence: r.shared && r.online !== null ? { online: r.online, lastSeenAt: r.lastSeenAt! } : null }));
}

/**
 * The users a viewer may see. An admin sees everyone (`search` matches email or names); others see
 * themselves and the people they share a conversation with, plus an exact `email` look-up.
 */
export async function listUsers(db: Database, viewer: Viewer, q: Listing): Promise<{ count: number; rows: DirectoryEntry[] }> {
  const pattern = q.search && `%${q.search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  const contains = (column: AnyColumn) => sql`${column} LIKE ${pattern} ESCAPE '\\'`;
  const search = pattern ? or(contains(users.email), contains(users.firstName), contains(users.lastName)) : undefined;
  const byEmail = q.email ? eq(users.email, q.email.toLowerCase()) : undefined;
  const visible = viewer.admin
    ? and(search, byEmail)
    : byEmail ?? or(eq(users.id, viewer.id), sharesConversation(viewer.id));
  const [total] = await db.select({ n: count() }).from(users).where(visible);
  const rows = await entries(db, viewer.id, visible, q);
  return { count: total?.n ?? 0, rows };
}

/** A user the viewer may see by id (self, an admin, or someone sharing a conversation), else undefined. */
export async function visibleUser(db: Database, viewer: Viewer, id: number): Promise<DirectoryEntry | undefined> {
  const where = viewer.admin || viewer.id === id ? eq(users.id, id) : and(eq(users.id, id), sharesConversation(viewer.id));
  return (await entries(db, viewer.id, where))[0];
}
