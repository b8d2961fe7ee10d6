// The scrolling log of a conversation's messages: one element per seq in seq order, the sends still
// pending below them, and older history loaded a page at a time as the reader scrolls up.
import { ApiError, messagesBefore } from "../api";
import { el } from "../dom";
import type { Timeline } from "../timeline";
import type { MessageResource } from "../types";

/** Messages per history page. */
export const PAGE = 50;

type Hooks = { show(message: MessageResource): void; offline(): void };

export class MessageLog {
  readonly items = new Map<number, HTMLLIElement>();
  /** Lines that are not messages, each after the message of seq `after` (and after earlier notes there). */
  readonly #notes: { after: number; element: HTMLLIElement }[] = [];
  readonly pendingList = el("ol", { class: "timeline pending-list" });
  readonly element: HTMLElement;
  readonly #list = el("ol", { class: "timeline" });
  readonly #older = el("button", { type: "button", class: "older", onclick: () => void this.load() }, "Load earlier messages");
  readonly #start = el("p", { class: "start", hidden: true }, "This is the start of the conversation.");
  readonly #observer: IntersectionObserver;
  readonly #resize: ResizeObserver;
  /** Whether the reader was at the newest message when they last scrolled. */
  #atBottom = true;
  #loading = false;
  #load: Promise<void> = Promise.resolve();
  /** Bumped by a restart, so a history page fetched before it is dropped. */
  #generation = 0;
  #reachedStart = false;

  constructor(
    private readonly id: number,
    private readonly timeline: Timeline,
    private readonly hooks: Hooks,
  ) {
    this.element = el("div", { class: "messages", role: "log", "aria-label": "Messages", tabindex: 0 }, this.#older, this.#start, this.#list, this.pendingList);
    this.#observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && timeline.bySeq.size > 0 && void this.load(), { root: this.element });
    this.#observer.observe(this.#older);
    this.element.addEventListener("scroll", () => (this.#atBottom = this.#nearBottom()), { passive: true });
    // The log shrinks when the box above the keyboard grows (files to send, a reply's quote, a long text):
    // a reader at the newest message stays there.
    this.#resize = new ResizeObserver(() => this.#atBottom && this.toBottom());
    this.#resize.observe(this.element);
  }

  #nearBottom(): boolean {
    return this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight < 48;
  }

  /** Puts a message's element in its place by seq (or in place of the one showing it). */
  put(seq: number, item: HTMLLIElement): void {
    const old = this.items.get(seq);
    this.items.set(seq, item);
    if (old) return old.replaceWith(item);
    // New messages land at the end, history at the top.
    this.#list.insertBefore(item, this.#following(seq));
  }

  /** Puts a line that is not a message after the message of seq `after` (a note there already stays first). */
  note(after: number, element: HTMLLIElement): void {
    this.#list.insertBefore(element, this.#following(after + 0.5));
    this.#notes.push({ after, element });
  }

  /** The first element placed after `position` (a message's seq; a note's is its `after` plus a half). */
  #following(position: number): HTMLLIElement | null {
    let next: [number, HTMLLIElement] | null = null;
    for (const [seq, item] of this.items) if (seq > position && (!next || seq < next[0])) next = [seq, item];
    // Strictly less: of notes after the same message, the earliest stays first.
    for (const { after, element } of this.#notes) if (after + 0.5 > position && (!next || after + 0.5 < next[0])) next = [after + 0.5, element];
    return next?.[1] ?? null;
  }

  /** Runs a DOM change, keeping the view pinned to the newest message if it was there. */
  keepingBottom(change: () => void): void {
    const stick = this.#nearBottom();
    change();
    if (stick) this.toBottom();
  }

  toBottom(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }

  /**
   * Loads the page before `before` (by default the oldest shown). Explicit calls queue behind any load in
   * flight; the scroll-triggered ones are dropped while one runs.
   */
  load(before?: number): Promise<void> {
    if (before === undefined && (this.#loading || this.#reachedStart)) return this.#load;
    this.#loading = true;
    const current = this.#generation;
    this.#load = this.#load.then(() => this.#fetch(before ?? this.timeline.oldestSeq() ?? this.timeline.streamSeq + 1, current)).finally(() => (this.#loading = false));
    return this.#load;
  }

  /** Starts over from the newest page (a resync: too far behind to replay). */
  restart(lastSeq: number): Promise<void> {
    this.#generation++;
    this.timeline.bySeq.clear();
    this.items.clear();
    // The notes stay, in their order: the messages reloaded around them find their places by seq.
    this.#list.replaceChildren(...this.#notes.map((n) => n.element));
    this.timeline.streamSeq = lastSeq;
    this.#showStart(false);
    return this.load(lastSeq + 1);
  }

  /** Nothing to page back through: the conversation is not (or no longer) the user's. */
  end(): void {
    this.#older.hidden = true;
  }

  stop(): void {
    this.#observer.disconnect();
    this.#resize.disconnect();
  }

  #showStart(reached: boolean): void {
    this.#reachedStart = reached;
    this.#older.hidden = reached;
    this.#start.hidden = !reached;
  }

  async #fetch(before: number, current: number): Promise<void> {
    if (before <= 1) return this.#showStart(true);
    const scroller = this.element;
    this.#older.textContent = "Loading…";
    try {
      const page = await messagesBefore(this.id, before, PAGE);
      if (current !== this.#generation) return; // A resync started over meanwhile.
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      for (const m of page.results) this.hooks.show(m);
      // Older messages go above: keep what the reader was looking at where it was.
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
      this.#showStart(page.previous === null);
      // Still room above (a tall screen): keep filling until it scrolls or history ends.
      if (!this.#reachedStart && this.#older.getBoundingClientRect().bottom > scroller.getBoundingClientRect().top) setTimeout(() => void this.load(), 0);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) this.hooks.offline();
    } finally {
      this.#older.textContent = "Load earlier messages";
    }
  }
}
