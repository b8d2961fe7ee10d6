import { createRoute, z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import type { ClientRow } from "../../db/schema";
import { DomainError } from "../../errors";
import { jsonBody, jsonResponse, problems } from "../../http/openapi";
import { createRouter } from "../../http/router";
import { secured } from "../bearer";
import { ClientSchema, NewClientSchema } from "./client-schemas";
import { createClient, deleteClient, listClients } from "./clients";
import type { RevokedGrant } from "./grants";
import { revoked } from "../revocation";

const tags = ["OAuth clients (staff)"];

const toResource = (client: ClientRow, secret?: string | null) => ({
  client_id: client.id,
  name: client.name,
  redirect_uris: client.redirectUris,
  confidential: client.confidential,
  scopes: client.scopes.split(" ").filter(Boolean),
  dynamic: client.dynamic,
  introspect: client.introspect,
  created_at: client.createdAt.toISOString(),
  ...(secret ? { client_secret: secret } : {}),
});

const list = createRoute({
  method: "get",
  path: "/api/oauth/clients/",
  tags,
  summary: "List OAuth clients",
  operationId: "listOAuthClients",
  description: "Needs the `admin` scope and a staff user. Every client, first-party and dynamically registered alike; secrets are never shown again.",
  ...secured("admin"),
  responses: { 200: jsonResponse(z.array(ClientSchema), "Every registered client."), ...problems(401, 403) },
});

const create = createRoute({
  method: "post",
  path: "/api/oauth/clients/",
  tags,
  summary: "Register an OAuth client",
  operationId: "createOAuthClient",
  description: "Needs the `admin` scope and a staff user. A confidential client's `client_secret` is in this answer only: Hey keeps just its hash.",
  ...secured("admin"),
  request: { body: jsonBody(NewClientSchema) },
  responses: { 201: jsonResponse(ClientSchema, "The client, with its secret if confidential (shown only now)."), ...problems(400, 401, 403) },
});

const remove = createRoute({
  method: "delete",
  path: "/api/oauth/clients/{client_id}/",
  tags,
  summary: "Delete an OAuth client and everything issued to it",
  operationId: "deleteOAuthClient",
  description: "Its grants, codes and tokens end at once, and every WebSocket opened with them closes with 4001.",
  ...secured("admin"),
  request: { params: z.object({ client_id: z.string().max(100) }) },
  responses: { 204: { description: "Deleted." }, ...problems(401, 403, 404) },
});

/** Closes the sockets opened with these grants (4001), user by user. */
async function closeSocketsOf(env: Cloudflare.Env, db: Database, grants: RevokedGrant[]): Promise<void> {
  const byUser = new Map<number, string[]>();
  for (const g of grants) byUser.set(g.userId, [...(byUser.get(g.userId) ?? []), g.grantId]);
  await Promise.all([...byUser].map(([userId, ids]) => revoked(env, db, userId, ids)));
}

/** Staff-only management of OAuth clients. */
export const clientRoutes = createRouter();

clientRoutes
  .openapi(list, async (c) => c.json((await listClients(c.var.db)).map((client) => toResource(client)), 200))
  .openapi(create, async (c) => {
    const body = c.req.valid("json");
    const { client, secret } = await createClient(c.var.db, {
      name: body.name,
      redirectUris: body.redirect_uris,
      confidential: body.confidential,
      scopes: body.scopes,
      introspect: body.introspect,
    });
    return c.json(toResource(client, secret), 201);
  })
  .openapi(remove, async (c) => {
    const grants = await deleteClient(c.var.db, c.req.valid("param").client_id);
    if (!grants) throw new DomainError(404, "No such client.");
    await closeSocketsOf(c.env, c.var.db, grants);
    return c.body(null, 204);
  });
