// The people the user blocked: read once per session (GET /api/users/me/blocks/), then kept by the
// user's own changes. The server already hides their messages; the app also uses this list to say so (a
// placeholder where a stream event only carries an empty preview, a hidden quote, a Blocked mark), and to
// hide a message that reached it before the server learned of a block.
import { ApiError, blocks as fetchBlocks, blockUser, unblockUser } from "./api";
import type { Block } from "./types";

type Person = Block["user"];
/** Someone was blocked (true) or unblocked (false); nothing for the first load. */
export type BlockChange = { user: number; blocked: boolean } | undefined;

export class Blocks {
  readonly #byId = new Map<number, Block>();
  readonly #listeners = new Set<(change: BlockChange) => void>();
  #load: Promise<void> | null = null;
  /** Why the list could not be read (empty once it was). */
  error = "";
  loaded = false;

  has(user: number): boolean {
    return this.#byId.has(user);
  }

  /** Newest first, as the API lists them. */
  list(): Block[] {
    return [...this.#byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  /** Calls `listener` after every change; returns the unsubscribe. */
  subscribe(listener: (change: BlockChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads the list (every page); a failed read is tried again on the next call. */
  load(): Promise<void> {
    this.#load ??= (async () => {
      const found: Block[] = [];
      for (let page = 1; ; page++) {
        const answer = await fetchBlocks(page);
        found.push(...answer.results);
        if (!answer.next || answer.results.length === 0) break;
      }
      // A change made while the list loaded is newer than the page that says otherwise.
      for (const block of found) if (!this.#byId.has(block.user.id)) this.#byId.set(block.user.id, block);
      this.loaded = true;
      this.error = "";
      this.#changed(undefined);
    })().catch((e: unknown) => {
      this.#load = null;
      this.error = e instanceof Error ? e.message : String(e);
      this.#changed(undefined);
    });
    return this.#load;
  }

  /** Blocks someone; throws the API's problem. */
  async block(person: Person): Promise<void> {
    const block = await blockUser(person.id);
    this.#byId.set(person.id, block);
    this.#changed({ user: person.id, blocked: true });
  }

  /** Unblocks someone; throws the API's problem (a 404 means they were not blocked: the list drops them). */
  async unblock(user: number): Promise<void> {
    try {
      await unblockUser(user);
    } catch (e) {
      // Unblocked elsewhere (another tab): the list was stale, and now says what the server does.
      if (!(e instanceof ApiError && e.status === 404 && this.#byId.has(user))) throw e;
    }
    this.#byId.delete(user);
    this.#changed({ user, blocked: false });
  }

  #changed(change: BlockChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}
