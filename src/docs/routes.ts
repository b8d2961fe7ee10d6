import { Hono } from "hono";
import type { AppEnv } from "../env";
import { problemResponse } from "../http/problem";
import { DOCS_CLIENT_ID, DOCS_REDIRECT_PATH, DOCS_SCOPES } from "./client";

// Swagger UI is copied from node_modules into public/docs/vendor by scripts/build-assets.mjs,
// so the page works offline; no inline script, so the CSP can forbid them.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hey API reference</title>
<link rel="stylesheet" href="/docs/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/vendor/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

// Authorize signs in with the authorization code flow and PKCE (S256), as the public client hey-docs;
// the dialog's bearerToken field takes a token pasted from `npm run token` instead.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  oauth2RedirectUrl: location.origin + ${JSON.stringify(DOCS_REDIRECT_PATH)},
});
window.ui.initOAuth(${JSON.stringify({ clientId: DOCS_CLIENT_ID, usePkceWithAuthorizationCodeGrant: true, scopes: DOCS_SCOPES })});
`;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The browsable API reference at /docs, rendered by Swagger UI from /openapi.json. The page, its
 * configuration and the OAuth redirect page are answered here (wrangler.toml's run_worker_first)
 * so they carry the app's headers.
 */
export const docsRoutes = new Hono<AppEnv>()
  .get("/docs", (c) => {
    c.header("Content-Security-Policy", CSP);
    return c.html(PAGE);
  })
  // From the Worker, not public/: the client and scopes are the server's own constants.
  .get("/docs/init.js", (c) => {
    c.header("Cache-Control", "no-cache");
    return c.body(INIT, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  })
  // The sign-in popup ends here. Its file is a static asset, but answered with the Worker's
  // Cross-Origin-Opener-Policy (same-origin, like /docs and the sign-in pages): a static file has
  // none, and switching policy mid-popup cuts window.opener, through which the page hands the code back.
  .get(DOCS_REDIRECT_PATH, async (c) => {
    const page = await c.env.ASSETS.fetch(new URL(DOCS_REDIRECT_PATH, c.req.url));
    if (!page.ok) return problemResponse(503, "The docs assets are not built: run `npm run build:assets`.");
    const res = new Response(page.body, page);
    res.headers.set("Content-Security-Policy", CSP);
    res.headers.set("Cache-Control", "no-cache");
    return res;
  });
