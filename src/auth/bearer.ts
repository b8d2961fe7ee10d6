import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { LimitName } from "../limits/limits";
import { limitBy } from "../limits/middleware";
import type { AppEnv } from "../env";
import { problemResponse } from "../http/problem";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { refusalOf, type AuthContext } from "../http/auth-context";
import { clientIp } from "../limits/client-address";
import { guessed, guessing } from "./guesses";
import { accessByHash, accessOf, tokenStatement } from "./oauth/tokens";
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
 * `deferred`: the token is not read here but by the handler's first call (`c.var.token`, which answers
 * the same 401 or 403): a hot read's first main-database batch, or a send's room.
 * Every token refused as invalid counts against its address (RATE_GUESS_*); see guesses.ts.
 */
export function requireScope(scope: Scope | readonly Scope[], { deferred = false } = {}) {
  const scopes: readonly Scope[] = typeof scope === "string" ? [scope] : scope;
  /** The answer to a request whose token is not `auth`'s, or that lacks a scope; null to go on. */
  const refusal = (auth: AuthContext | null): Response | null => {
    const refused = refusalOf(auth, scopes);
    if (refused?.kind === "invalid") {
      const description = "The access token is invalid, expired or revoked.";
      return problemResponse(401, description, {
        headers: { "WWW-Authenticate": challenge(`, error="invalid_token", error_description="${description}"`) },
      });
    }
    if (refused?.kind === "scope") {
      return problemResponse(403, `This needs the ${refused.missing} scope.`, {
        headers: { "WWW-Authenticate": challenge(`, error="insufficient_scope", scope="${scopes.join(" ")}"`) },
      });
    }
    if (refused?.kind === "staff") return problemResponse(403, "Only staff may do this.");
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
    const db = c.var.db;
    const ip = clientIp(c.req.header("CF-Connecting-IP"));
    const read = () => accessByHash(db, hash);
    if (deferred) {
      let invalid = false;
      const check = (auth: AuthContext | null) => {
        const refused = refusal(auth);
        if (refused) {
          invalid ||= refused.status === 401;
          throw new HTTPException(refused.status as ContentfulStatusCode, { res: refused });
        }
        c.set("auth", auth!);
        return auth!;
      };
      const admit = (result: unknown) => check(accessOf((result as Parameters<typeof accessOf>[0][])[0]));
      const verify = async () => check(await read());
      const screen = async () => {
        if (guessing(ip)) await verify();
      };
      // Bound only if a batch asks for it: a room that checks the token reads it on its own.
      c.set("token", { db, hash, get statement() { return tokenStatement(db, hash); }, scopes, admit, check, verify, screen });
      await next();
      if (invalid) await guessed(c.env, ip);
      return;
    }
    const auth = await read();
    const refused = refusal(auth);
    if (refused) {
      if (refused.status === 401) await guessed(c.env, ip);
      return refused;
    }
    c.set("auth", auth!);
    await next();
  });
}

const perUser = (c: Context<AppEnv>) => `user:${c.get("auth").userId}`;

/**
 * Spread into createRoute: the route's scope, enforced and shown in the OpenAPI document; `limit` adds
 * a per-user rate limit across all of the user's requests of that kind; `deferred`, see requireScope (not
 * with `limit`, which needs the user before the handler).
 */
export function secured(scope: Scope | readonly Scope[], options: { limit?: LimitName; deferred?: boolean } = {}) {
  if (options.limit && options.deferred) throw new Error("A route checks its token in its handler or has a per-user limit, not both.");
  const middleware = [requireScope(scope, { deferred: options.deferred }), ...(options.limit ? [limitBy(options.limit, perUser)] : [])];
  // Either scheme: the OAuth flow, or a token pasted into /docs (the scope is checked all the same).
  const security: Record<string, string[]>[] = [{ oauth2: typeof scope === "string" ? [scope] : [...scope] }, { bearerToken: [] }];
  return { security, middleware };
}
