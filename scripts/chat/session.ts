// What the terminal client does with events and typed lines: history first, then the conversation live;
// own lines go ⋯ pending → ✓ sent once acknowledged; read receipts and typing go out as the user reads and types.
import { randomUUID } from "node:crypto";
import type { ConversationResource } from "../../src/conversations/schemas";
import { MAX_BODY_CODE_POINTS, type MessageResource } from "../../src/messages/schemas";
import { MAX_FRAME_BYTES, TYPING_SECONDS, type ClientFrame, type ServerEvent } from "../../src/realtime/protocol";
import type { Api } from "./api";
import { clean, excerpt, MARK, messageLine, nameOf, plural, showMessage, timeOf, type Person } from "./format";
import { Outbox } from "./outbox";
import type { Printed, Screen } from "./screen";

export const HISTORY = 20;
/** Typing frames go at most this often while the user types (the server passes on one per 2 s). */
const TYPING_EVERY_MS = 3_000;
const RECEIPT_DELAY_MS = 300;

export class Session {
  me: number | null = null;
  /** The newest seq shown: where a reconnect resumes (after_seq). */
  lastSeq: number | null = null;
  changeSeq: number | null = null;
  readonly outbox: Outbox<Printed | null>;
  #names = new Map<number, string>();
  /** client_message_ids of the lines typed here: their message.created is not printed again. */
  #mine = new Set<string>();
  #changes = new Set<string>();
  #othersShown = 0;
  #readSent = 0;
  #readConfirmed = 0;
  #receiptTimer: NodeJS.Timeout | undefined;
  #typingSentAt = 0;
  #typers = new Map<number, number>();
  #typersTimer: NodeJS.Timeout | undefined;
  #connectedBefore = false;
  /** Lines typed before the history is shown wait, so they print below it. */
  #early: string[] | null = [];
  /** Events are handled one at a time, in order (a `resync` loads history before what follows). */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly conversationId: string,
    readonly api: Api,
    readonly screen: Screen,
    readonly send: (frame: ClientFrame) => boolean,
    readonly live: () => boolean,
  ) {
    this.outbox = new Outbox((frame) => this.send(frame));
  }

  /** The conversation's header and last messages (or, with `afterSeq`, nothing: the replay shows them). */
  async open(afterSeq: number | null): Promise<void> {
    const [me, conversation] = await Promise.all([this.api.me(), this.api.conversation(this.conversationId)]);
    this.me = me;
    this.#learn(conversation);
    const others = conversation.participants.filter((p) => p.id !== me).map(nameOf);
    const title = conversation.title ? `“${clean(conversation.title)}”` : `conversation ${conversation.id}`;
    this.screen.notice(`${title}${others.length ? ` with ${others.join(", ")}` : ""}`);
    if (afterSeq !== null) this.lastSeq = afterSeq;
    else await this.#history(conversation.last_seq);
    const early = this.#early ?? [];
    this.#early = null;
    for (const line of early) this.#send(line);
  }

  async #history(upTo: number): Promise<void> {
    const page = await this.api.lastMessages(this.conversationId, upTo, HISTORY);
    if (page.count > page.results.length) this.screen.notice(`the last ${plural(page.results.length, "message")} of ${page.count.toLocaleString("en-US")}`);
    else if (!page.results.length) this.screen.notice("no messages yet");
    for (const m of page.results) this.#show(m);
    this.lastSeq = Math.max(this.lastSeq ?? 0, page.results.at(-1)?.seq ?? upTo);
  }

  event(event: ServerEvent): void {
    this.#queue = this.#queue.then(() => this.#handle(event)).catch((error) => this.screen.problem(String((error as Error).message ?? error)));
  }

  /** Every line typed and not yet acknowledged, oldest first. */
  get unsent(): string[] {
    return [...(this.#early ?? []), ...this.outbox.items.map((item) => item.body)];
  }

  /**
   * A line typed at the prompt (readline has echoed it): refused here, with the limit, if the server would
   * refuse it, else shown as a pending message in place of the echo and sent.
   */
  typed(line: string): void {
    const refusal = line.trim() ? refusalOf(line) : null;
    if (refusal) return this.screen.problem(`Not sent: ${refusal}${this.screen.tty ? " (↑ brings the line back to edit)" : ""}`);
    this.screen.eraseEcho(line);
    if (!line.trim()) return;
    if (this.#early) return void this.#early.push(line);
    this.#send(line);
  }

  #send(line: string): void {
    const printed = this.screen.print(messageLine(MARK.pending, timeOf(new Date().toISOString()), "you", line), true);
    const item = this.outbox.add(line, printed);
    this.#mine.add(item.id);
  }

  /** A key went into the input line (on a terminal): say we are typing, at most every 3 s. */
  keystroke(line: string): void {
    if (!line.trim() || Date.now() - this.#typingSentAt < TYPING_EVERY_MS) return;
    if (this.send({ type: "typing" })) this.#typingSentAt = Date.now();
  }

  async #handle(event: ServerEvent): Promise<void> {
    switch (event.type) {
      case "message.created": {
        const m = event.message;
        if (this.lastSeq !== null && m.seq <= this.lastSeq) return;
        this.lastSeq = m.seq;
        if (m.client_message_id && this.#mine.has(m.client_message_id)) return this.#confirm(m.client_message_id, m);
        if (this.#typers.delete(m.sender.id)) this.#updateTypers();
        return this.#show(m);
      }
      case "ack":
        return this.#confirm(event.client_message_id, event.message);
      case "message.updated":
      case "message.deleted": {
        const m = event.message;
        const key = `${m.id}:${m.edited_at}:${m.deleted}`;
        if (this.#changes.has(key)) return;
        this.#changes.add(key);
        return void this.screen.print(showMessage(m, this.me));
      }
      case "typing":
        if (event.user === this.me) return;
        // `until` is by the server's clock; the indicator's length is what counts here.
        this.#typers.set(event.user, Date.now() + TYPING_SECONDS * 1000);
        return this.#updateTypers();
      case "participant.added":
        // A newcomer's name is in the conversation resource.
        if (!this.#names.has(event.user)) await this.api.conversation(this.conversationId).then((c) => this.#learn(c), () => {});
        return this.screen.notice(`${this.#name(event.user)} joined`);
      case "participant.removed":
        return this.screen.notice(`${this.#name(event.user)} left`);
      case "conversation.updated":
        this.#learn(event.conversation);
        return this.screen.notice(event.conversation.title ? `the conversation is now called “${clean(event.conversation.title)}”` : "the conversation has no title now");
      case "resync":
        this.screen.notice(`more than ${plural(1000, "message")} came while disconnected`);
        this.lastSeq = event.last_seq;
        return this.#history(event.last_seq);
      case "ready":
        this.lastSeq = Math.max(this.lastSeq ?? 0, event.last_seq);
        this.changeSeq = event.change_seq;
        this.#readConfirmed = this.#readSent = Math.max(this.#readSent, event.read_seq);
        this.screen.notice(this.#connectedBefore ? "reconnected" : "connected: type a message and press Enter; Ctrl-D quits");
        if (this.outbox.items.length) this.screen.notice(`sending ${plural(this.outbox.items.length, "waiting line")}`);
        this.#connectedBefore = true;
        this.outbox.resend();
        return this.#receipt();
      case "error":
        return this.#error(event);
      case "status":
        return;
    }
  }

  #error(event: ServerEvent & { type: "error" }): void {
    const id = event.client_message_id;
    const ours = id ? this.outbox.items.find((i) => i.id === id) : undefined;
    if (event.code === "rate_limited" || (ours && event.code === "unavailable")) {
      // Dropped, not refused: the line (or the receipt) goes again after retry_after.
      this.outbox.retry(id, event.retry_after ?? 1);
      if (!ours) {
        this.#readSent = this.#readConfirmed;
        setTimeout(() => this.#receipt(), (event.retry_after ?? 1) * 1000).unref();
      }
      return;
    }
    if (ours) {
      this.outbox.settle(id);
      if (!ours.tag || !this.screen.mark(ours.tag, MARK.failed)) this.screen.problem(`${MARK.failed} “${excerpt(ours.body)}”`);
      return this.screen.problem(`Not sent: ${event.detail}`);
    }
    this.screen.problem(`${event.code}: ${event.detail}`);
  }

  /** An own line is stored: ⋯ becomes ✓ in place (or a short ✓ line when that is not possible). */
  #confirm(id: string | null, message: MessageResource): void {
    this.me ??= message.sender.id;
    this.#names.set(message.sender.id, nameOf(message.sender));
    const item = this.outbox.settle(id);
    if (!item) return;
    if (item.tag && this.screen.mark(item.tag, MARK.sent)) return;
    this.screen.print(`${MARK.sent} sent: “${excerpt(item.body)}”`);
  }

  #show(m: MessageResource): void {
    this.#names.set(m.sender.id, nameOf(m.sender));
    this.screen.print(showMessage(m, this.me));
    if (m.sender.id !== this.me) {
      this.#othersShown = Math.max(this.#othersShown, m.seq);
      clearTimeout(this.#receiptTimer);
      this.#receiptTimer = setTimeout(() => this.#receipt(), RECEIPT_DELAY_MS);
    }
  }

  /** Others' messages shown here are read: one receipt for the newest (sent once the socket is live). */
  #receipt(): void {
    if (this.#othersShown <= this.#readSent || !this.live()) return;
    if (this.send({ type: "receipt", read_up_to: this.#othersShown })) this.#readSent = this.#othersShown;
  }

  #updateTypers(): void {
    const now = Date.now();
    for (const [user, until] of this.#typers) if (until <= now) this.#typers.delete(user);
    const names = [...this.#typers.keys()].map((u) => this.#name(u));
    this.screen.setNote(names.length ? `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…` : "");
    clearTimeout(this.#typersTimer);
    if (this.#typers.size) this.#typersTimer = setTimeout(() => this.#updateTypers(), Math.min(...this.#typers.values()) - now + 50).unref();
  }

  #learn(conversation: ConversationResource): void {
    for (const p of conversation.participants as Person[]) this.#names.set(p.id, nameOf(p));
  }

  #name(user: number): string {
    return this.#names.get(user) ?? `user ${user}`;
  }

  stop(): void {
    clearTimeout(this.#receiptTimer);
    clearTimeout(this.#typersTimer);
    this.outbox.stop();
  }
}

/** Why the server would refuse this line, or null. */
function refusalOf(line: string): string | null {
  const length = [...line.trim()].length;
  if (length > MAX_BODY_CODE_POINTS) return `the line is ${plural(length, "character")}; a message holds at most ${MAX_BODY_CODE_POINTS.toLocaleString("en-US")}.`;
  // Escaped JSON can outgrow the frame limit (16 KiB, else close 1009) before the character limit.
  const bytes = Buffer.byteLength(JSON.stringify({ type: "send", message_body: line, client_message_id: randomUUID() }));
  if (bytes > MAX_FRAME_BYTES) return `the line takes ${bytes.toLocaleString("en-US")} bytes as a frame; a frame holds at most ${MAX_FRAME_BYTES.toLocaleString("en-US")}.`;
  return null;
}
