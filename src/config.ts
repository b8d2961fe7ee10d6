import { z } from "zod";

/**
 * Production workerd refuses PBKDF2 above 100,000 iterations while local workerd accepts more,
 * so no local run would catch a higher count: this is the ceiling, not just the default.
 */
export const PASSWORD_ITERATIONS = 100_000;

const positive = (fallback: number) => z.coerce.number().int().positive().catch(fallback);

const ConfigSchema = z.object({
  ACCESS_TOKEN_TTL_SECONDS: positive(3600),
  REFRESH_TOKEN_TTL_SECONDS: positive(7 * 24 * 3600),
  AUTH_CODE_TTL_SECONDS: positive(60),
  SESSION_TTL_SECONDS: positive(12 * 3600),
  MAX_BODY_BYTES: positive(64 * 1024),
  DEFAULT_PAGE_SIZE: z.coerce.number().int().min(1).max(100).catch(20),
  ISSUER: z.url().optional().catch(undefined),
  /** Origins whose browsers may open WebSockets, comma-separated; the app's own origin when unset. */
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) => v?.split(",").map((o) => o.trim()).filter(Boolean))
    .catch(undefined),
  // Token buckets: LIMIT requests refilled over WINDOW seconds; generous enough for any normal chat.
  RATE_SEND_LIMIT: positive(60),
  RATE_SEND_WINDOW_SECONDS: positive(10),
  RATE_SIGNUP_LIMIT: positive(10),
  RATE_SIGNUP_WINDOW_SECONDS: positive(3600),
  RATE_LOGIN_LIMIT: positive(30),
  RATE_LOGIN_WINDOW_SECONDS: positive(300),
  RATE_TOKEN_LIMIT: positive(60),
  RATE_TOKEN_WINDOW_SECONDS: positive(60),
  /** Most sends one group commit writes (1 turns group commit off; the benchmark compares both). */
  GROUP_COMMIT_MAX_BATCH: z.coerce.number().int().min(1).max(50).catch(50),
  OAUTH_DYNAMIC_REGISTRATION: z.enum(["true", "false"]).default("true").catch("true").transform((v) => v === "true"),
});

export type Config = z.infer<typeof ConfigSchema>;

const cache = new WeakMap<object, Config>();

/** Limits and lifetimes: defaults here, overridable by wrangler.toml `[vars]`. */
export function config(env: object): Config {
  let found = cache.get(env);
  if (!found) {
    found = ConfigSchema.parse(env);
    cache.set(env, found);
  }
  return found;
}

export const MAX_PAGE_SIZE = 100;
