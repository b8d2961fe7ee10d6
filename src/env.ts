import type { AuthContext } from "./http/auth-context";

/** Bindings come from wrangler.toml through `npm run types` (worker-configuration.d.ts). */
export type Bindings = Cloudflare.Env;

export type Variables = {
  /** Set by the bearer middleware on token-protected routes. */
  auth: AuthContext;
};

export type AppEnv = { Bindings: Bindings; Variables: Variables };
