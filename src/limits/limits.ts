import { config } from "../config";
import { problem } from "../http/problem";
import type { Decision, Policy } from "./rate-limiter";

export type LimitName = "send" | "edit" | "connect" | "signup" | "login" | "password" | "phone" | "token" | "register" | "guess";

/**
 * Limits on hot paths keep their buckets in memory: approximate (an evicted bucket forgives), never waited
 * on for a write. So does the count of refused tokens, which only decides where a token is read.
 */
const HOT_PATH = new Set<LimitName>(["send", "edit", "connect", "guess"]);

/** The policies, from config (named constants overridable in wrangler.toml vars). */
export function policy(env: object, name: LimitName): Policy {
  const c = config(env);
  const table: Record<LimitName, [number, number]> = {
    send: [c.RATE_SEND_LIMIT, c.RATE_SEND_WINDOW_SECONDS],
    edit: [c.RATE_EDIT_LIMIT, c.RATE_EDIT_WINDOW_SECONDS],
    connect: [c.RATE_CONNECT_LIMIT, c.RATE_CONNECT_WINDOW_SECONDS],
    signup: [c.RATE_SIGNUP_LIMIT, c.RATE_SIGNUP_WINDOW_SECONDS],
    login: [c.RATE_LOGIN_LIMIT, c.RATE_LOGIN_WINDOW_SECONDS],
    password: [c.RATE_PASSWORD_LIMIT, c.RATE_PASSWORD_WINDOW_SECONDS],
    phone: [c.RATE_PHONE_LIMIT, c.RATE_PHONE_WINDOW_SECONDS],
    token: [c.RATE_TOKEN_LIMIT, c.RATE_TOKEN_WINDOW_SECONDS],
    register: [c.RATE_REGISTER_LIMIT, c.RATE_REGISTER_WINDOW_SECONDS],
    guess: [c.RATE_GUESS_LIMIT, c.RATE_GUESS_WINDOW_SECONDS],
  };
  const [limit, windowSeconds] = table[name];
  return { name, limit, windowSeconds, durable: !HOT_PATH.has(name) };
}

/**
 * Takes one request from `key`'s bucket (e.g. `user:5`, `ip:203.0.113.7`). The take is one call to the
 * bucket's Durable Object, which runs one call at a time: concurrent requests cannot all see a free slot.
 */
export function take(env: Cloudflare.Env, name: LimitName, key: string): Promise<{ decision: Decision; policy: Policy }> {
  return takeWith(env, policy(env, name), key);
}

/** `take` with a policy the caller already holds (a room applies the one its Worker sent along), for `count` tokens. */
export async function takeWith(env: Cloudflare.Env, p: Policy, key: string, count = 1): Promise<{ decision: Decision; policy: Policy }> {
  const decision = await env.RATE_LIMITER.getByName(`${p.name}:${key}`).take(p, undefined, count);
  return { decision, policy: p };
}

/** The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers) and Retry-After. */
export function rateLimitHeaders(p: Policy, d: Decision): Record<string, string> {
  return {
    "RateLimit-Policy": `"${p.name}";q=${p.limit};w=${p.windowSeconds}`,
    RateLimit: `"${p.name}";r=${d.remaining};t=${d.resetSeconds}`,
    ...(d.allowed ? {} : { "Retry-After": String(d.retryAfterSeconds) }),
  };
}

/** Takes a slot from `key`'s bucket, or throws 429 problem+json with Retry-After and the RateLimit fields. */
export async function takeOrThrow(env: Cloudflare.Env, name: LimitName, key: string, tooMany: string): Promise<void> {
  const { decision, policy } = await take(env, name, key);
  if (!decision.allowed) {
    throw problem(429, `${tooMany}; retry in ${decision.retryAfterSeconds} s.`, { headers: rateLimitHeaders(policy, decision) });
  }
}

/** The "password" bucket of an account: the sign-in page and re-authentication spend the same guesses. */
export const passwordKey = (email: string) => `email:${email.trim().toLowerCase()}`;

/** Refills `key`'s bucket, e.g. an account's password guesses after a correct password. */
export async function refill(env: Cloudflare.Env, name: LimitName, key: string): Promise<void> {
  await env.RATE_LIMITER.getByName(`${name}:${key}`).refill(name);
}
