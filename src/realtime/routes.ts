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
import { hub } from "./hub-stub";
import { room } from "./room-stub";
import { StreamEventSchema } from "./stream-schemas";
import { socketIdentity, type SocketIdentity } from "./connections";
import { unwrap } from "./outcome";

const tags = ["Realtime"];
const TicketSchema = z.object({ ticket: z.string(), expires_at: z.iso.datetime() }).openapi("Ticket");

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
  responses: { 201: jsonResponse(TicketSchema, "The ticket."), ...problems(400, 401, 403, 404, 429) },
});

const streamTicket = createRoute({
  method: "post",
  path: "/api/events/tickets/",
  tags,
  summary: "A one-time ticket to open the user stream from a browser",
  operationId: "createStreamTicket",
  description: "As conversation tickets: 30 seconds, one use, only while the access token it was issued with is live; shares the per-user `connect` limit.",
  ...secured("read:messages", { limit: "connect" }),
  responses: { 201: jsonResponse(TicketSchema, "The ticket."), ...problems(401, 403, 429) },
});

const StreamQuery = z.object({ ticket: z.string().max(200).optional(), after_event: z.coerce.number().int().min(0).optional() });

const stream = createRoute({
  method: "get",
  path: "/api/events/ws/",
  tags,
  summary: "Open the user stream: the chat list, unread counts and presence, live",
  operationId: "openUserStream",
  description:
    "One socket per device for everything the user's chat list needs, across all their conversations. Authenticate with " +
    "`Authorization: Bearer` or `?ticket=` (from createStreamTicket); browsers must send an allowed `Origin`. The first frame is " +
    "`ready` with a snapshot (the chat list's first page, online contacts) and the stream's `event_seq`; `StreamEvent` events follow, " +
    "each numbered one above the last. Reconnect with `?after_event=N` to get what you missed and `ready` with `resumed: true`, or, " +
    "when the stream kept no continuous record since N (the last 1,000 events, 7 days, and only while you were online), `resync` " +
    "then a fresh `ready`. The user is online while a stream is open (and PRESENCE_GRACE_SECONDS after the last closes). " +
    "A user holds at most MAX_STREAMS_PER_USER (10) streams: a newer one closes the oldest with 4029.",
  security: [{ oauth2: ["read:messages"] }, { bearerToken: [] }],
  request: { query: StreamQuery },
  responses: {
    // Not a body: each WebSocket frame is one StreamEvent, described here so clients get its types.
    101: { description: "Switching protocols: the stream is open; each frame is one `StreamEvent`.", content: { "application/json": { schema: StreamEventSchema } } },
    ...problems(400, 401, 403, 429),
    426: { description: "Not a WebSocket upgrade request.", content: { "application/problem+json": { schema: ProblemSchema } } },
    503: { description: "The hub could not take the socket; reconnect.", content: { "application/problem+json": { schema: ProblemSchema } } },
  },
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

/**
 * The identity behind a ticket (spent by `redeem`, which also checks that the ticket's access token is
 * still live) or a bearer token, or the 401/403 problem to answer.
 */
async function identify(c: Context<AppEnv>, ticketValue: string | undefined, redeem: (ticket: string) => Promise<SocketIdentity | null>): Promise<SocketIdentity | Response> {
  const unauthorized = (detail: string) => problemResponse(401, detail, { headers: { "WWW-Authenticate": 'Bearer realm="hey", error="invalid_token"' } });
  let identity: SocketIdentity | null = null;
  if (ticketValue) {
    identity = await redeem(ticketValue);
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

/** The checks every socket open shares, before authentication: an upgrade, from an allowed Origin. */
function upgradeRefusal(c: Context<AppEnv>): Response | null {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return problemResponse(426 as 400, "Connect with a WebSocket upgrade.", { headers: { Upgrade: "websocket" } });
  const origin = c.req.header("Origin");
  const allowed = config(c.env).ALLOWED_ORIGINS ?? [new URL(c.req.url).origin];
  if (origin && !allowed.includes(origin)) return problemResponse(403, "This Origin may not open sockets.");
  return null;
}

/** The per-user `connect` limit, spent by every socket open; the 429 to answer when none is left. */
async function connectRefusal(c: Context<AppEnv>, userId: number): Promise<Response | null> {
  const { decision, policy } = await take(c.env, "connect", `user:${userId}`);
  return decision.allowed ? null : problemResponse(429, `Too many connections; retry in ${decision.retryAfterSeconds} s.`, { headers: rateLimitHeaders(policy, decision) });
}

/** The socket a Durable Object accepted, re-wrapped so its headers are mutable for the app's middleware. */
function upgraded(response: Response): Response {
  return response.webSocket ? new Response(null, { status: 101, webSocket: response.webSocket }) : problemResponse(503, "The socket could not be opened; reconnect.");
}

/** A stream ticket is `<user id>.<secret>`: the id names the hub that keeps the secret's hash. */
const STREAM_TICKET = /^(\d{1,15})\.([\w-]{20,100})$/;

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
  const refused = upgradeRefusal(c);
  if (refused) return refused;
  const conversationId = params.data.id;
  const stub = room(c.env, conversationId);
  const identity = await identify(c, query.data.ticket, (ticket) => stub.redeemTicket(ticket));
  if (identity instanceof Response) return identity;
  const limited = await connectRefusal(c, identity.userId);
  if (limited) return limited;
  const nonce = unwrap(await stub.admit(conversationId, identity, query.data.after_seq ?? null, query.data.after_change ?? null));
  // A fresh request: nothing the client sent reaches the room but the upgrade itself.
  return upgraded(await stub.fetch(`https://room/connect?admission=${nonce}`, { headers: { Upgrade: "websocket" } }));
});

realtimeRoutes.openapi(streamTicket, async (c) => {
  const auth = c.get("auth");
  const issued = await hub(c.env, auth.userId).issueTicket(socketIdentity(auth), auth.tokenHash);
  return c.json({ ticket: issued.ticket, expires_at: new Date(issued.expiresAt).toISOString() }, 201);
});

realtimeRoutes.openAPIRegistry.registerPath(stream);
realtimeRoutes.get(stream.path, async (c) => {
  const query = StreamQuery.safeParse(c.req.query());
  if (!query.success) return problemResponse(400, "`after_event` must be a whole number, and `ticket` at most 200 characters.");
  const refused = upgradeRefusal(c);
  if (refused) return refused;
  const identity = await identify(c, query.data.ticket, async (ticket) => {
    const parts = STREAM_TICKET.exec(ticket);
    return parts ? hub(c.env, Number(parts[1])).redeemTicket(parts[2]!) : null;
  });
  if (identity instanceof Response) return identity;
  const limited = await connectRefusal(c, identity.userId);
  if (limited) return limited;
  const stub = hub(c.env, identity.userId);
  const nonce = await stub.admit(identity, query.data.after_event ?? null);
  return upgraded(await stub.fetch(`https://hub/connect?admission=${nonce}`, { headers: { Upgrade: "websocket" } }));
});
