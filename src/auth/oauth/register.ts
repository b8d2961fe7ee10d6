import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { zValidator } from "@hono/zod-validator";
import { config } from "../../config";
import { database } from "../../db/client";
import type { AppEnv } from "../../env";
import { clientIp } from "../../limits/client-address";
import { rateLimitHeaders, take } from "../../limits/limits";
import { parseScopes, USER_SCOPES } from "../scopes";
import { createClient, nameOfFirstPartyClient, redirectUriProblem } from "./clients";
import { oauthError, oauthJson } from "./errors";
import { oauthErrorResponse, oauthOnError } from "./forms";

const Metadata = z
  .object({
    client_name: z.string().trim().min(1).max(100),
    redirect_uris: z.array(z.string().max(2000)).min(1).max(10),
    scope: z.string().optional(),
    token_endpoint_auth_method: z.literal("none").default("none"),
    grant_types: z.array(z.enum(["authorization_code", "refresh_token"])).optional(),
    response_types: z.array(z.literal("code")).optional(),
  })
  .openapi("ClientRegistration");

const register = createRoute({
  method: "post",
  path: "/o/register/",
  tags: ["OAuth"],
  summary: "Dynamic client registration (RFC 7591), public clients only",
  operationId: "registerClient",
  description:
    "Redirect URIs must be https, http on a loopback host, or a private-use scheme in reverse-domain form (RFC 8252). " +
    "The `admin` scope cannot be registered, nor a name that looks like one of Hey's own apps; the consent page marks " +
    "these clients unverified and shows their redirect host. Limited per address (RATE_REGISTER_LIMIT). " +
    "Turned off when OAUTH_DYNAMIC_REGISTRATION is \"false\".",
  security: [],
  request: { body: { required: true, content: { "application/json": { schema: Metadata } } } },
  responses: {
    201: {
      description: "The registered client (RFC 7591 §3.2.1).",
      content: {
        "application/json": {
          schema: z
            .object({
              client_id: z.string(),
              client_id_issued_at: z.int(),
              client_name: z.string(),
              redirect_uris: z.array(z.string()),
              scope: z.string(),
              token_endpoint_auth_method: z.literal("none"),
              grant_types: z.array(z.string()),
              response_types: z.array(z.string()),
            })
            .openapi("RegisteredClient"),
        },
      },
    },
    400: oauthErrorResponse("invalid_redirect_uri or invalid_client_metadata."),
    403: oauthErrorResponse("Registration is turned off."),
    413: oauthErrorResponse("The body is too large."),
    429: oauthErrorResponse("Too many registrations from this address."),
  },
});

export const registerRoutes = new OpenAPIHono<AppEnv>();
registerRoutes.onError(oauthOnError);
registerRoutes.openAPIRegistry.registerPath(register);

registerRoutes.post(
  register.path,
  zValidator("json", Metadata, (result) => {
    if (!result.success) {
      const detail = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      return oauthError("invalid_client_metadata", detail);
    }
  }),
  async (c) => {
    if (!config(c.env).OAUTH_DYNAMIC_REGISTRATION) return oauthError("access_denied", "Dynamic client registration is turned off.", 403);
    const { decision, policy } = await take(c.env, "register", `ip:${clientIp(c.req.header("CF-Connecting-IP"))}`);
    if (!decision.allowed) {
      return oauthError("temporarily_unavailable", `Too many registrations; retry in ${decision.retryAfterSeconds} s.`, 429, rateLimitHeaders(policy, decision));
    }
    const body = c.req.valid("json");
    for (const uri of body.redirect_uris) {
      const problem = redirectUriProblem(uri);
      if (problem) return oauthError("invalid_redirect_uri", `${uri} ${problem}.`);
    }
    const scopes = body.scope === undefined ? USER_SCOPES : parseScopes(body.scope);
    if (!scopes || scopes.length === 0) return oauthError("invalid_client_metadata", "scope names an unknown scope.");
    if (scopes.includes("admin")) return oauthError("invalid_client_metadata", "The admin scope is only for apps that staff register.");
    const db = database(c.env.DB);
    const taken = await nameOfFirstPartyClient(db, body.client_name);
    if (taken) return oauthError("invalid_client_metadata", `client_name is too close to "${taken}", one of Hey's own apps; choose another name.`);
    const { client } = await createClient(db, { name: body.client_name, redirectUris: body.redirect_uris, confidential: false, scopes, dynamic: true });
    return oauthJson(
      {
        client_id: client.id,
        client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
        client_name: client.name,
        redirect_uris: client.redirectUris,
        scope: client.scopes,
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      },
      201,
    );
  },
);
