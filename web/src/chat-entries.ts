// The chat list's state: one entry per conversation, from the user stream's snapshot and events and any
// further pages of /api/chats/. These overlap (an event may describe what the snapshot already holds), so
// every merge keeps the newer of two facts: the higher last seq and watermarks, the later conversation.
// Unread is derived as the server derives it (last_seq − read_seq), so a stale count never wins.
// Mentions cannot be derived: the count of the copy that has read further wins, and never exceeds unread.
import type { Chat, ConversationResource, MessageSummary, StreamEvent } from "./types";

/**
 * The last message as the list shows it; `blocked` when a page said it is from someone the user blocked
 * (a stream event's summary only says so by an empty preview).
 */
export type LastMessage = MessageSummary & { blocked?: boolean };
/** `mentions`: unread messages that mention the user; `mutedUntil`: the user's own mute (an ISO time, maybe past). */
export type Entry = { conversation: ConversationResource; last: LastMessage | null; readSeq: number; deliveredSeq: number; mentions: number; mutedUntil: string | null };

export const unreadOf = (entry: Entry): number => Math.max(0, entry.conversation.last_seq - entry.readSeq);
export const mentionsOf = (entry: Entry): number => Math.min(entry.mentions, unreadOf(entry));
/** When the user's mute of the chat ends (ms), or null when it is not muted now. */
export function muteEnds(entry: Entry, now = Date.now()): number | null {
  const end = entry.mutedUntil === null ? NaN : Date.parse(entry.mutedUntil);
  return end > now ? end : null;
}

/** The later of two ISO timestamps (the server writes them all in one format, so strings compare). */
const later = <T extends string | null>(a: T, b: T): T => (a === null ? b : b === null || a > b ? a : b);

const summaryOf = (m: NonNullable<Chat["last_message"]>): LastMessage => ({
  id: m.id,
  seq: m.seq,
  sender: m.sender,
  preview: m.message_body,
  sent_at: m.sent_at,
  edited: m.edited_at !== null,
  deleted: m.deleted,
  blocked: m.blocked,
});

function entryOf(chat: Chat): Entry {
  const m = chat.last_message;
  const readSeq = chat.conversation.last_seq - chat.unread_count;
  // Someone else's message has the status of the user's own watermarks: past "sent", it was delivered.
  return {
    conversation: chat.conversation,
    last: m && summaryOf(m),
    readSeq,
    deliveredSeq: m && m.status !== "sent" ? m.seq : readSeq,
    mentions: chat.mentions,
    mutedUntil: chat.muted_until,
  };
}

function merge(old: Entry | undefined, next: Entry): Entry {
  if (!old) return next;
  // Adding someone leaves updated_at alone, so a tie goes to the newcomer.
  const conversation = next.conversation.updated_at >= old.conversation.updated_at ? next.conversation : old.conversation;
  return {
    conversation: {
      ...conversation,
      last_seq: Math.max(old.conversation.last_seq, next.conversation.last_seq),
      last_message_at: later(old.conversation.last_message_at, next.conversation.last_message_at),
      last_activity_at: later(old.conversation.last_activity_at, next.conversation.last_activity_at),
    },
    last: (next.last?.seq ?? 0) >= (old.last?.seq ?? 0) ? next.last : old.last,
    readSeq: Math.max(old.readSeq, next.readSeq),
    deliveredSeq: Math.max(old.deliveredSeq, next.deliveredSeq),
    mentions: newerMentions(old, next),
    // Only chats (pages, the snapshot) carry it: an event's entry is the old one with a newer conversation.
    mutedUntil: next.mutedUntil,
  };
}

/** The mention count of the copy that has read further, or else seen further; a tie goes to the newcomer. */
function newerMentions(old: Entry, next: Entry): number {
  if (old.readSeq !== next.readSeq) return old.readSeq > next.readSeq ? old.mentions : next.mentions;
  return old.conversation.last_seq > next.conversation.last_seq ? old.mentions : next.mentions;
}

export class ChatEntries {
  readonly #byId = new Map<number, Entry>();
  /** Conversations the user left: a page fetched before they left must not bring them back. */
  readonly #removed = new Set<number>();
  /** How many chats the user has in all: the list may hold only the first pages of them. */
  total = 0;

  get size(): number {
    return this.#byId.size;
  }

  get(id: number): Entry | undefined {
    return this.#byId.get(id);
  }

  /** Newest activity first, as the server orders its pages. */
  ordered(): Entry[] {
    return [...this.#byId.values()].sort((a, b) => b.conversation.last_activity_at.localeCompare(a.conversation.last_activity_at) || b.conversation.id - a.conversation.id);
  }

  /** The user muted (an ISO time) or unmuted (null) a chat, here or elsewhere. */
  mute(id: number, until: string | null): void {
    const old = this.#byId.get(id);
    if (old) this.#byId.set(id, { ...old, mutedUntil: until });
  }

  /** Merges chats from a page of /api/chats/ (`count` of them in all). */
  addPage(chats: Chat[], count: number): void {
    for (const chat of chats) {
      const id = chat.conversation.id;
      if (!this.#removed.has(id)) this.#byId.set(id, merge(this.#byId.get(id), entryOf(chat)));
    }
    this.total = Math.max(count, this.#byId.size);
  }

  /**
   * Applies a stream event. Returns false when it brought a conversation the list does not hold to the
   * top (a message or a rename in a chat past the loaded pages): fetch the first page to show it.
   */
  apply(event: StreamEvent): boolean {
    switch (event.type) {
      case "ready":
        if (event.resumed || !event.chats) return true;
        this.#byId.clear();
        this.#removed.clear();
        this.addPage(event.chats, event.chats_count ?? event.chats.length);
        return true;
      case "conversation.added":
        this.#removed.delete(event.chat.conversation.id);
        if (!this.#byId.has(event.chat.conversation.id)) this.total++;
        this.addPage([event.chat], this.total);
        return true;
      case "conversation.removed":
        this.#byId.delete(event.conversation_id);
        this.#removed.add(event.conversation_id);
        this.total = Math.max(this.#byId.size, this.total - 1);
        return true;
      case "conversation.updated": {
        const old = this.#byId.get(event.conversation.id);
        if (old) this.#byId.set(old.conversation.id, merge(old, { ...old, conversation: event.conversation }));
        return old !== undefined;
      }
      case "message.created": {
        const old = this.#byId.get(event.conversation_id);
        const m = event.message;
        // Already known (the snapshot was read after this event was numbered): nothing to change.
        if (!old || m.seq <= old.conversation.last_seq) return old !== undefined;
        const conversation = { ...old.conversation, last_seq: m.seq, last_message_at: m.sent_at, last_activity_at: later(old.conversation.last_activity_at, m.sent_at) };
        const mentions = mentionsOf(old) + (event.mentioned ? 1 : 0);
        this.#byId.set(old.conversation.id, { ...old, conversation, last: m, readSeq: Math.max(old.readSeq, m.seq - event.unread_count), mentions });
        return true;
      }
      case "message.updated":
      case "message.deleted": {
        const old = this.#byId.get(event.conversation_id);
        if (old?.last?.seq === event.message.seq) this.#byId.set(old.conversation.id, { ...old, last: event.message });
        return true;
      }
      case "receipt": {
        const old = this.#byId.get(event.conversation_id);
        if (!old) return true;
        // The count after the move: of no use when the list already holds a further move.
        const mentions = event.read_seq >= old.readSeq ? event.mentions : old.mentions;
        this.#byId.set(old.conversation.id, { ...old, readSeq: Math.max(old.readSeq, event.read_seq), deliveredSeq: Math.max(old.deliveredSeq, event.delivered_seq), mentions });
        return true;
      }
      default:
        return true;
    }
  }
}
