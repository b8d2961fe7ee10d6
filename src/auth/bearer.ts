import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { LimitName } from "../limits/limits";
import { limitBy } from "../limits/middleware";
import type { AppEnv } from "../env";
import { problemResponse } from "../http/problem";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { first } from "../db/compiled";
import type { AuthContext } from "../http/auth-context";
import { accessOf, tokenStatement } from "./oauth/tokens";
import { hashSecret } from "./secrets";
import type { Scope } from "./scopes";

/**
 * What an `Authorization` header carries for a resource server (RFC 6750 §2.1): a token, a Bearer
 * header whose token is malformed, or nothing Hey understands (absent, or another scheme).
 */
export function bearerToken(header: string | undefined): { token: string } | "malformed" | null {
  const [scheme, ...rest] = (header ?? "").trim().split(/ +/);
  if (scheme?.toLowerCase() !== "bearer") return null;
  const token = rest.length === 1 ? /^[A-Za-z0-9\-._~+/]+=*$/.exec(rest[0]!)?.[0] : undefined;
  return token ? { token } : "malformed";
}

const challenge = (params = "") => `Bearer realm="hey"${params}`;

/**
 * RFC 6750 bearer authentication for a route that needs `scope` (or every one of several). No token, or another scheme such as
 * Basic, gets a bare challenge (§3.1: no error code when the client sent no bearer credentials); a
 * malformed Bearer header `invalid_request` (400); a bad token `invalid_token`; a weak one
 * `insufficient_scope`. The `admin` scope also needs a staff user, checked with the token on every request.
 * `inBatch`: the token is not read here but in the handler's first batch (`c.var.token`, which answers
 * the same 401 or 403), for the hot reads whose first batch goes to the main database anyway.
 */
export function requireScope(scope: Scope | readonly Scope[], { inBatch = false } = {}) {
  const scopes: readonly Scope[] = typeof scope === "string" ? [scope] : scope;
  /** The answer to a request whose token is not `auth`'s, or that lacks a scope; null to go on. */
  const refusal = (auth: AuthContext | null): Response | null => {
    if (!auth) {
      const description = "The access token is invalid, expired or revoked.";
      return problemResponse(401, description, {
        headers: { "WWW-Authenticate": challenge(`, error="invalid_token", error_description="${description}"`) },
      });
    }
    const missing = scopes.find((s) => !auth.scopes.includes(s));
    if (missing) {
      return problemResponse(403, `This needs the ${missing} scope.`, {
        headers: { "WWW-Authenticate": challenge(`, error="insufficient_scope", scope="${scopes.join(" ")}"`) },
      });
    }
    if (scopes.includes("admin") && !auth.user.isStaff) return problemResponse(403, "Only staff may do this.");
    return null;
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    const presented = bearerToken(c.req.header("Authorization"));
    if (!presented) {
      return problemResponse(401, "An access token is required.", { headers: { "WWW-Authenticate": challenge() } });
    }
    if (presented === "malformed") {
      const description = "The Authorization header is malformed; send Bearer and the token.";
      return problemResponse(400, description, { headers: { "WWW-Authenticate": challenge(`, error="invalid_request", error_description="${description}"`) } });
    }
    const hash = hashSecret(presented.token);
    const statement = tokenStatement(c.var.db, hash);
    if (inBatch) {
      const admit = (result: unknown) => {
        const auth = accessOf((result as Parameters<typeof accessOf>[0][])[0]);
        const refused = refusal(auth);
        if (refused) throw new HTTPException(refused.status as ContentfulStatusCode, { res: refused });
        c.set("auth", auth!);
        return auth!;
      };
      c.set("token", { db: c.var.db, hash, statement, admit });
      return next();
    }
    const auth = accessOf(await first(statement));
    const refused = refusal(auth);
    if (refused) return refused;
    c.set("auth", auth!);
    await next();
  });
}

const perUser = (c: Context<AppEnv>) => `user:${c.get("auth").userId}`;

/**
 * Spread into createRoute: the route's scope, enforced and shown in the OpenAPI document; `limit` adds
 * a per-user rate limit across all of the user's requests of that kind; `inBatch`, see requireScope (not
 * with `limit`, which needs the user before the handler).
 */
export function secured(scope: Scope | readonly Scope[], options: { limit?: LimitName; inBatch?: boolean } = {}) {
  if (options.limit && options.inBatch) throw new Error("A route checks its token in its batch or has a per-user limit, not both.");
  const middleware = [requireScope(scope, { inBatch: options.inBatch }), ...(options.limit ? [limitBy(options.limit, perUser)] : [])];
  // Either scheme: the OAuth flow, or a token pasted into /docs (the scope is checked all the same).
  const security: Record<string, string[]>[] = [{ oauth2: typeof scope === "string" ? [scope] : [...scope] }, { bearerToken: [] }];
  return { security, middleware };
}
