import { createMiddleware } from "hono/factory";
import { database } from "../db/client";
import type { AppEnv } from "../env";

/** Puts the request's drizzle client on `c.var.db`, so routes and the bearer check share one. */
export const withDatabase = createMiddleware<AppEnv>(async (c, next) => {
  c.set("db", database(c.env.DB));
  await next();
});
