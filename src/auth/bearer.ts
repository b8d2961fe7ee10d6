import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { LimitName } from "../limits/limits";
import { limitBy } from "../limits/middleware";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { problemResponse } from "../http/problem";
import { verifyAccessToken } from "./oauth/tokens";
import type { Scope } from "./scopes";

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1), or undefined. */
export const bearerToken = (header: string | undefined) => /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header ?? "")?.[1];

const challenge = (params = "") => `Bearer realm="hey"${params}`;

/**
 * RFC 6750 bearer authentication. `scope` is the one the route needs; null means any valid token.
 * A missing token gets a bare challenge (§3.1), a bad one `invalid_token`, a weak one `insufficient_scope`.
 */
export function requireScope(scope: Scope | null, options: { staff?: boolean } = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("Authorization");
    if (!header) {
      return problemResponse(401, "An access token is required.", { headers: { "WWW-Authenticate": challenge() } });
    }
    const token = bearerToken(header);
    const auth = token ? await verifyAccessToken(database(c.env.DB), token) : null;
    if (!auth) {
      const description = token ? "The access token is invalid, expired or revoked." : "The Authorization header is malformed.";
      return problemResponse(401, description, {
        headers: { "WWW-Authenticate": challenge(`, error="invalid_token", error_description="${description}"`) },
      });
    }
    if (scope && !auth.scopes.includes(scope)) {
      return problemResponse(403, `This needs the ${scope} scope.`, {
        headers: { "WWW-Authenticate": challenge(`, error="insufficient_scope", scope="${scope}"`) },
      });
    }
    if (options.staff && !auth.isStaff) return problemResponse(403, "Only staff may do this.");
    c.set("auth", auth);
    await next();
  });
}

const perUser = (c: Context<AppEnv>) => `user:${c.get("auth").userId}`;

/**
 * Spread into createRoute: the route's scope (and staff rule), enforced and shown in the OpenAPI
 * document; `limit` adds a per-user rate limit across all of the user's requests of that kind.
 */
export function secured(scope: Scope | null, options: { staff?: boolean; limit?: LimitName } = {}) {
  const middleware = [requireScope(scope, options), ...(options.limit ? [limitBy(options.limit, perUser)] : [])];
  return { security: [{ oauth2: scope ? [scope] : [] }], middleware };
}
