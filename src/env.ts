import type { Database } from "./db/client";
import type { ReadSessions } from "./db/sessions";
import type { AuthContext, DeferredToken } from "./http/auth-context";
import type { WebhookOwner } from "./webhooks/store";

/** Bindings come from wrangler.toml through `npm run types` (worker-configuration.d.ts). */
export type Bindings = Cloudflare.Env;

export type Variables = {
  /** Set by the bearer middleware on token-protected routes. */
  auth: AuthContext;
  /** Set instead, before the handler, on routes whose handler checks the token in its first call (`secured(…, { deferred: true })`). */
  token: DeferredToken;
  /** Set for every request by the database middleware (src/http/database.ts). */
  db: Database;
  /** Read sessions (replicas, at the client's X-Hey-Bookmark), set by the same middleware. */
  reads: ReadSessions;
  /** Set on /api/webhooks/ routes: staff, or the client whose own credentials came with the request. */
  webhookOwner: WebhookOwner;
};

export type AppEnv = { Bindings: Bindings; Variables: Variables };
