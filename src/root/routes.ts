import { createRoute, z } from "@hono/zod-openapi";
import { accepts } from "hono/accepts";
import { jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";

const ApiRootSchema = z
  .object({
    users: z.url(),
    conversations: z.url(),
    messages: z.url(),
    chats: z.url(),
    realtime_tickets: z.url(),
    authorization_server: z.url(),
    openapi: z.url(),
    docs: z.url(),
    app: z.url(),
  })
  .openapi("ApiRoot", {
    description: "Absolute links to the resource collections, the OAuth metadata, this document, the reference page and the web app.",
  });

export type ApiRoot = z.infer<typeof ApiRootSchema>;

/** The API root for `origin`: what the original API's DRF router listed, and where the docs and app are. */
export function apiRoot(origin: string): ApiRoot {
  const at = (path: string) => `${origin}${path}`;
  return {
    users: at("/api/users/"),
    conversations: at("/api/conversations/"),
    messages: at("/api/messages/"),
    chats: at("/api/chats/"),
    realtime_tickets: at("/api/realtime/tickets/"),
    authorization_server: at("/.well-known/oauth-authorization-server"),
    openapi: at("/openapi.json"),
    docs: at("/docs"),
    app: at("/app/"),
  };
}

const root = createRoute({
  method: "get",
  path: "/api/",
  tags: ["API root"],
  summary: "Links to everything the API serves",
  operationId: "getApiRoot",
  description:
    "Where a client that knows only the address starts: a link to each resource collection (as the original API's root " +
    "did), to the OAuth authorization server metadata, to this document, the reference page and the web app. " +
    "`GET /` answers the same, or a page of these links to a browser.",
  security: [],
  responses: { 200: jsonResponse(ApiRootSchema, "The links, absolute on the origin the request came to.") },
});

// Nothing inline runs, nothing is fetched: the page is links.
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>Hey</title>
<style>body{font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}</style>
</head><body><h1>Hey</h1><p>A messaging API, and a web app that uses it.</p><ul>
<li><a href="/app/">The web app</a></li>
<li><a href="/docs">The API reference</a>: sign in with Authorize, then try any route</li>
<li><a href="/openapi.json">The OpenAPI document</a></li>
<li><a href="/api/">The API root</a>: links to every resource, as JSON</li>
</ul></body></html>`;

/** GET /api/ (documented) and GET / (the site's front door): the API root. */
export const rootRoutes = createRouter()
  .openapi(root, (c) => c.json(apiRoot(new URL(c.req.url).origin), 200))
  .get("/", (c) => {
    // A browser gets a page of links; anything else, curl's */* included, the API root's JSON.
    c.header("Vary", "Accept");
    const type = accepts(c, { header: "Accept", supports: ["application/json", "text/html"], default: "application/json" });
    if (type !== "text/html") return c.json(apiRoot(new URL(c.req.url).origin));
    c.header("Content-Security-Policy", PAGE_CSP);
    return c.html(PAGE);
  });
