import { z } from "@hono/zod-openapi";
import { zValidator } from "@hono/zod-validator";
import { oauthError } from "./errors";

export const OAuthErrorSchema = z.object({ error: z.string(), error_description: z.string() }).openapi("OAuthError");
export const oauthErrorResponse = (description: string) => ({ description, content: { "application/json": { schema: OAuthErrorSchema } } });

/** Every /o/ endpoint that takes a form answers a malformed one in the RFC 6749 shape. */
export const oauthFormHook = (result: { success: true } | { success: false; error: { issues: { path: PropertyKey[] }[] } }) => {
  if (!result.success) {
    const fields = result.error.issues.map((i) => i.path.join(".") || "body").join(", ");
    return oauthError("invalid_request", `Missing or malformed parameters: ${fields}.`);
  }
};

export const formBody = <T extends z.ZodType>(schema: T) =>
  ({ required: true, content: { "application/x-www-form-urlencoded": { schema } } }) as const;

/** A form validator whose failures answer in the RFC 6749 shape. */
export const oauthForm = <T extends z.ZodType>(schema: T) => zValidator("form", schema, oauthFormHook);


/**
 * The /o/ endpoints' error handler: malformed bodies (a broken multipart form, say) and unexpected
 * failures answer in the RFC 6749 shape too; internal reasons are logged, never sent.
 */
export function oauthOnError(error: Error): Response {
  const status = (error as { status?: number }).status;
  if (status && status >= 400 && status < 500) return oauthError("invalid_request", "The request body could not be read.", status);
  console.error("oauth endpoint failed", error);
  return oauthError("server_error", "Something went wrong on our side; it has been logged.", 500);
}
