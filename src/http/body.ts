import { createMiddleware } from "hono/factory";
import { bodyLimit } from "hono/body-limit";
import { config } from "../config";
import { problemResponse } from "./problem";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);
/** Uploads carry a file's own bytes, streamed to storage under limits of their own (src/attachments). */
const UPLOAD = /^\/api\/conversations\/[^/]+\/attachments\/?$/;

/** API bodies are JSON (415 otherwise) and at most MAX_BODY_BYTES (413 otherwise). */
export const jsonBodies = createMiddleware(async (c, next) => {
  if (c.req.method === "POST" && UPLOAD.test(c.req.path)) return next();
  const hasBody = c.req.header("Content-Length") !== "0" && (c.req.header("Content-Length") || c.req.header("Transfer-Encoding"));
  if (METHODS_WITH_BODY.has(c.req.method) && hasBody) {
    const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase() ?? "";
    if (type !== "application/json" && !/^application\/[\w.+-]+\+json$/.test(type)) {
      return problemResponse(415, "Send the body as application/json.");
    }
  }
  const maxSize = config(c.env).MAX_BODY_BYTES;
  return bodyLimit({
    maxSize,
    onError: () => problemResponse(413, `The body must be at most ${maxSize} bytes.`),
  })(c, next);
});
