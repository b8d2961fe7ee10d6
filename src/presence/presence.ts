import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { participants, presence, users } from "../db/schema";
import { batch, compile, jsonValues, qb } from "../db/compiled";

/** A user's presence as another user sees it: null fields when the user hides it. */
export type PresenceView = { online: boolean; last_seen_at: string | null };

const HIDDEN: PresenceView = { online: false, last_seen_at: null };

/** What a viewer sees of a user's presence row (`row` null: the user never had a stream open). */
export function presenceView(showPresence: boolean, row: { online: boolean; lastSeenAt: Date } | null): PresenceView {
  if (!showPresence) return HIDDEN;
  return { online: row?.online ?? false, last_seen_at: row?.lastSeenAt.toISOString() ?? null };
}

/**
 * The statement picking, among `userIds`, those with a live stream: run inside a write's own batch, so
 * a room wakes only the hubs that have someone to tell.
 */
const onlineRead = compile(["ids"], (p) => qb.select({ userId: presence.userId }).from(presence).where(and(eq(presence.online, true), sql`${presence.userId} IN ${jsonValues(p.ids)}`)));

export const onlineAmong = (db: Database, userIds: number[]) => onlineRead.bind(db, { ids: JSON.stringify(userIds) });

/** Someone online, as a new contact may learn of them (`show`: whether they show their presence). */
export type OnlineRow = { userId: number; lastSeenAt: Date; show: boolean };

/** The statement reading, among `userIds`, those online, with whether they show it: for introducing new contacts. */
export function presenceAmong(db: Database, userIds: number[]) {
  return db
    .select({ userId: presence.userId, lastSeenAt: presence.lastSeenAt, show: users.showPresence })
    .from(presence)
    .innerJoin(users, eq(users.id, presence.userId))
    .where(and(eq(presence.online, true), sql`${presence.userId} IN (SELECT value FROM json_each(${JSON.stringify(userIds)}))`));
}

/** The people who share a conversation with `userId`. */
const contactIds = (userId: number) =>
  sql`(SELECT theirs.user_id FROM ${participants} AS mine JOIN ${participants} AS theirs ON theirs.conversation_id = mine.conversation_id
      WHERE mine.user_id = ${userId} AND theirs.user_id <> ${userId})`;

/**
 * Records the user going on- or offline, in one batch with what telling others needs: whether the user
 * shows their presence, and which of their contacts have a stream open to be told.
 */
export async function recordPresence(db: Database, userId: number, online: boolean, at: Date): Promise<{ show: boolean; contacts: number[] }> {
  const [, [user], contacts] = await batch(db, [
    db
      .insert(presence)
      .values({ userId, online, lastSeenAt: at })
      .onConflictDoUpdate({ target: presence.userId, set: { online, lastSeenAt: at } }),
    db.select({ show: users.showPresence }).from(users).where(eq(users.id, userId)),
    db.select({ userId: presence.userId }).from(presence).where(and(eq(presence.online, true), sql`${presence.userId} IN ${contactIds(userId)}`)),
  ]);
  return { show: user?.show ?? false, contacts: contacts.map((c) => c.userId) };
}

/** The user's own presence row, whether they show it, and their contacts with a stream open (for re-telling them). */
export async function presenceOf(db: Database, userId: number) {
  const [[row], contacts] = await batch(db, [
    db.select({ online: presence.online, lastSeenAt: presence.lastSeenAt, show: users.showPresence }).from(users).leftJoin(presence, eq(presence.userId, users.id)).where(eq(users.id, userId)),
    db.select({ userId: presence.userId }).from(presence).where(and(eq(presence.online, true), sql`${presence.userId} IN ${contactIds(userId)}`)),
  ]);
  const view = row ? presenceView(row.show, row.online === null ? null : { online: row.online, lastSeenAt: row.lastSeenAt! }) : HIDDEN;
  return { view, contacts: contacts.map((c) => c.userId) };
}

/** The user's contacts who are online and show it, for a stream's first frame. */
export function onlineContactsQuery(db: Database, userId: number) {
  return db
    .select({ user: presence.userId, lastSeenAt: presence.lastSeenAt })
    .from(presence)
    .innerJoin(users, eq(users.id, presence.userId))
    .where(and(eq(presence.online, true), eq(users.showPresence, true), sql`${presence.userId} IN ${contactIds(userId)}`));
}
