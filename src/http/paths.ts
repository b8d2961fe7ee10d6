import type { Hono, MiddlewareHandler } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { getPath } from "hono/utils/url";

/** API and OAuth paths (`/api` itself, the API root, included): canonical with a trailing slash. */
const slashCanonical = (path: string) => /^\/(api|o)(\/|$)/.test(path);

/**
 * The path Hey routes on. API and OAuth paths are canonical with a trailing slash, as in the
 * original Django API, but clients POST to both forms, so the slash is added rather than redirected to.
 */
export function canonicalPath(request: Request): string {
  const path = getPath(request);
  return slashCanonical(path) && !path.endsWith("/") ? `${path}/` : path;
}

/**
 * Every other path is canonical without one: `/healthz/`, `/docs/`, `/openapi.json/` and the like
 * answer a 308 (method and body kept, RFC 9110 §15.4.9) to the routed path without the slash, rather
 * than a 404 or, from the method check, a 405. A path whose slashless form is not routed either keeps
 * its 404. Registered after `methodsAllowed`, so it sees the 404 before that can become a 405.
 */
export function trailingSlashRedirect(app: Hono<any, any, any>): MiddlewareHandler {
  let routed: TrieRouter<true> | undefined;
  return async (c, next) => {
    await next();
    const path = c.req.path;
    if (c.res.status !== 404 || path === "/" || !path.endsWith("/") || slashCanonical(path)) return;
    if (!routed) {
      routed = new TrieRouter<true>();
      // Middleware is registered as ALL; a route answers at least one method.
      for (const route of app.routes) if (route.method !== "ALL") routed.add("ALL", route.path, true);
    }
    const url = new URL(c.req.url);
    // "//host/" would become a Location of "//host": another site.
    if (url.pathname.startsWith("//") || routed.match("ALL", path.slice(0, -1))[0].length === 0) return;
    c.res = new Response(null, { status: 308, headers: { Location: `${url.pathname.slice(0, -1)}${url.search}` } });
  };
}
