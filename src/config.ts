import { z } from "zod";

/**
 * Production workerd refuses PBKDF2 above 100,000 iterations while local workerd accepts more,
 * so no local run would catch a higher count: this is the ceiling, not just the default.
 */
export const PASSWORD_ITERATIONS = 100_000;

/** A wrangler var that holds a whole number (TOML may give a number or a string); `fallback` when unset. */
const whole = (fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z
    .union([z.number(), z.string().trim().regex(/^\d+$/, `Expected a whole number from ${min} to ${max}.`).transform(Number)])
    .default(fallback)
    .pipe(z.number().int().min(min, `Expected a whole number from ${min} to ${max}.`).max(max, `Expected a whole number from ${min} to ${max}.`));

const ConfigSchema = z.object({
  ACCESS_TOKEN_TTL_SECONDS: whole(3600),
  REFRESH_TOKEN_TTL_SECONDS: whole(7 * 24 * 3600),
  AUTH_CODE_TTL_SECONDS: whole(60),
  SESSION_TTL_SECONDS: whole(12 * 3600),
  MAX_BODY_BYTES: whole(64 * 1024),
  DEFAULT_PAGE_SIZE: whole(20, 1, 100),
  /** The issuer identifier (RFC 8414 §2). Required once deployed: see src/auth/oauth/issuer.ts. */
  ISSUER: z.url({ message: "Expected an absolute URL such as https://hey.example.com." }).optional(),
  /** Origins whose browsers may open WebSockets, comma-separated; the app's own origin when unset. */
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) => v?.split(",").map((o) => o.trim()).filter(Boolean)),
  // Token buckets: LIMIT requests refilled over WINDOW seconds; generous enough for any normal use.
  RATE_SEND_LIMIT: whole(60),
  RATE_SEND_WINDOW_SECONDS: whole(10),
  /** Edits and deletes of messages, per user. */
  RATE_EDIT_LIMIT: whole(60),
  RATE_EDIT_WINDOW_SECONDS: whole(60),
  /** Socket tickets and socket opens, per user. */
  RATE_CONNECT_LIMIT: whole(60),
  RATE_CONNECT_WINDOW_SECONDS: whole(60),
  RATE_SIGNUP_LIMIT: whole(10),
  RATE_SIGNUP_WINDOW_SECONDS: whole(3600),
  /** Sign-in attempts per address. */
  RATE_LOGIN_LIMIT: whole(30),
  RATE_LOGIN_WINDOW_SECONDS: whole(300),
  /** Password checks per account (sign-in and re-authentication), taken before the password is checked. */
  RATE_PASSWORD_LIMIT: whole(10),
  RATE_PASSWORD_WINDOW_SECONDS: whole(900),
  /** Phone number changes per user. */
  RATE_PHONE_LIMIT: whole(5),
  RATE_PHONE_WINDOW_SECONDS: whole(86400),
  /** Token requests per address, and refreshes per grant. */
  RATE_TOKEN_LIMIT: whole(60),
  RATE_TOKEN_WINDOW_SECONDS: whole(60),
  /**
   * Bearer tokens refused as invalid, per address; beyond this, the address's sends and receipts have their
   * token read before a conversation's room is called, so made-up tokens never wake a room.
   */
  RATE_GUESS_LIMIT: whole(30),
  RATE_GUESS_WINDOW_SECONDS: whole(60),
  /** Dynamic client registrations per address. */
  RATE_REGISTER_LIMIT: whole(10),
  RATE_REGISTER_WINDOW_SECONDS: whole(3600),
  /** A socket's frame budget: a burst, refilled per second; frames beyond it get `rate_limited`. */
  WS_FRAME_BURST: whole(30),
  WS_FRAMES_PER_SECOND: whole(10),
  /** The largest attachment a user may upload, in bytes. */
  MAX_ATTACHMENT_BYTES: whole(25 * 1024 * 1024),
  /** What one user's attachments may take in all, in bytes. */
  ATTACHMENT_QUOTA_BYTES: whole(1024 * 1024 * 1024),
  /** Open sockets one user may hold on one conversation. */
  MAX_SOCKETS_PER_CONVERSATION: whole(10),
  /** Open user streams (GET /api/events/ws) one user may hold; a newer one closes the oldest with 4029. */
  MAX_STREAMS_PER_USER: whole(10),
  /** How long a user stays online after their last stream closes, so a reconnect does not flicker. */
  PRESENCE_GRACE_SECONDS: whole(5, 0, 3600),
  /** Most sends one group commit writes (1 turns group commit off; the benchmark compares both); bytes bound it too. */
  GROUP_COMMIT_MAX_BATCH: whole(500, 1, 1000),
  /** Message shards (by number) that take no new conversations, comma-separated: full ones. */
  CLOSED_SHARDS: z
    .union([z.number(), z.string()])
    .default("")
    .transform((v) => String(v).split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^\d+$/, "Expected shard numbers such as 0,2.").transform(Number))),
  /** Where the web app is served; a loopback http origin means Hey runs locally (loopback webhook and push URLs are allowed). */
  APP_ORIGIN: z.url({ message: "Expected an absolute URL such as https://hey.example.com." }).optional(),
  /** Webhook retries: the first delay, doubling (with jitter) up to the cap, for the window; then dead-lettered. */
  WEBHOOK_RETRY_BASE_SECONDS: whole(10, 1, 43_200),
  WEBHOOK_RETRY_MAX_SECONDS: whole(3600, 1, 43_200),
  WEBHOOK_RETRY_WINDOW_SECONDS: whole(86_400),
  /**
   * Web Push (RFC 8292): the application server's P-256 key pair, base64url (`npm run vapid:keys`); push is
   * off without them. The subject is the contact push services see, a mailto: or https: URI.
   */
  VAPID_PUBLIC_KEY: z.string().regex(/^[A-Za-z0-9_-]{87}$/, "Expected an uncompressed P-256 public key in base64url (87 characters).").optional(),
  VAPID_PRIVATE_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "Expected a P-256 private key in base64url (43 characters).").optional(),
  VAPID_SUBJECT: z.string().regex(/^(mailto:|https:\/\/)\S+$/, "Expected a mailto: or https: URI.").optional(),
  OAUTH_DYNAMIC_REGISTRATION: z.enum(["true", "false"], { message: 'Expected "true" or "false".' }).default("true").transform((v) => v === "true"),
});

export type Config = z.infer<typeof ConfigSchema>;

/** A wrangler var that does not parse: Hey refuses to run rather than guess. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/** Limits and lifetimes: defaults here, overridable by wrangler.toml `[vars]`; throws ConfigError on a bad value. */
export function config(env: object): Config {
  let found = cache.get(env);
  if (!found) {
    const parsed = ConfigSchema.safeParse(env);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join(".")}=${JSON.stringify((env as Record<string, unknown>)[String(i.path[0])])}: ${i.message}`);
      throw new ConfigError(`Invalid configuration in wrangler.toml [vars]: ${problems.join("; ")}`);
    }
    found = parsed.data;
    cache.set(env, found);
  }
  return found;
}

export const MAX_PAGE_SIZE = 100;
