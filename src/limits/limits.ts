import { config } from "../config";
import type { Decision, Policy } from "./rate-limiter";

export type LimitName = "send" | "signup" | "login" | "token";

/** The policies, from config (named constants overridable in wrangler.toml vars). */
export function policy(env: object, name: LimitName): Policy {
  const c = config(env);
  const table: Record<LimitName, [number, number]> = {
    send: [c.RATE_SEND_LIMIT, c.RATE_SEND_WINDOW_SECONDS],
    signup: [c.RATE_SIGNUP_LIMIT, c.RATE_SIGNUP_WINDOW_SECONDS],
    login: [c.RATE_LOGIN_LIMIT, c.RATE_LOGIN_WINDOW_SECONDS],
    token: [c.RATE_TOKEN_LIMIT, c.RATE_TOKEN_WINDOW_SECONDS],
  };
  const [limit, windowSeconds] = table[name];
  return { name, limit, windowSeconds };
}

/** Takes one request from `key`'s bucket (e.g. `user:5`, `ip:203.0.113.7`). */
export async function take(env: Cloudflare.Env, name: LimitName, key: string): Promise<{ decision: Decision; policy: Policy }> {
  const p = policy(env, name);
  const decision = await env.RATE_LIMITER.getByName(`${name}:${key}`).take(p);
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

/** The client's address as Cloudflare reports it; every local client shares one. */
export const clientIp = (header: string | undefined) => header ?? "local";
