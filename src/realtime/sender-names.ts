import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { users } from "../db/schema";
import type { Sender } from "../messages/store";

/**
 * Sender names for socket sends, which carry only a user id: refreshed by every REST send (whose token
 * lookup read them fresh), read from D1 once otherwise.
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
}
