import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { database } from "../../db/client";
import type { AppEnv } from "../../env";
import { authenticateClient } from "./clients";
import { oauthError, oauthJson } from "./errors";
import { formBody, oauthErrorResponse, oauthForm, oauthOnError } from "./forms";
import { issuerOf } from "./issuer";
import { revoked } from "../revocation";
import { introspectToken, revokeToken } from "./tokens";

const TokenForm = z
  .object({
    token: z.string(),
    // RFC 7009 §2.1: the hint is only a hint; an unknown value must not stop the search.
    token_type_hint: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  })
  .openapi("TokenReference");

const revoke = createRoute({
  method: "post",
  path: "/o/revoke_token/",
  tags: ["OAuth"],
  summary: "Token revocation (RFC 7009)",
  operationId: "revokeToken",
  description: "Revoking a refresh token ends its whole grant, access tokens included. Always 200 for unknown tokens.",
  security: [],
  request: { body: formBody(TokenForm) },
  responses: { 200: { description: "Revoked, or nothing to revoke." }, 400: oauthErrorResponse("invalid_request."), 401: oauthErrorResponse("invalid_client.") },
});

const introspect = createRoute({
  method: "post",
  path: "/o/introspect/",
  tags: ["OAuth"],
  summary: "Token introspection (RFC 7662), for confidential clients",
  operationId: "introspectToken",
  description:
    "A client learns about its own tokens only; another client's token answers `{active: false}`. Staff may give a " +
    "client (a resource server) the `introspect` permission to look up any token.",
  security: [],
  request: { body: formBody(TokenForm) },
  responses: {
    200: { description: "`{active: false}` or the token's details.", content: { "application/json": { schema: z.object({ active: z.boolean() }).passthrough() } } },
    401: oauthErrorResponse("invalid_client: introspection needs a confidential client's credentials."),
  },
});

export const revokeRoutes = new OpenAPIHono<AppEnv>();
revokeRoutes.onError(oauthOnError);
revokeRoutes.openAPIRegistry.registerPath(revoke);
revokeRoutes.openAPIRegistry.registerPath(introspect);

revokeRoutes.post(revoke.path, oauthForm(TokenForm), async (c) => {
  const form = c.req.valid("form");
  const db = database(c.env.DB);
  const auth = await authenticateClient(db, c.req.header("Authorization"), form);
  if (auth.response) return auth.response;
  const ended = await revokeToken(db, form.token, auth.client.id);
  // Sockets opened with the grant's tokens close with 4001 (a socket does not record which access token).
  if (ended) await revoked(c.env, db, ended.userId, [ended.grantId]);
  return oauthJson({});
});

revokeRoutes.post(introspect.path, oauthForm(TokenForm), async (c) => {
  const form = c.req.valid("form");
  const db = database(c.env.DB);
  const auth = await authenticateClient(db, c.req.header("Authorization"), form);
  if (auth.response) return auth.response;
  if (!auth.client.confidential) return oauthError("invalid_client", "Introspection is for confidential clients.", 401);
  return oauthJson(await introspectToken(db, form.token, issuerOf(c.env, c.req.url), auth.client));
});
