import { takeWith } from "../limits/limits";
import type { Policy } from "../limits/rate-limiter";
import type { Limit } from "./outcome";

type Waiter = { resolve: (limit: Limit) => void };
type Queue = { policy: Policy; waiting: Waiter[]; asking: boolean };

/**
 * The per-user send limit as a room asks it, grouped like its flushes: while one question to a user's
 * limiter is out, that user's later sends wait and go together in the next, which asks for as many
 * tokens as there are sends. Exact (every send spends a token of the same bucket), with one limiter
 * call per burst instead of one per send.
 */
export class SendLimits {
  readonly #queues = new Map<string, Queue>();

  constructor(private readonly env: Cloudflare.Env) {}

  /** This send's answer; `decision.allowed` false when the bucket ran out before it. */
  take(policy: Policy, userId: number): Promise<Limit> {
    const key = `${userId}:${policy.name}:${policy.limit}:${policy.windowSeconds}`;
    let queue = this.#queues.get(key);
    if (!queue) this.#queues.set(key, (queue = { policy, waiting: [], asking: false }));
    const answer = new Promise<Limit>((resolve) => queue.waiting.push({ resolve }));
    if (!queue.asking) void this.#ask(key, queue, userId);
    return answer;
  }

  async #ask(key: string, queue: Queue, userId: number): Promise<void> {
    queue.asking = true;
    try {
      while (queue.waiting.length) {
        const batch = queue.waiting.splice(0);
        try {
          const { decision, policy } = await takeWith(this.env, queue.policy, `user:${userId}`, batch.length);
          batch.forEach((w, i) => w.resolve({ policy, decision: { ...decision, allowed: i < decision.granted } }));
        } catch (error) {
          // The limiter could not answer: the sends are not refused for it (the limit is approximate).
          console.error("send limit unavailable", error);
          batch.forEach((w) => w.resolve({ policy: queue.policy, decision: { allowed: true, granted: 1, remaining: 0, retryAfterSeconds: 0, resetSeconds: 0 } }));
        }
      }
    } finally {
      queue.asking = false;
      this.#queues.delete(key);
    }
  }
}
