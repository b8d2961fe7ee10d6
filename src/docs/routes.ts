import { Hono } from "hono";
import type { AppEnv } from "../env";

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

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
].join("; ");

/** The browsable API reference at /docs, rendered by Swagger UI from /openapi.json. */
export const docsRoutes = new Hono<AppEnv>()
  .get("/docs", (c) => {
    c.header("Content-Security-Policy", CSP);
    return c.html(PAGE);
  })
  // /docs/ is the folder of the page's assets, and what people type as often as /docs: one page, one address.
  .get("/docs/", (c) => c.redirect("/docs", 308));
