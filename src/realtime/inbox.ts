import type { Database } from "../db/client";
import type { StoredMessage } from "../messages/store";
import { onlineAmong } from "../presence/presence";
import { hub } from "./hub-stub";
import { PREVIEW_LENGTH, type InboxEvent, type MessageSummary } from "./stream-protocol";

/** A message as the chat list shows it. */
export function summary(m: StoredMessage): MessageSummary {
  return {
    id: m.id,
    seq: m.seq,
    sender: { id: m.sender.id, first_name: m.sender.firstName, last_name: m.sender.lastName },
    preview: m.deleted ? "" : [...m.body].slice(0, PREVIEW_LENGTH).join(""),
    sent_at: m.sentAt.toISOString(),
    edited: m.editedAt !== null,
    deleted: m.deleted,
  };
}

/**
 * Events for users' hubs, sent after the ack that caused them. One stub per user is kept, so one
 * sender's events reach a hub in the order they were published.
 */
export class Inbox {
  readonly #stubs = new Map<number, ReturnType<typeof hub>>();

  constructor(private readonly env: Cloudflare.Env) {}

  /** One publish per user, carrying all of that user's events (failures are logged: the ack is already out). */
  async publish(perUser: Map<number, InboxEvent[]>): Promise<void> {
    // Yield first: the answer that caused these events goes out before a hundred calls are serialized.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await Promise.all(
      [...perUser].map(([userId, events]) => this.#stub(userId).publish(events).catch((error: unknown) => console.error("hub publish failed", error))),
    );
  }

  /** Tells those of `userIds` with a stream open (read from D1 now) what `eventFor` gives each. */
  async tellOnline(db: Database, userIds: number[], eventFor: (userId: number) => InboxEvent | null): Promise<void> {
    await this.publish(await this.addressed(db, userIds, eventFor));
  }

  /** What `eventFor` gives each of `userIds` who has a stream open (read from D1 now). */
  async addressed(db: Database, userIds: number[], eventFor: (userId: number) => InboxEvent | null): Promise<Map<number, InboxEvent[]>> {
    const perUser = new Map<number, InboxEvent[]>();
    for (const { userId } of await onlineAmong(db, userIds)) {
      const event = eventFor(userId);
      if (event) perUser.set(userId, [event]);
    }
    return perUser;
  }

  #stub(userId: number) {
    let stub = this.#stubs.get(userId);
    if (!stub) this.#stubs.set(userId, (stub = hub(this.env, userId)));
    return stub;
  }
}
