// Who among the user's contacts is online, as the user stream tells it: `ready` lists those online (every
// other contact is offline, hidden presence included), then `presence` events move one person at a time.
// Those events only report changes, so someone who becomes a contact later (a new conversation, a new
// participant) is looked up once.
import type { StreamEvent } from "./types";

type LookUp = (user: number) => Promise<{ online: boolean }>;

export class Presence {
  readonly #online = new Set<number>();
  /** People whose presence this tab has been told since the last snapshot, or is asking about. */
  readonly #known = new Set<number>();
  /** Look-ups in flight: a `presence` event that arrives first makes the answer stale. */
  readonly #asking = new Set<number>();
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly me: number,
    readonly lookUp: LookUp,
  ) {}

  isOnline(user: number): boolean {
    return this.#online.has(user);
  }

  /** Calls `listener` after every change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  apply(event: StreamEvent): void {
    switch (event.type) {
      case "ready":
        if (!event.presence) return;
        this.#online.clear();
        this.#known.clear();
        this.#asking.clear();
        for (const p of event.presence) this.#set(p.user, p.online);
        for (const chat of event.chats ?? []) for (const p of chat.conversation.participants) this.#known.add(p.id);
        return this.#changed();
      case "presence":
        this.#asking.delete(event.user);
        this.#set(event.user, event.online);
        return this.#changed();
      case "conversation.added":
        return this.#meet(event.chat.conversation.participants);
      case "conversation.updated":
        return this.#meet(event.conversation.participants);
    }
  }

  #meet(people: { id: number }[]): void {
    for (const { id } of people) {
      if (id === this.me || this.#known.has(id)) continue;
      this.#known.add(id);
      this.#asking.add(id);
      this.lookUp(id).then(
        ({ online }) => {
          if (!this.#asking.delete(id)) return;
          this.#set(id, online);
          this.#changed();
        },
        () => {
          // Asked again when an event next names them.
          if (this.#asking.delete(id)) this.#known.delete(id);
        },
      );
    }
  }

  #set(user: number, online: boolean): void {
    this.#known.add(user);
    if (online) this.#online.add(user);
    else this.#online.delete(user);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
