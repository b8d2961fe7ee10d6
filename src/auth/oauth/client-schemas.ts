import { z } from "@hono/zod-openapi";
import { ALL_SCOPES, USER_SCOPES, type Scope } from "../scopes";
import { redirectUriProblem } from "./clients";

export const RedirectUriSchema = z
  .string()
  .max(2000)
  .superRefine((uri, ctx) => {
    const problem = redirectUriProblem(uri);
    if (problem) ctx.addIssue({ code: "custom", message: `The redirect URI ${problem}.` });
  });

export const NewClientSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    redirect_uris: z.array(RedirectUriSchema).min(1).max(10),
    confidential: z.boolean().default(false),
    scopes: z
      .array(z.enum(ALL_SCOPES as [Scope, ...Scope[]]))
      .min(1)
      .default(USER_SCOPES)
      .openapi({ description: "What the client may ask users for. `admin` only when named here; staff users alone can grant it." }),
    introspect: z.boolean().default(false).openapi({ description: "May introspect tokens of other clients (RFC 7662 §4), for a resource server." }),
  })
  .openapi("NewOAuthClient");

export const ClientSchema = z
  .object({
    client_id: z.string(),
    name: z.string(),
    redirect_uris: z.array(z.string()),
    confidential: z.boolean(),
    scopes: z.array(z.string()),
    dynamic: z.boolean(),
    introspect: z.boolean(),
    created_at: z.iso.datetime(),
    client_secret: z.string().optional().openapi({ description: "Shown once, when a confidential client is created." }),
  })
  .openapi("OAuthClient");
