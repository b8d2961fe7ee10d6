import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { users } from "../db/schema";
import { withSenders } from "../messages/senders";
import type { MessageRow, Sender, StoredMessage } from "../messages/store";

/**
 * Senders' names for the room (they live in the main database, messages in the shard): refreshed by
 * every REST send (whose token lookup read them fresh), read from D1 once otherwise.
 */
export class SenderNames {
  readonly #names = new Map<number, Sender>();

  remember(sender: Sender): void {
    this.#names.set(sender.id, sender);
  }

  async of(db: Database, userId: number): Promise<Sender> {
    let sender = this.#names.get(userId);
    if (!sender) {
      const row = await db.select({ id: users.id, firstName: users.firstName, lastName: users.lastName }).from(users).where(eq(users.id, userId)).get();
      sender = row ?? { id: userId, firstName: "", lastName: "" };
      this.#names.set(userId, sender);
    }
    return sender;
  }

  /** Rows with their senders' names; those not known yet are read in one go and remembered. */
  async join(db: Database, rows: MessageRow[]): Promise<StoredMessage[]> {
    const joined = await withSenders(db, rows, [...this.#names.values()]);
    for (const m of joined) this.#names.set(m.sender.id, m.sender);
    return joined;
  }
}
