import { take } from "../limits/limits";

/**
 * Addresses that have presented too many bad bearer tokens lately, as this isolate learned it, with when
 * that ends. Bounded: under a flood of addresses the oldest are forgotten first.
 */
const suspects = new Map<string, number>();
const MOST_SUSPECTS = 10_000;

/** Whether `ip` has presented more bad tokens than RATE_GUESS_* allow, as far as this isolate knows. */
export function guessing(ip: string): boolean {
  const until = suspects.get(ip);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  suspects.delete(ip);
  return false;
}

/**
 * Counts a bad token from `ip` in its limiter bucket (shared by every isolate); once the bucket is empty,
 * this isolate treats the address as guessing for a window. Counting never changes the answer: a failure
 * here is logged, and the request still gets its 401.
 */
export async function guessed(env: Cloudflare.Env, ip: string): Promise<void> {
  try {
    const { decision, policy } = await take(env, "guess", `ip:${ip}`);
    if (decision.allowed) return;
    suspects.delete(ip);
    if (suspects.size >= MOST_SUSPECTS) suspects.delete(suspects.keys().next().value!);
    suspects.set(ip, Date.now() + policy.windowSeconds * 1000);
  } catch (error) {
    console.error("counting a bad token failed", error);
  }
}
