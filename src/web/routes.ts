import { Hono } from "hono";
import type { AppEnv } from "../env";
import { problemResponse } from "../http/problem";

// The shell's own <meta> CSP says the same; a header can also forbid framing, which a meta tag cannot.
const CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The web client (built by `npm run build:app` into public/app/) routes on the client: static assets
 * answer the files, and every other /app/ path — a conversation, the OAuth callback — reaches the
 * Worker, which answers the app shell.
 */
export const webRoutes = new Hono<AppEnv>()
  .get("/app", (c) => c.redirect("/app/", 308))
  .get("/app/*", async (c) => {
    // A missing build file stays a 404: HTML in place of a script would fail obscurely.
    if (c.req.path.startsWith("/app/assets/")) return problemResponse(404, "No such file.");
    // "/app/", not "/app/index.html": the assets' HTML handling redirects the latter to the former.
    const shell = await c.env.ASSETS.fetch(new URL("/app/", c.req.url));
    if (!shell.ok) return problemResponse(503, "The web app is not built: run `npm run build:app`.");
    const res = new Response(shell.body, shell);
    res.headers.set("Content-Security-Policy", CSP);
    res.headers.set("Cache-Control", "no-cache");
    return res;
  });
