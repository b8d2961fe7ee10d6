import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type FieldError = { path: string; message: string };

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

type ProblemOptions = { errors?: FieldError[]; headers?: HeadersInit };

/** The API's one error shape: RFC 9457 problem details, with `errors` for validation failures. */
export function problemResponse(status: ContentfulStatusCode, detail: string, options: ProblemOptions = {}): Response {
  const body = {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail,
    ...(options.errors ? { errors: options.errors } : {}),
  };
  const headers = new Headers(options.headers);
  headers.set("Content-Type", "application/problem+json");
  return new Response(JSON.stringify(body), { status, headers });
}

/** A throwable problem: `throw problem(404, "Conversation not found")`. */
export function problem(status: ContentfulStatusCode, detail: string, options?: ProblemOptions): HTTPException {
  return new HTTPException(status, { message: detail, res: problemResponse(status, detail, options) });
}
