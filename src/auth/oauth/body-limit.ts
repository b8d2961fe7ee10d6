import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { config } from "../../config";
import { oauthError } from "./errors";

/** OAuth bodies get the API's MAX_BODY_BYTES too, checked before anything parses them (413 otherwise). */
export const oauthBodyLimit = createMiddleware(async (c, next) => {
  const maxSize = config(c.env).MAX_BODY_BYTES;
  return bodyLimit({ maxSize, onError: () => oauthError("invalid_request", `The body must be at most ${maxSize} bytes.`, 413) })(c, next);
});
