import type { Context, Hono, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError } from "../errors";
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

/** Nothing is routed here under any method. */
export function notFound(c: Context): Response {
  return problemResponse(404, `Nothing at ${c.req.path}.`);
}

/**
 * Hono's method-not-allowed, answering problem+json: a 404 on a path that other methods serve becomes
 * a 405 with `Allow` (RFC 9110 §15.5.6). It matches the path Hey routes on (canonical, trailing slash
 * added), so a path that only lacks its slash is judged by its canonical form, and a method that is
 * allowed keeps its 404.
 */
export function methodsAllowed(app: Hono<any, any, any>): MiddlewareHandler {
  return methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      problemResponse(405, `${c.req.method} is not allowed here; use ${methods.join(", ")}.`, {
        headers: { Allow: methods.join(", ") },
      }),
  });
}
