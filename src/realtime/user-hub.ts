import { DurableObject } from "cloudflare:workers";
import { randomToken } from "../auth/secrets";
import { listChats } from "../chats/chats";
import { config } from "../config";
import { database } from "../db/client";
import { onlineContactsQuery, presenceOf, recordPresence } from "../presence/presence";
import { attach, attachmentOf, closeSocket, grantTag, sendEvent, supersedeOldest, userTag, type SocketIdentity } from "./connections";
import { EventLog } from "./event-log";
import { FloodGuard } from "./flood";
import { Inbox } from "./inbox";
import { CLOSE } from "./protocol";
import type { InboxEvent, StreamEvent } from "./stream-protocol";
import { issueTicket, redeemTicket, sweepTickets } from "./tickets";

/** The chat list's first page, as a stream's `ready` carries it. */
const SNAPSHOT_CHATS = 50;
const flood = new FloodGuard();

/**
 * One per user: their live streams (one socket per device), a bounded log of numbered inbox events to
 * resume from, and their presence. Rooms and the Worker publish events here only while the user is
 * online (the `presence` row), so a user with no stream costs nothing per message.
 */
export class UserHub extends DurableObject<Cloudflare.Env> {
  readonly #log: EventLog;
  readonly #admissions = new Map<string, { identity: SocketIdentity; after: number | null }>();
  /** Sockets waiting for their snapshot: live events reach them through the log once it is sent. */
  readonly #opening = new Set<WebSocket>();
  /** Presence writes in order, so a stream's snapshot is read after its user is recorded online. */
  #presence: Promise<unknown> = Promise.resolve();
  /** When the grace after the last stream closed ends (in memory; the alarm is the durable copy). */
  #offlineAt: number | null = null;
  readonly #inbox: Inbox;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.#log = new EventLog(ctx.storage.sql);
    this.#inbox = new Inbox(env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  // RPC

  /** A one-time ticket (30 s) to open a stream from a browser; it names the user, so the Worker finds this hub. */
  async issueTicket(identity: SocketIdentity, tokenHash: string) {
    const issued = await issueTicket(this.ctx.storage, identity, tokenHash);
    await this.#schedule(issued.expiresAt);
    return { ticket: `${identity.userId}.${issued.ticket}`, expiresAt: issued.expiresAt };
  }

  /** Spends a ticket (the part after the user id); null when unknown, used, expired or revoked. */
  redeemTicket(ticket: string): Promise<SocketIdentity | null> {
    return redeemTicket(this.ctx.storage, database(this.env.DB), ticket);
  }

  /** Admits an authenticated user's stream; the upgrade that follows (built by the Worker) redeems the nonce. */
  admit(identity: SocketIdentity, after: number | null): string {
    const nonce = randomToken();
    this.#admissions.set(nonce, { identity, after });
    setTimeout(() => this.#admissions.delete(nonce), 10_000);
    return nonce;
  }

  /**
   * Numbers, keeps and delivers events, in the order they arrive. `lost`: the sender failed to deliver
   * earlier events; the streams start over (their resume gets `resync`) rather than run on with a hole.
   */
  publish(events: InboxEvent[], lost = false): void {
    if (lost) {
      this.#log.skip();
      for (const ws of this.#live()) closeSocket(ws, 1011, "Some events could not be delivered; reconnect.");
    }
    const sockets = this.#live();
    for (const event of events) {
      const frame = this.#log.append(event);
      for (const ws of sockets) sendEvent(ws, frame);
    }
    // Told with no stream open: a room read presence just before the user left (nothing to do), a hub
    // cut off with its sockets (evicted) notices it is offline, or the offline write failed: write it again.
    if (!sockets.length && this.#opening.size === 0 && this.#offlineAt === null) {
      if (this.#log.online) this.#leaveSoon();
      else if (this.#log.userId) this.#recordOffline();
    }
  }

  /** Closes streams of the user or of grants (revocation, deactivation, password change). */
  disconnect(target: { userId?: number; grantIds?: string[]; code: number; reason: string }): void {
    const tags = [...(target.userId !== undefined ? [userTag(target.userId)] : []), ...(target.grantIds ?? []).map(grantTag)];
    for (const tag of tags) for (const ws of this.ctx.getWebSockets(tag)) closeSocket(ws, target.code, target.reason);
  }

  /** The user changed whether they show presence: tells their online contacts what they now see. */
  async presenceChanged(userId: number): Promise<void> {
    // In line with the hub's own presence writes, so an `online` read before the change never follows it.
    const told = this.#presence.then(async () => {
      const { view, contacts } = await presenceOf(database(this.env.DB), userId);
      await this.#tell(contacts, { type: "presence", user: userId, ...view });
    });
    this.#presence = told.catch(() => undefined);
    await told;
  }

  // Runtime hooks

  override async fetch(request: Request): Promise<Response> {
    const nonce = new URL(request.url).searchParams.get("admission") ?? "";
    const admission = this.#admissions.get(nonce);
    this.#admissions.delete(nonce);
    if (!admission || request.headers.get("Upgrade") !== "websocket") return new Response("Not admitted; reconnect.", { status: 503 });
    const { identity, after } = admission;
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [userTag(identity.userId), grantTag(identity.grantId)]);
    attach(server, { v: 1, conversationId: 0, openedAt: Date.now(), ...identity });
    supersedeOldest(this.ctx.getWebSockets(), server, config(this.env).MAX_STREAMS_PER_USER);
    this.#opening.add(server);
    this.#offlineAt = null;
    if (!this.#log.online) this.#comeOnline(identity.userId);
    this.ctx.waitUntil(this.#open(server, identity.userId, after));
    await this.#schedule();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const nextTicket = await sweepTickets(this.ctx.storage);
    for (const ws of this.ctx.getWebSockets()) {
      if ((attachmentOf(ws)?.expiresAt ?? Infinity) <= now) closeSocket(ws, CLOSE.reauthenticate, "The access token expired.");
    }
    if (this.#log.online && this.#openSockets().length === 0) {
      // A grace not in memory (evicted, or the last stream just expired here) starts now: a reconnect within it must not flicker.
      if (this.#offlineAt === null) this.#leaveSoon();
      else if (this.#offlineAt <= now) this.#goOffline();
    }
    await this.#schedule(nextTicket);
  }

  override async webSocketMessage(ws: WebSocket): Promise<void> {
    const verdict = flood.check(ws, { perSecond: config(this.env).WS_FRAMES_PER_SECOND, burst: config(this.env).WS_FRAME_BURST });
    if (verdict.kind === "flood") return closeSocket(ws, CLOSE.policy, "Too many frames.");
    const frame: StreamEvent = { type: "error", code: "unknown_type", detail: "The user stream takes no frames but `ping`." };
    sendEvent(ws, verdict.kind === "limited" ? { type: "error", code: "rate_limited", detail: `Too many frames; wait ${verdict.retryAfterSeconds} s.` } : frame);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    closeSocket(ws, code, "Closed by the client.");
    await this.#closed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#closed(ws);
  }

  // Private

  /** Open sockets (a closing one may still be listed until its close completes). */
  #openSockets(except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws !== except && ws.readyState === WebSocket.READY_STATE_OPEN);
  }

  /** Sockets past their snapshot, which get events as they are numbered. */
  #live(): WebSocket[] {
    return this.#openSockets().filter((ws) => !this.#opening.has(ws));
  }

  /** Sends what the stream needs before going live: the replay after `after`, or a snapshot. */
  async #open(ws: WebSocket, userId: number, after: number | null): Promise<void> {
    try {
      await this.#presence;
      const replayed = after === null ? null : this.#log.after(after);
      if (replayed) {
        for (const frame of replayed) sendEvent(ws, frame);
        sendEvent(ws, { type: "ready", event_seq: this.#log.lastSeq, resumed: true });
        return;
      }
      // No number on it: a client that drops before the `ready` below must not resume from here.
      if (after !== null) sendEvent(ws, { type: "resync" });
      for (;;) {
        const at = this.#log.lastSeq;
        const db = database(this.env.DB);
        const [page, online] = await Promise.all([listChats(db, userId, { unreadOnly: false, offset: 0, limit: SNAPSHOT_CHATS }), onlineContactsQuery(db, userId)]);
        // Events numbered while the snapshot was read follow it from the log, with no await in between.
        const since = this.#log.after(at);
        if (!since) continue;
        const presence = online.map((p) => ({ user: p.user, online: true, last_seen_at: p.lastSeenAt.toISOString() }));
        sendEvent(ws, { type: "ready", event_seq: at, resumed: false, chats: page.results, chats_count: page.count, presence });
        for (const frame of since) sendEvent(ws, frame);
        return;
      }
    } catch (error) {
      console.error("stream snapshot failed", error);
      closeSocket(ws, 1011, "The stream could not start; reconnect.");
    } finally {
      this.#opening.delete(ws);
    }
  }

  /** The first stream: recorded online (events after this point are complete), contacts told. */
  #comeOnline(userId: number): void {
    this.#log.goOnline(userId);
    this.#presence = this.#presence
      .then(() => this.#record(userId, true))
      .catch((error: unknown) => {
        // Rooms would not know to tell this hub: the streams start over, and their reconnect tries again.
        console.error("presence write failed", error);
        this.#log.goOffline();
        for (const ws of this.ctx.getWebSockets()) closeSocket(ws, 1011, "The stream could not start; reconnect.");
      });
  }

  #goOffline(): void {
    this.#log.goOffline();
    this.#offlineAt = null;
    this.#recordOffline();
  }

  #recordOffline(): void {
    const userId = this.#log.userId;
    this.#presence = this.#presence.then(() => this.#record(userId, false)).catch((error: unknown) => console.error("presence write failed", error));
    this.ctx.waitUntil(this.#presence);
  }

  async #record(userId: number, online: boolean): Promise<void> {
    const at = new Date();
    const { show, contacts } = await recordPresence(database(this.env.DB), userId, online, at);
    if (show) this.ctx.waitUntil(this.#tell(contacts, { type: "presence", user: userId, online, last_seen_at: at.toISOString() }));
  }

  async #closed(ws: WebSocket): Promise<void> {
    this.#opening.delete(ws);
    if (this.#openSockets(ws).length === 0 && this.#log.online) this.#leaveSoon();
    await this.#schedule();
  }

  /** Offline once the grace passes with no stream open (a reconnect within it changes nothing). */
  #leaveSoon(): void {
    this.#offlineAt = Date.now() + config(this.env).PRESENCE_GRACE_SECONDS * 1000;
    this.ctx.waitUntil(this.#schedule());
  }

  #tell(userIds: number[], event: InboxEvent): Promise<void> {
    return this.#inbox.publish(new Map(userIds.map((id) => [id, [event]])));
  }

  /** One alarm: the grace's end, the earliest token expiry among the streams, or `ticketExpiry`. */
  async #schedule(ticketExpiry = Infinity): Promise<void> {
    const next = Math.min(ticketExpiry, this.#offlineAt ?? Infinity, ...this.ctx.getWebSockets().map((ws) => attachmentOf(ws)?.expiresAt ?? Infinity));
    const current = await this.ctx.storage.getAlarm();
    if (Number.isFinite(next) && (current === null || next < current || current < Date.now())) await this.ctx.storage.setAlarm(next);
  }
}
