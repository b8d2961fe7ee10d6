// Changes to messages the client already holds that the server leaves to it: a reaction event carries only
// the emoji's new count, a new or deleted reply changes its parent's reply count, and an edited or deleted
// message changes the quotes its replies show.
import type { MessageResource, Quote, ServerEvent } from "./types";

type ReactionEvent = Extract<ServerEvent, { type: "reaction.added" | "reaction.removed" }>;

/** Characters of the parent's body a quote shows (the server's `reply_to.preview`). */
const QUOTE_LENGTH = 140;

/** The message with one emoji's count as the event reports it; the first reaction with an emoji goes last. */
export function withReaction(message: MessageResource, event: ReactionEvent, me: number): MessageResource {
  const mine = event.user === me ? event.type === "reaction.added" : undefined;
  const known = message.reactions.some((r) => r.emoji === event.emoji);
  const reactions = known
    ? message.reactions.map((r) => (r.emoji === event.emoji ? { ...r, count: event.count, me: mine ?? r.me } : r))
    : [...message.reactions, { emoji: event.emoji, count: event.count, me: mine ?? false }];
  return { ...message, reactions: reactions.filter((r) => r.count > 0) };
}

/** The quote a reply to `message` carries. */
export function quoteOf(message: MessageResource): Quote {
  const preview = message.deleted ? "" : Array.from(message.message_body).slice(0, QUOTE_LENGTH).join("");
  return { id: message.id, seq: message.seq, sender: message.sender, preview, deleted: message.deleted };
}

/**
 * Decides how a copy of a message from the socket moves its parent's reply count. A copy replayed after a
 * (re)connect is current, so its parent's count already holds the replies replayed with it; a parent the
 * client held from before holds none of them. Live copies always move it.
 */
export class ReplyCounts {
  #replaying = true;
  /** Messages whose current copy came in this replay. */
  readonly #fresh = new Set<number>();

  /** A new connection starts its replay. */
  connecting(): void {
    this.#replaying = true;
    this.#fresh.clear();
  }

  /** The replay is over (`ready`): what comes now is live. */
  live(): void {
    this.#replaying = false;
    this.#fresh.clear();
  }

  /** +1 for a reply new to the client, −1 for a reply it held that is now deleted, else 0. */
  delta(before: MessageResource | undefined, after: MessageResource): number {
    if (this.#replaying) this.#fresh.add(after.id);
    const parent = before?.reply_to ?? after.reply_to;
    if (!parent || (this.#replaying && this.#fresh.has(parent.id))) return 0;
    if (!before) return after.deleted ? 0 : 1;
    return !before.deleted && after.deleted ? -1 : 0;
  }
}
