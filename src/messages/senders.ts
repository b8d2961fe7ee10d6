// Senders' names live in the main database and messages in their shards: reads join them here.
import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { compile, every, jsonValues, qb } from "../db/compiled";
import { users } from "../db/schema";
import type { MessageRow, Sender, StoredMessage } from "./store";

const namesRead = compile(["ids"], (p) => qb.select({ id: users.id, firstName: users.firstName, lastName: users.lastName }).from(users).where(sql`${users.id} IN ${jsonValues(p.ids)}`));

/** The statement reading the names of the users `ids`. */
export const namesQuery = (db: Database, ids: number[]) => namesRead.bind(db, { ids: JSON.stringify(ids) });

/**
 * Rows with their senders' names: taken from `known` (the members, read beside the rows), and the rest
 * (former members) in one more read, only when there are any.
 */
export async function withSenders(db: Database, rows: MessageRow[], known: Sender[] = []): Promise<StoredMessage[]> {
  const names = new Map(known.map((s) => [s.id, s]));
  const missing = [...new Set(rows.flatMap(sendersOf))].filter((id) => !names.has(id));
  if (missing.length) for (const s of await every(namesQuery(db, missing))) names.set(s.id, s);
  const named = (id: number) => names.get(id) ?? { id, firstName: "", lastName: "" };
  return rows.map((r) => ({ ...r, sender: named(r.senderId), replySender: r.replyTo && named(r.replyTo.senderId) }));
}

/** The users a row names: its sender, and the sender of the message it quotes. */
export const sendersOf = (r: MessageRow): number[] => (r.replyTo ? [r.senderId, r.replyTo.senderId] : [r.senderId]);
