import type { Database } from "../db/client";
import type { StoredMessage } from "../messages/store";
import { onlineAmong, presenceAmong, type OnlineRow } from "../presence/presence";
import { hub } from "./hub-stub";
import { PREVIEW_LENGTH, type InboxEvent, type MessageSummary } from "./stream-protocol";
import { every } from "../db/compiled";

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
 * Presence for people who just came to share a conversation (no `presence` event would tell them of
 * someone already online): a newcomer learns who of the others is online, the others learn of the newcomers.
 */
export function introductions(online: OnlineRow[], viewerId: number, newcomers: number[]): InboxEvent[] {
  const viewerIsNew = newcomers.includes(viewerId);
  return online
    .filter((r) => r.show && r.userId !== viewerId && (viewerIsNew || newcomers.includes(r.userId)))
    .map((r) => ({ type: "presence", user: r.userId, online: true, last_seen_at: r.lastSeenAt.toISOString() }));
}

/**
 * Events for users' hubs, sent after the answer that caused them. Each user has an outbox: one call in
 * flight at a time, carrying everything queued meanwhile, so a hub gets this sender's events in the
 * order they were queued (calls in flight together may arrive in any order) and a burst costs few calls.
 */
export class Inbox {
  readonly #outboxes = new Map<number, { queued: InboxEvent[]; sent: Promise<void> }>();
  /** Users whose hub missed events from here: the next call says so. */
  readonly #lost = new Set<number>();

  constructor(private readonly env: Cloudflare.Env) {}

  /** Queues each user's events; resolves once they are delivered (failures are logged: the answer is already out). */
  publish(perUser: Map<number, InboxEvent[]>): Promise<void> {
    return Promise.all([...perUser].map(([userId, events]) => this.#queue(userId, events))).then(() => undefined);
  }

  /** A new conversation: each participant with a stream open gets `added`, and the others' presence. */
  async introduce(db: Database, userIds: number[], added: InboxEvent): Promise<void> {
    const online = await presenceAmong(db, userIds);
    await this.publish(new Map(online.map((r) => [r.userId, [added, ...introductions(online, r.userId, userIds)]])));
  }

  /** What `eventFor` gives each of `userIds` who has a stream open (read from D1 now). */
  async addressed(db: Database, userIds: number[], eventFor: (userId: number) => InboxEvent | null): Promise<Map<number, InboxEvent[]>> {
    const perUser = new Map<number, InboxEvent[]>();
    for (const { userId } of await every(onlineAmong(db, userIds))) {
      const event = eventFor(userId);
      if (event) perUser.set(userId, [event]);
    }
    return perUser;
  }

  #queue(userId: number, events: InboxEvent[]): Promise<void> {
    const outbox = this.#outboxes.get(userId);
    if (outbox) {
      outbox.queued.push(...events);
      return outbox.sent;
    }
    const fresh = { queued: [...events], sent: Promise.resolve() };
    this.#outboxes.set(userId, fresh);
    fresh.sent = this.#drain(userId, fresh);
    return fresh.sent;
  }

  async #drain(userId: number, outbox: { queued: InboxEvent[] }): Promise<void> {
    // Yield first: the answer that caused these events goes out before the calls are made.
    await new Promise((resolve) => setTimeout(resolve, 0));
    try {
      while (outbox.queued.length) {
        const batch = outbox.queued.splice(0);
        // Not retried (it may have arrived): the hub is told that events were lost instead, at once if it
        // answers, else with the next call, and its streams start over from a snapshot. A fresh stub per
        // call (a failed call can break a stub); one call in flight keeps them in order.
        const call = (events: InboxEvent[]) =>
          hub(this.env, userId)
            .publish(events, this.#lost.has(userId))
            .then(
              () => this.#lost.delete(userId),
              (error: unknown) => (console.error("hub publish failed", error), this.#lost.add(userId)),
            );
        await call(batch);
        if (this.#lost.has(userId)) await call([]);
      }
    } finally {
      this.#outboxes.delete(userId);
    }
  }
}
