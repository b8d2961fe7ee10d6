import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bearerToken, secured } from "../auth/bearer";
import { verifyAccessToken } from "../auth/oauth/tokens";
import { config } from "../config";
import { IdParam } from "../http/params";
import type { AppEnv } from "../env";
import { jsonBody, jsonResponse, problems, ProblemSchema } from "../http/openapi";
import { problemResponse } from "../http/problem";
import { createRouter } from "../http/router";
import { rateLimitHeaders, take } from "../limits/limits";
import { room } from "./room-stub";
import { socketIdentity, type SocketIdentity } from "./connections";
import { unwrap } from "./outcome";

const tags = ["Realtime"];

const ticket = createRoute({
  method: "post",
  path: "/api/realtime/tickets/",
  tags,
  summary: "A one-time ticket to open a WebSocket from a browser",
  operationId: "createTicket",
  description:
    "Valid for 30 seconds and one use, and only while the access token it was issued with is live (revoking the token voids it). " +
    "The socket inherits the user, grant, scopes and expiry of that token. Tickets and socket opens share the per-user `connect` limit.",
  ...secured("read:messages", { limit: "connect" }),
  request: { body: jsonBody(z.object({ conversation: z.int().positive() }).openapi("TicketRequest")) },
  responses: { 201: jsonResponse(z.object({ ticket: z.string(), expires_at: z.iso.datetime() }).openapi("Ticket"), "The ticket."), ...problems(400, 401, 403, 404, 429) },
});

const ConnectQuery = z.object({ ticket: z.string().max(200).optional(), after_seq: z.coerce.number().int().min(0).optional(), after_change: z.coerce.number().int().min(0).optional() });

const connect = createRoute({
  method: "get",
  path: "/api/conversations/{id}/ws/",
  tags,
  summary: "Open the conversation's WebSocket",
  operationId: "openConversationSocket",
  description:
    "Authenticate with `Authorization: Bearer` or `?ticket=`. Browsers must send an allowed `Origin`. `?after_seq=N` first replays every " +
    "message after N (and with `after_change=C`, edits and deletes after change C), then sends `ready`, then live events. Events are " +
    "documented in src/realtime/protocol.ts and the README. Opens count against the per-user `connect` limit (429 beyond it). A user " +
    "holds at most MAX_SOCKETS_PER_CONVERSATION (10) sockets per conversation: a newer one closes the oldest with 4029, which " +
    "clients should not answer by reconnecting.",
  security: [{ oauth2: ["read:messages"] }, { bearerToken: [] }],
  request: {
    params: IdParam,
    query: ConnectQuery,
  },
  responses: {
    101: { description: "Switching protocols: the socket is open." },
    ...problems(400, 401, 403, 404, 429),
    426: { description: "Not a WebSocket upgrade request.", content: { "application/problem+json": { schema: ProblemSchema } } },
    503: { description: "The room could not take the socket; reconnect.", content: { "application/problem+json": { schema: ProblemSchema } } },
  },
});

/** The identity behind a ticket or bearer token, or the 401/403 problem to answer. */
async function identify(c: Context<AppEnv>, conversationId: number, ticketValue: string | undefined): Promise<SocketIdentity | Response> {
  const unauthorized = (detail: string) => problemResponse(401, detail, { headers: { "WWW-Authenticate": 'Bearer realm="hey", error="invalid_token"' } });
  let identity: SocketIdentity | null = null;
  if (ticketValue) {
    // The room also checks that the ticket's access token is still live: it may have been revoked since.
    identity = await room(c.env, conversationId).redeemTicket(ticketValue);
    if (!identity) return unauthorized("The ticket is unknown, used or expired, or its access token was revoked.");
  } else {
    const presented = bearerToken(c.req.header("Authorization"));
    const auth = presented && presented !== "malformed" ? await verifyAccessToken(c.var.db, presented.token) : null;
    if (!auth) return unauthorized("A valid access token or ticket is required.");
    identity = socketIdentity(auth);
  }
  if (!identity.scopes.includes("read:messages")) return problemResponse(403, "This needs the read:messages scope.");
  return identity;
}

export const realtimeRoutes = createRouter().openapi(ticket, async (c) => {
  const auth = c.get("auth");
  const conversationId = c.req.valid("json").conversation;
  const issued = unwrap(await room(c.env, conversationId).issueTicket(conversationId, socketIdentity(auth), auth.tokenHash));
  return c.json({ ticket: issued.ticket, expires_at: new Date(issued.expiresAt).toISOString() }, 201);
});

realtimeRoutes.openAPIRegistry.registerPath(connect);
realtimeRoutes.get(connect.path.replace("{id}", ":id"), async (c) => {
  const params = IdParam.safeParse(c.req.param());
  const query = ConnectQuery.safeParse(c.req.query());
  if (!params.success || !query.success) return problemResponse(400, "Bad conversation id or query.");
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return problemResponse(426 as 400, "Connect with a WebSocket upgrade.", { headers: { Upgrade: "websocket" } });
  const origin = c.req.header("Origin");
  const allowed = config(c.env).ALLOWED_ORIGINS ?? [new URL(c.req.url).origin];
  if (origin && !allowed.includes(origin)) return problemResponse(403, "This Origin may not open sockets.");
  const conversationId = params.data.id;
  const identity = await identify(c, conversationId, query.data.ticket);
  if (identity instanceof Response) return identity;
  const { decision, policy } = await take(c.env, "connect", `user:${identity.userId}`);
  if (!decision.allowed) return problemResponse(429, `Too many connections; retry in ${decision.retryAfterSeconds} s.`, { headers: rateLimitHeaders(policy, decision) });
  const stub = room(c.env, conversationId);
  const nonce = unwrap(await stub.admit(conversationId, identity, query.data.after_seq ?? null, query.data.after_change ?? null));
  // A fresh request: nothing the client sent reaches the room but the upgrade itself.
  const upgraded = await stub.fetch(`https://room/connect?admission=${nonce}`, { headers: { Upgrade: "websocket" } });
  // Re-wrapped so its headers are mutable for the app's middleware.
  return upgraded.webSocket ? new Response(null, { status: 101, webSocket: upgraded.webSocket }) : problemResponse(503, "The room is busy; reconnect.");
});
