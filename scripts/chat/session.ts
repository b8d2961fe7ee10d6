// What the terminal client does with events and typed lines: history first, then the conversation live;
// own lines go ⋯ pending → ✓ sent once acknowledged; read receipts and typing go out as the user reads and types.
// Typed commands (scripts/chat/commands.ts) name messages by seq: replies go out on the socket like any
// line, reactions, pins and search over REST; a file is uploaded over REST, then sent on the socket.
import type { AttachmentResource } from "../../src/attachments/schemas";
import type { ConversationResource } from "../../src/conversations/schemas";
import type { MessageResource } from "../../src/messages/schemas";
import { TYPING_SECONDS, type ClientFrame, type ServerEvent } from "../../src/realtime/protocol";
import { Refusal, type Api } from "./api";
import { progressLine, saveAttachment, uploadFile } from "./attachments";
import { readInput, refusalOf, type Input } from "./commands";
import { attachmentLines, clean, eventLine, excerpt, MARK, messageLine, nameOf, plural, quoteOf, searchHitLine, showMessage, sizeOf, timeOf, withMentions, type Names, type Person } from "./format";
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
  readonly #nameOf: Names = (id) => this.#names.get(id);
  /** Messages shown (or looked up) here, by seq: commands name them so, and a reply quotes one. */
  #bySeq = new Map<number, MessageResource>();
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
  /**
   * Typed lines run one at a time, in order, and only once the history is shown (so they print below
   * it): a command may take a request, and the lines typed after it wait for it.
   */
  #input: Promise<void>;
  #historyShown!: () => void;
  /** Typed lines that have not run yet, oldest first. */
  #waiting: string[] = [];
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
    this.#input = new Promise((resolve) => (this.#historyShown = resolve));
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
    this.#historyShown();
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

  /** Every line typed and not yet acknowledged (or, for a command, not yet done), oldest first. */
  get unsent(): string[] {
    return [...this.outbox.items.map((item) => item.typed), ...this.#waiting];
  }

  /** Resolves once every typed line has run and every message is acknowledged. */
  async settled(): Promise<void> {
    await this.#input;
    await this.outbox.empty();
  }

  /**
   * A line typed at the prompt (readline has echoed it): refused here, with the limit, if the server would
   * refuse it, else run in turn: a message is shown as pending in place of the echo and sent.
   */
  typed(line: string): void {
    const input = readInput(line);
    const body = input.kind === "send" || input.kind === "reply" || input.kind === "attach" ? input.body : "";
    const refusal = body.trim() ? refusalOf(body) : null;
    if (refusal) return this.screen.problem(`Not sent: ${refusal}${this.screen.tty ? " (↑ brings the line back to edit)" : ""}`);
    this.screen.eraseEcho(line);
    if (!line.trim()) return;
    this.#waiting.push(line);
    this.#input = this.#input
      .then(() => this.#run(input, line))
      .catch((error: Error) => this.screen.problem(error instanceof Refusal ? `${error.detail} (HTTP ${error.status})` : error.message))
      .finally(() => this.#waiting.shift());
  }

  async #run(input: Input, typed: string): Promise<void> {
    switch (input.kind) {
      case "send":
        return this.#send({ body: input.body, typed });
      case "attach": {
        // Uploaded once: from then on the message is an outbox line like any other, kept across reconnects.
        const progress = progressLine(this.screen, input.path);
        const attachment = await uploadFile(this.api, this.conversationId, input.path, progress.update).finally(progress.done);
        return this.#send({ body: input.body, typed, attachments: [attachment] });
      }
      case "help":
        return this.screen.notice(input.text);
      case "search":
        return this.#search(input.words);
      case "mute": {
        await this.api.mute(this.conversationId, input.until);
        const when = input.until && input.until.getFullYear() < 9999 ? ` until ${input.until.toLocaleString()}` : "";
        return this.screen.notice(input.until ? `muted${when}: push notifications only when someone mentions you` : "unmuted: push notifications for every message");
      }
    }
    const target = this.#bySeq.get(input.seq) ?? (await this.api.messageAt(this.conversationId, input.seq));
    if (!target) return this.screen.problem(`There is no message #${input.seq} in this conversation.`);
    this.#bySeq.set(target.seq, target);
    switch (input.kind) {
      case "reply":
        if (target.deleted) return this.screen.problem(`Not sent: #${target.seq} is deleted.`);
        return this.#send({ body: input.body, typed, reply: target });
      case "download":
        if (!target.attachments.length) return this.screen.problem(`#${target.seq} has no files.`);
        for (const attachment of target.attachments) {
          const path = await saveAttachment(this.api, attachment, input.dir);
          this.screen.notice(`saved ${path} (${sizeOf(attachment.size)})`);
        }
        return;
      case "react":
      case "unreact":
      case "pin":
      case "unpin": {
        const now =
          input.kind === "react" || input.kind === "unreact"
            ? await this.api.react(this.conversationId, target.id, input.emoji, input.kind === "react")
            : await this.api.pin(this.conversationId, target.id, input.kind === "pin");
        // Live, the socket's event says what changed (for everyone alike); else the message as it is now does.
        if (!this.live()) this.screen.print(showMessage(now, this.me, this.#nameOf));
      }
    }
  }

  /** `reply`: the message this line answers, quoted under it; `attachments`: its files, uploaded. */
  #send({ body, typed, reply, attachments }: { body: string; typed: string; reply?: MessageResource; attachments?: AttachmentResource[] }): void {
    const lines = [messageLine(MARK.pending, timeOf(new Date().toISOString()), "you", withMentions(body, this.#nameOf))];
    if (reply) lines.push(quoteOf({ sender: reply.sender, preview: reply.message_body, deleted: false }, this.me, this.#nameOf));
    if (attachments) lines.push(...attachmentLines(attachments));
    const printed = this.screen.print(lines.join("\n"), true);
    const item = this.outbox.add({ body, typed, reply: reply && { id: reply.id, seq: reply.seq }, attachments }, printed);
    this.#mine.add(item.id);
  }

  async #search(words: string): Promise<void> {
    const found = await this.api.search(this.conversationId, words);
    const count = `${found.next ? "the newest " : ""}${plural(found.results.length, "message")}`;
    this.screen.notice(found.results.length ? `${count} matching “${clean(words)}”, newest first:` : `no message matches “${clean(words)}”`);
    for (const hit of found.results) this.screen.print(searchHitLine(hit, this.me, this.#nameOf));
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
        this.#bySeq.set(m.seq, m);
        return void this.screen.print(showMessage(m, this.me, this.#nameOf));
      }
      case "reaction.added":
      case "reaction.removed": {
        const [did, to] = event.type === "reaction.added" ? ["reacted", "to"] : ["removed", "from"];
        return void this.screen.print(eventLine(`${this.#who(event.user)} ${did} ${clean(event.emoji)} ${to} #${event.seq} (${event.count})`));
      }
      case "message.pinned":
      case "message.unpinned": {
        const m = event.message;
        this.#bySeq.set(m.seq, m);
        const quoted = `“${excerpt(withMentions(m.message_body, this.#nameOf, m.mentions), 40)}”`;
        if (event.type === "message.pinned") return void this.screen.print(eventLine(`${m.pinned_by === null ? "someone" : this.#who(m.pinned_by)} pinned #${m.seq}: ${quoted}`));
        // The event does not say who unpinned it (the message no longer says who had pinned it either).
        return void this.screen.print(eventLine(`#${m.seq} was unpinned: ${quoted}`));
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
      if (!ours.tag || !this.screen.mark(ours.tag, MARK.failed)) this.screen.problem(`${MARK.failed} ${labelOf(ours)}`);
      return this.screen.problem(`Not sent: ${event.detail}`);
    }
    this.screen.problem(`${event.code}: ${event.detail}`);
  }

  /** An own line is stored: ⋯ becomes ✓ in place (or a short ✓ line when that is not possible). */
  #confirm(id: string | null, message: MessageResource): void {
    this.me ??= message.sender.id;
    this.#names.set(message.sender.id, nameOf(message.sender));
    this.#bySeq.set(message.seq, message);
    const item = this.outbox.settle(id);
    if (!item) return;
    if (item.tag && this.screen.mark(item.tag, MARK.sent)) return;
    this.screen.print(`${MARK.sent} sent: ${labelOf(item)}`);
  }

  #show(m: MessageResource): void {
    this.#names.set(m.sender.id, nameOf(m.sender));
    this.#bySeq.set(m.seq, m);
    this.screen.print(showMessage(m, this.me, this.#nameOf));
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

  #who(user: number): string {
    return user === this.me ? "you" : this.#name(user);
  }

  stop(): void {
    clearTimeout(this.#receiptTimer);
    clearTimeout(this.#typersTimer);
    this.outbox.stop();
  }
}

/** An own message in a line about it: its text, or (with none) its files. */
const labelOf = ({ body, attachments = [] }: { body: string; attachments?: AttachmentResource[] }) =>
  body.trim() ? `“${excerpt(body)}”` : attachments.map((a) => `📎 ${clean(a.name)}`).join(", ");
