// Lines typed but not yet acknowledged. Each keeps its client_message_id, so sending it again after a
// reconnect is safe (the server answers a repeat with the stored message). Sends are paced under the
// socket's frame budget (WS_FRAMES_PER_SECOND 10 beyond a burst of 30), and a `rate_limited` one waits
// its retry_after and goes again.
import { randomUUID } from "node:crypto";
import type { AttachmentResource } from "../../src/attachments/schemas";
import { CLIENT_PACE, type ClientFrame } from "../../src/realtime/protocol";

const { perSecond: PER_SECOND, burst: BURST } = CLIENT_PACE;

/**
 * `typed`: the line as the user typed it (listed if it never gets through); `reply`: the message it answers
 * (its id goes out as reply_to; its seq names it to the user); `attachments`: files already uploaded.
 */
export type Outgoing<T> = {
  id: string;
  body: string;
  typed: string;
  reply?: { id: number; seq: number };
  attachments?: AttachmentResource[];
  inFlight: boolean;
  tag: T;
};

export class Outbox<T> {
  readonly items: Outgoing<T>[] = [];
  #tokens = BURST;
  #at = Date.now();
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #onEmpty: (() => void)[] = [];

  /** `send` puts a frame on the live socket, or answers false when there is none (wait for `resend`). */
  constructor(readonly send: (frame: ClientFrame) => boolean) {}

  add(message: Pick<Outgoing<T>, "body" | "typed" | "reply" | "attachments">, tag: T): Outgoing<T> {
    const item = { ...message, id: randomUUID(), inFlight: false, tag };
    this.items.push(item);
    this.drain();
    return item;
  }

  /** The acknowledged (or refused) item with this id, taken out; undefined if it is not one of ours. */
  settle(id: string | null | undefined): Outgoing<T> | undefined {
    const i = this.items.findIndex((item) => item.id === id);
    if (i < 0) return undefined;
    const [item] = this.items.splice(i, 1);
    if (!this.items.length) for (const resolve of this.#onEmpty.splice(0)) resolve();
    return item;
  }

  /** A new connection is live: everything not acknowledged goes (again), in order. */
  resend(): void {
    for (const item of this.items) item.inFlight = false;
    this.drain();
  }

  /** The server dropped this send (`rate_limited`, `unavailable`): send it again in `seconds`. */
  retry(id: string | null | undefined, seconds: number): void {
    const item = this.items.find((i) => i.id === id);
    if (item) item.inFlight = false;
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + seconds * 1000);
    this.#schedule(seconds * 1000);
  }

  /** Resolves once every line is acknowledged. */
  empty(): Promise<void> {
    return this.items.length ? new Promise((resolve) => this.#onEmpty.push(resolve)) : Promise.resolve();
  }

  drain(): void {
    const now = Date.now();
    this.#tokens = Math.min(BURST, this.#tokens + ((now - this.#at) / 1000) * PER_SECOND);
    this.#at = now;
    if (now < this.#pausedUntil) return this.#schedule(this.#pausedUntil - now);
    for (const item of this.items) {
      if (item.inFlight) continue;
      if (this.#tokens < 1) return this.#schedule(((1 - this.#tokens) / PER_SECOND) * 1000);
      const frame: ClientFrame = { type: "send", message_body: item.body, client_message_id: item.id };
      if (item.reply) frame.reply_to = item.reply.id;
      if (item.attachments) frame.attachments = item.attachments.map((a) => a.id);
      if (!this.send(frame)) return;
      item.inFlight = true;
      this.#tokens -= 1;
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.drain();
    }, Math.max(20, ms));
  }
}
