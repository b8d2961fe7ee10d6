import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import type { Context } from "hono";
import { bearerToken, secured } from "../auth/bearer";
import { verifyAccessToken } from "../auth/oauth/tokens";
import { config } from "../config";
import { membership } from "../conversations/conversations";
import { IdParam } from "../conversations/schemas";
import { database } from "../db/client";
import { oauthGrants, users } from "../db/schema";
import type { AppEnv } from "../env";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { problemResponse } from "../http/problem";
import { validationHook } from "../http/validation";
import { room } from "./room";
import type { SocketIdentity } from "./sockets";

const tags = ["Realtime"];

const ticket = createRoute({
  method: "post",
  path: "/api/realtime/tickets/",
  tags,
  summary: "A one-time ticket to open a WebSocket from a browser",
  description: "Valid for 30 seconds and one use. The socket inherits the user, grant, scopes and expiry of the token behind it.",
  ...secured("read:messages"),
  request: { body: jsonBody(z.object({ conversation: z.int().positive() }).openapi("TicketRequest")) },
  responses: { 201: jsonResponse(z.object({ ticket: z.string(), expires_at: z.iso.datetime() }).openapi("Ticket"), "The ticket."), ...problems(400, 401, 403, 404) },
});

const connect = createRoute({
  method: "get",
  path: "/api/conversations/{id}/ws/",
  tags,
  summary: "Open the conversation's WebSocket",
  description:
    "Authenticate with `Authorization: Bearer` or `?ticket=`. Browsers must send an allowed `Origin`. `?after_seq=N` first replays every " +
    "message after N (and with `after_change=C`, edits and deletes after change C), then sends `ready`, then live events. Events are " +
    "documented in src/realtime/events.ts and the README.",
  security: [{ oauth2: ["read:messages"] }],
  request: {
    params: IdParam,
    query: z.object({ ticket: z.string().max(200).optional(), after_seq: z.coerce.number().int().min(0).optional(), after_change: z.coerce.number().int().min(0).optional() }),
  },
  responses: { 101: { description: "Switching protocols." }, ...problems(400, 401, 403, 404) },
});

/** The identity behind a ticket or bearer token, or the 401/403 problem to answer. */
async function identify(c: Context<AppEnv>, conversationId: number, ticketValue: string | undefined): Promise<SocketIdentity | Response> {
  const db = database(c.env.DB);
  const unauthorized = (detail: string) => problemResponse(401, detail, { headers: { "WWW-Authenticate": 'Bearer realm="hey", error="invalid_token"' } });
  let identity: SocketIdentity | null = null;
  if (ticketValue) {
    identity = await room(c.env, conversationId).redeemTicket(ticketValue);
    // The grant may have been revoked since the ticket was issued.
    const live = identity && (await db.select({ id: oauthGrants.id }).from(oauthGrants).innerJoin(users, eq(users.id, oauthGrants.userId)).where(and(eq(oauthGrants.id, identity.grantId), isNull(oauthGrants.revokedAt), eq(users.isActive, true))).get());
    if (!live || !identity) return unauthorized("The ticket is unknown, used or expired.");
  } else {
    const presented = bearerToken(c.req.header("Authorization"));
    const auth = presented && presented !== "malformed" ? await verifyAccessToken(db, presented.token) : null;
    if (!auth) return unauthorized("A valid access token or ticket is required.");
    identity = { userId: auth.userId, grantId: auth.grantId, scopes: [...auth.scopes], expiresAt: auth.expiresAt };
  }
  if (!identity.scopes.includes("read:messages")) return problemResponse(403, "This needs the read:messages scope.");
  return identity;
}

export const realtimeRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(ticket, async (c) => {
  const auth = c.get("auth");
  const conversationId = c.req.valid("json").conversation;
  await membership(database(c.env.DB), conversationId, auth.userId);
  const issued = await room(c.env, conversationId).issueTicket({ userId: auth.userId, grantId: auth.grantId, scopes: [...auth.scopes], expiresAt: auth.expiresAt });
  return c.json({ ticket: issued.ticket, expires_at: new Date(issued.expiresAt).toISOString() }, 201);
});

realtimeRoutes.openAPIRegistry.registerPath(connect);
realtimeRoutes.get(connect.path.replace("{id}", ":id"), async (c) => {
  const params = IdParam.safeParse(c.req.param());
  const query = connect.request.query.safeParse(c.req.query());
  if (!params.success || !query.success) return problemResponse(400, "Bad conversation id or query.");
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return problemResponse(426 as 400, "Connect with a WebSocket upgrade.", { headers: { Upgrade: "websocket" } });
  const origin = c.req.header("Origin");
  const allowed = config(c.env).ALLOWED_ORIGINS ?? [new URL(c.req.url).origin];
  if (origin && !allowed.includes(origin)) return problemResponse(403, "This Origin may not open sockets.");
  const conversationId = params.data.id;
  const identity = await identify(c, conversationId, query.data.ticket);
  if (identity instanceof Response) return identity;
  const { conversation } = await membership(database(c.env.DB), conversationId, identity.userId);
  const stub = room(c.env, conversationId);
  const nonce = await stub.admit(conversationId, identity, query.data.after_seq ?? conversation.lastSeq, query.data.after_change ?? null);
  // A fresh request: nothing the client sent reaches the room but the upgrade itself.
  const upgraded = await stub.fetch(`https://room/connect?admission=${nonce}`, { headers: { Upgrade: "websocket" } });
  // Re-wrapped so its headers are mutable for the app's middleware.
  return upgraded.webSocket ? new Response(null, { status: 101, webSocket: upgraded.webSocket }) : problemResponse(503, "The room is busy; reconnect.");
});
