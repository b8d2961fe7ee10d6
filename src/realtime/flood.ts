/** A socket's frame budget: `burst` frames at once, refilled at `perSecond` (both `[vars]`). */
export type FrameBudget = { perSecond: number; burst: number };

/** How far past its budget a socket may go, in bursts, before it counts as a flood and is closed. */
const FLOOD_BURSTS = 10;

export type FrameVerdict = { kind: "ok" } | { kind: "limited"; retryAfterSeconds: number } | { kind: "flood" };

/**
 * A token bucket per socket, in memory: hibernation resets it, which only forgives. A frame past the
 * budget is dropped with `rate_limited` (a reconnecting client's burst of resends must not kill its
 * socket); only a socket that keeps sending far past it is a flood.
 */
export class FloodGuard {
  readonly #buckets = new WeakMap<WebSocket, { tokens: number; at: number }>();

  check(ws: WebSocket, budget: FrameBudget, now = Date.now()): FrameVerdict {
    const b = this.#buckets.get(ws) ?? { tokens: budget.burst, at: now };
    b.tokens = Math.min(budget.burst, b.tokens + ((now - b.at) / 1000) * budget.perSecond) - 1;
    b.at = now;
    this.#buckets.set(ws, b);
    if (b.tokens >= 0) return { kind: "ok" };
    if (b.tokens < -FLOOD_BURSTS * budget.burst) return { kind: "flood" };
    return { kind: "limited", retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / budget.perSecond)) };
  }
}
