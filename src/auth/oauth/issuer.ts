import { createMiddleware } from "hono/factory";
import { config } from "../../config";
import { oauthError } from "./errors";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The issuer identifier (RFC 8414 §2): the ISSUER var, or, in local development only, the origin reached. */
export function issuerOf(env: object, requestUrl: string): string {
  return (config(env).ISSUER ?? new URL(requestUrl).origin).replace(/\/$/, "");
}

/**
 * Outside local development the issuer must be configured: taken from the request, the `Host` header
 * would choose the `iss` that clients check (RFC 9207) and the endpoints metadata points them to.
 */
export const issuerRequired = createMiddleware(async (c, next) => {
  if (!config(c.env).ISSUER && !LOOPBACK_HOSTS.has(new URL(c.req.url).hostname)) {
    console.error("ISSUER is not set: OAuth is refused on a non-loopback host. Set ISSUER in wrangler.toml [vars].");
    return oauthError("server_error", "OAuth is not configured on this server yet (ISSUER is unset).", 503);
  }
  await next();
});
