import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { config } from "../../config";
import { database, type Database } from "../../db/client";
import { revoked } from "../revocation";
import type { RevokedGrant } from "./grants";
import type { AppEnv } from "../../env";
import { parseScopes } from "../scopes";
import { authenticateClient } from "./clients";
import { exchangeCode } from "./codes";
import { oauthError, oauthJson } from "./errors";
import { formBody, oauthErrorResponse, oauthForm, oauthOnError } from "./forms";
import { clientIp } from "../../limits/client-address";
import { rateLimitHeaders, take } from "../../limits/limits";
import { isValidVerifier } from "./pkce";
import { refreshTokens } from "./tokens";

const TokenForm = z
  .object({
    grant_type: z.string(),
    code: z.string().optional(),
    redirect_uri: z.string().optional(),
    code_verifier: z.string().optional(),
    refresh_token: z.string().optional(),
    scope: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  })
  .openapi("TokenRequest");

const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.int(),
    refresh_token: z.string(),
    scope: z.string(),
  })
  .openapi("TokenResponse");

const token = createRoute({
  method: "post",
  path: "/o/token/",
  tags: ["OAuth"],
  summary: "Token endpoint",
  operationId: "token",
  description:
    "RFC 6749 §4.1.3 (authorization_code with PKCE code_verifier) and §6 (refresh_token, rotated on every use). " +
    "Reuse detection (RFC 9700 §4.14.2): presenting a spent refresh token revokes the whole grant, except a retry: " +
    "within 60 s of its rotation, while the refresh token that rotation issued is unused, the spent one gets that same " +
    "answer again (a client whose answer was lost retries with the token it has). Once the new refresh token is used, " +
    "an older one is reuse. Clients should send one refresh at a time. Clients authenticate with client_secret_basic, " +
    "client_secret_post, or client_id alone when public. Limited per address and, for refreshes, per grant.",
  // Clients authenticate in the form or with HTTP Basic (RFC 6749 §2.3), not with a bearer token.
  security: [],
  request: { body: formBody(TokenForm) },
  responses: {
    200: { description: "Tokens.", content: { "application/json": { schema: TokenResponse } } },
    400: oauthErrorResponse("invalid_request, invalid_grant, invalid_scope or unsupported_grant_type."),
    401: oauthErrorResponse("invalid_client."),
    413: oauthErrorResponse("invalid_request: the body is too large."),
    429: oauthErrorResponse("temporarily_unavailable: too many token requests from this address, or refreshes of this grant."),
  },
});

/** A reused code or refresh token ended its grant: sockets opened with that grant close too. */
async function closeRevoked(env: Cloudflare.Env, db: Database, grant: RevokedGrant | null | undefined): Promise<void> {
  if (grant) await revoked(env, db, grant.userId, [grant.grantId]);
}

/**
 * Token floods are limited per address, and refreshes per grant once the presented token is known to
 * exist: what an attacker controls. Never per client: a public client's id is public, so a bucket for
 * it would let anyone lock every user of the web app out of sign-in. The answer keeps the RFC 6749 shape.
 */
async function tokenFlood(env: Cloudflare.Env, key: string): Promise<Response | null> {
  const { decision, policy } = await take(env, "token", key);
  if (decision.allowed) return null;
  return oauthError("temporarily_unavailable", `Too many token requests; retry in ${decision.retryAfterSeconds} s.`, 429, rateLimitHeaders(policy, decision));
}

// Registered for the OpenAPI document only: OAuth answers are raw RFC 6749 responses, not typed JSON.
export const tokenRoutes = new OpenAPIHono<AppEnv>();
tokenRoutes.onError(oauthOnError);
tokenRoutes.openAPIRegistry.registerPath(token);
tokenRoutes.post(token.path, oauthForm(TokenForm), async (c) => {
  const form = c.req.valid("form");
  const db = database(c.env.DB);
  const cfg = config(c.env);
  if (form.grant_type !== "authorization_code" && form.grant_type !== "refresh_token") {
    return oauthError("unsupported_grant_type", "Use authorization_code or refresh_token.");
  }
  const limited = await tokenFlood(c.env, `ip:${clientIp(c.req.header("CF-Connecting-IP"))}`);
  if (limited) return limited;
  const auth = await authenticateClient(db, c.req.header("Authorization"), form);
  if (auth.response) return auth.response;

  if (form.grant_type === "authorization_code") {
    if (!form.code || !form.code_verifier) return oauthError("invalid_request", "code and code_verifier are required.");
    if (!isValidVerifier(form.code_verifier)) {
      return oauthError("invalid_request", "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).");
    }
    const result = await exchangeCode(db, { code: form.code, clientId: auth.client.id, redirectUri: form.redirect_uri, codeVerifier: form.code_verifier }, cfg);
    if ("error" in result) {
      await closeRevoked(c.env, db, result.revoked);
      return oauthError("invalid_grant", result.error);
    }
    return oauthJson(result);
  }

  if (!form.refresh_token) return oauthError("invalid_request", "refresh_token is required.");
  const scopes = form.scope === undefined ? null : parseScopes(form.scope);
  if (form.scope !== undefined && !scopes) return oauthError("invalid_scope", "Unknown scope.");
  let grantLimited: Response | null = null;
  const admit = async (grantId: string) => !(grantLimited = await tokenFlood(c.env, `grant:${grantId}`));
  const result = await refreshTokens(db, form.refresh_token, auth.client.id, scopes, cfg, admit);
  if ("limited" in result) return grantLimited!;
  if ("error" in result) {
    await closeRevoked(c.env, db, result.revoked);
    return oauthError(result.error, result.description);
  }
  return oauthJson(result.tokens);
});
