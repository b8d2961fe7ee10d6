import { DurableObject } from "cloudflare:workers";

/**
 * A token bucket: `limit` requests, refilled evenly over `windowSeconds`. A durable bucket is stored
 * (sign-in and token limits, which must hold); another lives in memory only, so the caller never waits
 * for a storage write (sends, edits, sockets on the hot path) and an evicted bucket forgives.
 */
export type Policy = { name: string; limit: number; windowSeconds: number; durable: boolean };

/** `granted` of the tokens asked for (allowed: at least one); `retryAfterSeconds` until the next one. */
export type Decision = { allowed: boolean; granted: number; remaining: number; retryAfterSeconds: number; resetSeconds: number };

type Bucket = { tokens: number; at: number };

/**
 * One per limited key (a user, an IP address, an account): the bucket lives in one place, so the limit
 * holds across every edge location, and in the object's own storage, so it survives eviction.
 */
export class RateLimiter extends DurableObject<Cloudflare.Env> {
  readonly #memory = new Map<string, Bucket>();

  /**
   * Takes up to `count` tokens, as many whole ones as there are (a room asks once for the sends that
   * queued while its last question was out); reports what is left either way.
   */
  take(policy: Policy, now = Date.now(), count = 1): Decision {
    const perMs = policy.limit / (policy.windowSeconds * 1000);
    const stored = policy.durable ? this.ctx.storage.kv.get<Bucket>(policy.name) : this.#memory.get(policy.name);
    const tokens = Math.min(policy.limit, (stored?.tokens ?? policy.limit) + (now - (stored?.at ?? now)) * perMs);
    const granted = Math.max(0, Math.min(count, Math.floor(tokens)));
    const allowed = granted > 0;
    const left = tokens - granted;
    if (policy.durable) this.ctx.storage.kv.put<Bucket>(policy.name, { tokens: left, at: now });
    else this.#memory.set(policy.name, { tokens: left, at: now });
    return {
      allowed,
      granted,
      remaining: Math.floor(left),
      retryAfterSeconds: left >= 1 ? 0 : Math.max(1, Math.ceil((1 - left) / perMs / 1000)),
      resetSeconds: Math.max(0, Math.ceil((policy.limit - left) / perMs / 1000)),
    };
  }

  /** Forgets the bucket: it starts full again. */
  refill(name: string): void {
    this.#memory.delete(name);
    this.ctx.storage.kv.delete(name);
  }
}
