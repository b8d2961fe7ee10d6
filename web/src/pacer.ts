// Keeps a socket's frames under the server's budget (WS_FRAMES_PER_SECOND beyond a burst of
// WS_FRAME_BURST, 10 and 30 by default): after a reconnect, a tab's queued sends go out paced, in order,
// rather than all at once into `rate_limited`.

import { CLIENT_PACE } from "../../src/realtime/protocol";

const { perSecond: PER_SECOND, burst: BURST } = CLIENT_PACE;

export class Pacer {
  #tokens = BURST;
  #at = performance.now();
  #queue: (() => boolean)[] = [];
  #timer: number | undefined;

  /** Sends now if the budget allows and nothing waits ahead, else in order as it refills. */
  push(send: () => boolean): void {
    this.#queue.push(send);
    this.#drain();
  }

  /** Holds everything for `seconds` (the server said `rate_limited` with this retry_after). */
  pause(seconds: number): void {
    this.#tokens = Math.min(this.#tokens, -seconds * PER_SECOND);
    this.#schedule();
  }

  clear(): void {
    this.#queue = [];
    window.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #drain(): void {
    const now = performance.now();
    this.#tokens = Math.min(BURST, this.#tokens + ((now - this.#at) / 1000) * PER_SECOND);
    this.#at = now;
    while (this.#queue.length && this.#tokens >= 1) {
      // A send that cannot go (the socket is not live) stays first: `ready` will push everything again.
      if (!this.#queue[0]!()) return this.clear();
      this.#queue.shift();
      this.#tokens -= 1;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#queue.length || this.#timer !== undefined) return;
    this.#timer = window.setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, Math.max(20, ((1 - this.#tokens) / PER_SECOND) * 1000));
  }
}
