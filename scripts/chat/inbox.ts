// What the inbox shows of the user stream: the chat list and who is online from `ready`, then a line per
// event. Events are numbered: the newest one handled is where a reconnect resumes (after_event).
import type { ChatResource } from "../../src/chats/schemas";
import type { ConversationResource } from "../../src/conversations/schemas";
import type { StreamEvent } from "../../src/realtime/stream-protocol";
import type { Api } from "./api";
import { clean, excerpt, nameOf, plural, timeOf, withMentions, type Person } from "./format";
import type { Screen } from "./screen";

/** Characters of a message shown in a line (the stream's previews hold up to 140). */
const PREVIEW = 60;

export class Inbox {
  me: number | null = null;
  eventSeq: number | null = null;
  #conversations = new Map<number, ConversationResource>();
  #unread = new Map<number, number>();
  #names = new Map<number, string>();
  /** Events are handled one at a time, in order (naming an unknown conversation may take a request). */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly api: Api,
    readonly screen: Screen,
  ) {}

  /** Who "you" is (null without the `profile` scope: then every participant is named). */
  async open(): Promise<void> {
    this.me = await this.api.me();
  }

  event(event: StreamEvent): void {
    this.#queue = this.#queue.then(() => this.#handle(event)).catch((error) => this.screen.problem(String((error as Error).message ?? error)));
  }

  async #handle(event: StreamEvent): Promise<void> {
    if (event.type === "error") return this.screen.problem(`${event.code}: ${event.detail}`);
    if (event.type === "resync") return this.screen.notice("too much happened while disconnected to replay it: the chat list follows");
    if (event.type === "ready") return this.#ready(event);
    // A replay may repeat what a dropped connection already delivered.
    if (this.eventSeq !== null && event.event_seq <= this.eventSeq) return;
    this.eventSeq = event.event_seq;
    switch (event.type) {
      case "conversation.added":
        this.#learn(event.chat.conversation);
        this.#unread.set(event.chat.conversation.id, event.chat.unread_count);
        return this.#line(`added to ${this.#title(event.chat.conversation)}`);
      case "conversation.updated":
        return this.#updated(event.conversation);
      case "conversation.removed": {
        const title = await this.#titleOf(event.conversation_id);
        this.#conversations.delete(event.conversation_id);
        return this.#line(`removed from ${title}`);
      }
      case "message.created": {
        const m = event.message;
        this.#unread.set(event.conversation_id, event.unread_count);
        const [title, who] = [await this.#titleOf(event.conversation_id), this.#who(m.sender)];
        // A chat named after its sender (a direct one) is not named twice.
        const where = title === who ? `from ${who}` : `in ${title} from ${who}`;
        const unread = event.unread_count ? ` (unread ${event.unread_count})` : "";
        // `@` marks a message that mentions you.
        return this.#line(`${event.mentioned ? "@ " : ""}new message ${where}: ${this.#preview(m.preview)}${unread}`, m.sent_at);
      }
      case "message.updated":
        return this.#line(`the last message in ${await this.#titleOf(event.conversation_id)} was edited: ${this.#preview(event.message.preview)}`);
      case "message.deleted":
        return this.#line(`the last message in ${await this.#titleOf(event.conversation_id)} was deleted`);
      case "receipt": {
        // Receipts also move delivery marks; only a change in what is unread is news here.
        if (this.#unread.get(event.conversation_id) === event.unread_count) return;
        this.#unread.set(event.conversation_id, event.unread_count);
        const title = await this.#titleOf(event.conversation_id);
        return this.#line(event.unread_count ? `${plural(event.unread_count, "unread message")} in ${title}` : `unread cleared in ${title}`);
      }
      case "presence":
        return this.#line(`${this.#name(event.user)} is ${event.online ? "online" : "offline"}`);
    }
  }

  #ready(event: StreamEvent & { type: "ready" }): void {
    this.eventSeq = event.event_seq;
    if (event.resumed) return this.screen.notice("reconnected");
    const chats = event.chats ?? [];
    const count = event.chats_count ?? chats.length;
    this.#conversations.clear();
    this.#unread.clear();
    for (const chat of chats) {
      this.#learn(chat.conversation);
      this.#unread.set(chat.conversation.id, chat.unread_count);
    }
    this.screen.notice(`connected: ${plural(count, "chat")}${count > chats.length ? `, the newest ${chats.length} below` : ""}; Ctrl-D quits`);
    if (!chats.length) this.screen.print("no chats yet");
    for (const chat of chats) this.screen.print(this.#chatLine(chat));
    const online = (event.presence ?? []).map((p) => this.#name(p.user));
    this.screen.print(online.length ? `online now: ${online.join(", ")}` : "no one else is online");
  }

  #chatLine({ conversation, last_message: m, unread_count, mentions }: ChatResource): string {
    const last = m ? `${timeOf(m.sent_at)} ${this.#who(m.sender)}: ${m.deleted ? "(deleted)" : m.blocked ? "(from someone you blocked)" : this.#preview(m.message_body)}` : "no messages yet";
    const counts = [unread_count ? `${unread_count} unread` : "", mentions ? plural(mentions, "mention") : ""].filter(Boolean).join(", ");
    return `• ${this.#title(conversation)}${counts ? ` (${counts})` : ""} — ${last}`;
  }

  /** A body's start, its mentions as the names of people known here. */
  #preview(body: string): string {
    return excerpt(withMentions(body, (id) => this.#names.get(id)), PREVIEW);
  }

  /** Renamed, or people joined or left: each said on its own line. */
  #updated(now: ConversationResource): void {
    const before = this.#conversations.get(now.id);
    this.#learn(now);
    if (!before) return this.#line(`${this.#title(now)} changed`);
    if (before.title !== now.title) this.#line(now.title ? `${this.#title(before)} is now called “${clean(now.title)}”` : `${this.#title(before)} has no title now`);
    const had = new Set(before.participants.map((p) => p.id));
    const has = new Set(now.participants.map((p) => p.id));
    for (const p of now.participants) if (!had.has(p.id)) this.#line(`${nameOf(p)} joined ${this.#title(now)}`);
    for (const p of before.participants) if (!has.has(p.id)) this.#line(`${nameOf(p)} left ${this.#title(now)}`);
  }

  /** An event line, stamped with when it happened (now, unless given). */
  #line(text: string, at = new Date().toISOString()): void {
    this.screen.print(`${timeOf(at)} ${text}`);
  }

  #learn(conversation: ConversationResource): void {
    this.#conversations.set(conversation.id, conversation);
    for (const p of conversation.participants as Person[]) this.#names.set(p.id, nameOf(p));
  }

  /** The title in quotes, else the other participants' names. */
  #title(conversation: ConversationResource): string {
    if (conversation.title) return `“${clean(conversation.title)}”`;
    const others = conversation.participants.filter((p) => p.id !== this.me).map(nameOf);
    return others.length ? others.join(", ") : `conversation ${conversation.id}`;
  }

  /** A conversation beyond the chat list's first page is looked up once. */
  async #titleOf(id: number): Promise<string> {
    let conversation = this.#conversations.get(id);
    if (!conversation) {
      conversation = await this.api.conversation(String(id)).catch(() => undefined);
      if (conversation) this.#learn(conversation);
    }
    return conversation ? this.#title(conversation) : `conversation ${id}`;
  }

  #who(sender: Person): string {
    return sender.id === this.me ? "you" : nameOf(sender);
  }

  #name(user: number): string {
    return this.#names.get(user) ?? `user ${user}`;
  }
}
