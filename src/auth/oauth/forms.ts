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

