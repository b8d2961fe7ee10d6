import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { PatternRouter } from "hono/router/pattern-router";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError } from "../errors";
import { canonical } from "./paths";
import { problemResponse } from "./problem";

/** Maps every thrown error to problem+json; unexpected ones are logged and never described. */
export function onError(error: Error, c: Context): Response {
  if (error instanceof DomainError) {
    return problemResponse(error.status, error.message, { errors: error.errors });
  }
  if (error instanceof HTTPException) {
    const response = error.getResponse();
    if (response.headers.get("Content-Type")?.startsWith("application/problem+json")) return response;
    return problemResponse(error.status as ContentfulStatusCode, error.message || "The request failed.");
  }
  console.error(`${c.req.method} ${c.req.path} failed`, error);
  return problemResponse(500, "Something went wrong on our side; it has been logged.");
}

/** A not-found handler that answers 405 with `Allow` when the path exists under other methods. */
export function notFound(app: Hono<any>) {
  let router: PatternRouter<string> | undefined;
  return (c: Context<any>): Response => {
    if (!router) {
      router = new PatternRouter<string>();
      for (const route of app.routes) {
        if (route.method !== "ALL") router.add("ALL", route.path, route.method);
      }
    }
    const [matches] = router.match(c.req.method, canonical(c.req.path));
    const allowed = [...new Set(matches.map(([method]) => method))];
    if (allowed.length > 0) {
      return problemResponse(405, `${c.req.method} is not allowed here; use ${allowed.join(", ")}.`, {
        headers: { Allow: allowed.join(", ") },
      });
    }
    return problemResponse(404, `Nothing at ${c.req.path}.`);
  };
}
