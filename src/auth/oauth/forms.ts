import { z } from "@hono/zod-openapi";
import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import { oauthError } from "./errors";

export const OAuthErrorSchema = z.object({ error: z.string(), error_description: z.string() }).openapi("OAuthError");
export const oauthErrorResponse = (description: string) => ({ description, content: { "application/json": { schema: OAuthErrorSchema } } });

const FORM = "application/x-www-form-urlencoded";

type FormResult = { success: true } | { success: false; error: { issues: { message: string }[] } };

/**
 * Every /o/ endpoint that takes a form answers a malformed one in the RFC 6749 shape. The body must be a
 * form (RFC 6749 §4.1.3, §6; RFC 7009 §2.1; RFC 7662 §2.1): a JSON body is refused as such rather than
 * read as an empty form missing every parameter.
 */
export const oauthFormHook = (result: FormResult, c: Context) => {
  const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== FORM) return oauthError("invalid_request", `Send the parameters as ${FORM}${type ? `, not ${type}` : ""}.`);
  if (!result.success) return oauthError("invalid_request", result.error.issues.map((i) => i.message).join(" "));
};

export const formBody = <T extends z.ZodType>(schema: T) =>
  ({ required: true, content: { [FORM]: { schema } } }) as const;

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
