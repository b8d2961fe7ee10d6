import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { problemResponse } from "../http/problem";
import { rateLimitHeaders, take, type LimitName } from "./limits";

/**
 * Limits a route by `key` (per user, per address). Allowed requests carry the RateLimit fields too,
 * so clients can pace themselves; a limited one gets 429 problem+json with Retry-After.
 */
export function limitBy(name: LimitName, key: (c: Context<AppEnv>) => string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { decision, policy } = await take(c.env, name, key(c));
    const headers = rateLimitHeaders(policy, decision);
    if (!decision.allowed) {
      return problemResponse(429, `Too many requests; retry in ${decision.retryAfterSeconds} s.`, { headers });
    }
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  });
}
