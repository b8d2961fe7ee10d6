import { OpenAPIHono } from "@hono/zod-openapi";
import { secureHeaders } from "hono/secure-headers";
import { docsRoutes } from "./docs/routes";
import type { AppEnv } from "./env";
import { jsonBodies } from "./http/body";
import { notFound, onError } from "./http/errors";
import { canonicalPath } from "./http/paths";
import { validationHook } from "./http/validation";
import { userRoutes } from "./users/routes";

/** Builds the whole Hey app; the Worker entry and every test use this one function. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook, getPath: canonicalPath });
  app.use(secureHeaders());
  app.use("/api/*", jsonBodies);

  const routes = app
    .get("/healthz", (c) => c.json({ ok: true }))
    .route("/", userRoutes)
    .route("/", docsRoutes);

  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Hey",
      version: "1.0.0",
      description:
        "Edge-hosted messaging API. Paths end with a slash; the same path without it is served too. " +
        "Errors are application/problem+json (RFC 9457).",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.notFound(notFound(app));
  app.onError(onError);
  return routes;
}

export type AppType = ReturnType<typeof createApp>;
