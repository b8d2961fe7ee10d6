import { DurableObject } from "cloudflare:workers";
import { and, asc, eq, gt, lte } from "drizzle-orm";
import type { ConversationResource } from "../conversations/schemas";
import { conversations, messages, participants, users } from "../db/schema";
import { toMessageResource } from "../messages/resource";
import type { MessageResource } from "../messages/schemas";
import { statusView } from "../messages/status";
import { bySeqRange, deleteChunk, findMessage, type Sender, type StoredMessage } from "../messages/store";
import { changeMessage, moveWatermarks } from "../messages/writes";
import { randomToken } from "../auth/secrets";
import { take } from "../limits/limits";
import { config } from "../config";
import { CLOSE, REPLAY_LIMIT, type ServerEvent, type Watermarks } from "./events";
import { handleFrame } from "./frames";
import { issueTicket, redeemTicket, sweepTickets } from "./tickets";
import { Ledger, type Committed, type SendInput, type SendResult } from "./ledger";
import { attachmentOf, closeSocket, framesFor, grantTag, sendEvent, supersedeOldest, userTag, type Attachment, type SocketIdentity } from "./sockets";

export type { SendInput, SendResult } from "./ledger";
export type SentResult = (SendResult & { ok: false }) | (SendResult & { ok: true; resource: MessageResource });

const PURGE_CHUNK = 1000;
const REPLAY_PAGE = 200;

type Buffered = { seq: number | null; send: (ws: WebSocket) => void };
const wire = (w: { userId: number; deliveredSeq: number; readSeq: number }): Watermarks => ({ user: w.userId, delivered_up_to: w.deliveredSeq, read_up_to: w.readSeq });
const plain = (m: StoredMessage) => toMessageResource(m, statusView(m.senderId, []));

/**
 * One per conversation: the single writer of its message order (see Ledger) and the hub of its
 * WebSockets (hibernation API). Events go out strictly in seq order; a socket still replaying history
 * buffers live events and switches to live with no await in between, so it sees no gap and no duplicate.
 */
export class ConversationRoom extends DurableObject<Cloudflare.Env> {
  readonly ledger: Ledger;
  readonly #replaying = new Map<WebSocket, Buffered[]>();
  readonly senders = new Map<number, Sender>();
  readonly #admissions = new Map<string, { conversationId: number; identity: SocketIdentity; after: number; afterChange: number | null }>();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    // Answered by the runtime without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.ledger = new Ledger(ctx, env, () => this.#connectedUsers(), (batch) => this.#committed(batch));
  }

  async lastSeq(conversationId: number): Promise<number> {
    return (await this.ledger.load(conversationId)) ?? 0;
  }

  /**
   * Stores a message for a participant; the answer carries the resource as its sender sees it. Membership
   * is read from the room's watermarks (loaded from D1, kept current by the participant notifications),
   * so a send costs the Worker no D1 read of its own.
   */
  async send(input: SendInput): Promise<SentResult> {
    if ((await this.ledger.load(input.conversationId)) === null || !this.ledger.marks.has(input.sender.id)) {
      return { ok: false, status: 404, detail: "No such conversation." };
    }
    this.senders.set(input.sender.id, input.sender);
    const result = await this.ledger.send(input);
    if (!result.ok) return result;
    return { ...result, resource: toMessageResource(result.message, statusView(input.sender.id, [...this.ledger.marks.values()])) };
  }

  /** Edits or tombstones a message (the caller checked who may); null when it is gone or already deleted. */
  async change(conversationId: number, messageId: number, change: { body: string; editedAt?: Date; deleted?: boolean }): Promise<StoredMessage | null> {
    const db = this.ledger.db;
    await this.ledger.load(conversationId);
    if (!(await changeMessage(db, conversationId, messageId, change))) return null;
    const message = (await findMessage(db, conversationId, messageId)) ?? null;
    if (message) this.#broadcastMessage(change.deleted ? "message.deleted" : "message.updated", message);
    return message;
  }

  /** Moves a participant's receipt watermarks forward and tells the room; null for a non-participant. */
  async receipt(conversationId: number, userId: number, deliveredUpTo: number, readUpTo: number) {
    await this.ledger.load(conversationId);
    const marks = await moveWatermarks(this.ledger.db, conversationId, userId, deliveredUpTo, readUpTo, new Date());
    if (marks) {
      const previous = this.ledger.marks.get(userId);
      this.ledger.marks.set(userId, { userId, ...marks });
      if (previous?.deliveredSeq !== marks.deliveredSeq || previous?.readSeq !== marks.readSeq) {
        this.#broadcast({ type: "receipt", ...wire({ userId, ...marks }) });
      }
    }
    return marks;
  }

  /** A one-time ticket (30 s) for a browser to open a socket without putting a token in a URL. */
  async issueTicket(identity: SocketIdentity, tokenHash: string) {
    const issued = await issueTicket(this.ctx.storage, identity, tokenHash);
    // Never redeemed, it would stay in storage forever: the alarm sweeps it once it expires.
    await this.#scheduleExpiry(issued.expiresAt);
    return issued;
  }

  /** Spends a ticket; null when unknown, used, expired, or its access token is no longer live. */
  redeemTicket(ticket: string) {
    return redeemTicket(this.ctx.storage, this.ledger.db, ticket);
  }

  /**
   * Admits an authenticated participant: the identity arrives here as typed RPC arguments, and the
   * upgrade that follows (`fetch`, built by the Worker, never by the client) redeems the returned nonce.
   */
  async admit(conversationId: number, identity: SocketIdentity, after: number, afterChange: number | null): Promise<string> {
    const nonce = randomToken();
    this.#admissions.set(nonce, { conversationId, identity, after, afterChange });
    setTimeout(() => this.#admissions.delete(nonce), 10_000);
    return nonce;
  }

  /** The WebSocket upgrade for an admission; replays what the client missed, then goes live. */
  override async fetch(request: Request): Promise<Response> {
    const nonce = new URL(request.url).searchParams.get("admission") ?? "";
    const admission = this.#admissions.get(nonce);
    this.#admissions.delete(nonce);
    if (!admission || request.headers.get("Upgrade") !== "websocket") return new Response("Not admitted; reconnect.", { status: 503 });
    const { conversationId, identity, after, afterChange } = admission;
    await this.ledger.load(conversationId);
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [userTag(identity.userId), grantTag(identity.grantId)]);
    server.serializeAttachment({ v: 1, conversationId, openedAt: Date.now(), ...identity } satisfies Attachment);
    supersedeOldest(this.ctx.getWebSockets(userTag(identity.userId)), server, config(this.env).MAX_SOCKETS_PER_CONVERSATION);
    this.#replaying.set(server, []);
    this.ctx.waitUntil(this.#replay(server, conversationId, after, afterChange));
    await this.#scheduleExpiry();
    return new Response(null, { status: 101, webSocket: client });
  }

  async #replay(ws: WebSocket, conversationId: number, after: number, afterChange: number | null): Promise<void> {
    const db = this.ledger.db;
    try {
      const top = this.ledger.lastSeq ?? 0;
      // A client cannot have seen past the last message; a larger after_seq would hide live ones.
      let sent = Math.min(after, top);
      if (top - after > REPLAY_LIMIT) {
        sendEvent(ws, { type: "resync", last_seq: top });
        sent = top;
      }
      const catchUp = async () => {
        while (sent < (this.ledger.lastSeq ?? 0)) {
          // Capped at the committed counter: a row whose flush has not returned yet goes out live, not twice.
          const rows = await bySeqRange(db, conversationId, sent, Math.min(sent + REPLAY_PAGE, this.ledger.lastSeq ?? 0));
          if (rows.length === 0) break;
          for (const m of rows) sendEvent(ws, framesFor("message.created", plain(m), this.ledger.marks)(attachmentOf(ws)!.userId));
          sent = rows.at(-1)!.seq;
        }
      };
      await catchUp();
      // Edits and deletes of older messages made while the client was away, in change order.
      const [conversation, changed] = await db.batch([
        db.select({ changeSeq: conversations.changeSeq }).from(conversations).where(eq(conversations.id, conversationId)),
        db.select({ id: messages.id }).from(messages).where(and(eq(messages.conversationId, conversationId), lte(messages.seq, after), gt(messages.changeSeq, afterChange ?? Number.MAX_SAFE_INTEGER))).orderBy(asc(messages.changeSeq)).limit(REPLAY_LIMIT),
      ]);
      for (const { id } of changed) {
        const m = await findMessage(db, conversationId, id);
        if (m) sendEvent(ws, framesFor(m.deleted ? "message.deleted" : "message.updated", plain(m), this.ledger.marks)(attachmentOf(ws)!.userId));
      }
      await catchUp();
      // From here to the end there is no await: the switch to live cannot interleave with a flush.
      const receipts = [...this.ledger.marks.values()].map(wire);
      sendEvent(ws, { type: "ready", last_seq: sent, change_seq: conversation[0]?.changeSeq ?? 0, receipts });
      for (const event of this.#replaying.get(ws) ?? []) if (event.seq === null || event.seq > sent) event.send(ws);
      this.#replaying.delete(ws);
    } catch (error) {
      console.error("replay failed", error);
      this.#replaying.delete(ws);
      closeSocket(ws, 1011, "Replay failed; reconnect with after_seq.");
    }
  }

  #sockets(): WebSocket[] {
    return this.ctx.getWebSockets();
  }

  #connectedUsers(): number[] {
    return [...new Set(this.#sockets().filter((ws) => !this.#replaying.has(ws)).map((ws) => attachmentOf(ws)?.userId).filter((id): id is number => id !== undefined))];
  }

  /** Sends to live sockets, buffers for replaying ones (`seq` lets the switch drop what replay covered). */
  #deliver(send: (ws: WebSocket, viewerId: number) => void, seq: number | null = null, except?: WebSocket): void {
    for (const ws of this.#sockets()) {
      if (ws === except) continue;
      const a = attachmentOf(ws);
      if (!a) continue;
      const buffer = this.#replaying.get(ws);
      if (buffer) buffer.push({ seq, send: (s) => send(s, a.userId) });
      else send(ws, a.userId);
    }
  }

  #broadcast(event: ServerEvent, except?: WebSocket): void {
    const frame = JSON.stringify(event);
    this.#deliver((ws) => sendEvent(ws, frame), null, except);
  }

  #broadcastMessage(type: "message.created" | "message.updated" | "message.deleted", m: StoredMessage): void {
    const frames = framesFor(type, plain(m), this.ledger.marks);
    this.#deliver((ws, viewer) => sendEvent(ws, frames(viewer)), type === "message.created" ? m.seq : null);
  }

  #committed({ messages: created, delivered }: Committed): void {
    for (const m of created) this.#broadcastMessage("message.created", m);
    // One combined event per flush instead of one per member per message.
    if (delivered.length) this.#broadcast({ type: "receipts", receipts: delivered.map(wire) });
  }

  /** The sender as messages show it, cached: a WebSocket send carries only the user id. */
  async senderOf(userId: number): Promise<Sender> {
    let sender = this.senders.get(userId);
    if (!sender) {
      const row = await this.ledger.db.select({ id: users.id, firstName: users.firstName, lastName: users.lastName }).from(users).where(eq(users.id, userId)).get();
      sender = row ?? { id: userId, firstName: "", lastName: "" };
      this.senders.set(userId, sender);
    }
    return sender;
  }

  /** The per-user send limit, shared with REST sends; seconds to wait, or null when allowed. */
  async sendLimit(userId: number): Promise<number | null> {
    const { decision } = await take(this.env, "send", `user:${userId}`);
    return decision.allowed ? null : decision.retryAfterSeconds;
  }

  typing(ws: WebSocket, userId: number, until: string): void {
    this.#broadcast({ type: "typing", user: userId, until }, ws);
  }

  /** After a commit elsewhere: a participant joined (its watermarks start at last_seq). */
  async participantAdded(conversationId: number, userId: number): Promise<void> {
    const lastSeq = (await this.ledger.load(conversationId)) ?? 0;
    this.ledger.marks.set(userId, { userId, deliveredSeq: lastSeq, readSeq: lastSeq });
    this.#broadcast({ type: "participant.added", user: userId });
  }

  /** After a commit elsewhere: a participant left or was removed; its sockets close with 4003. */
  async participantRemoved(_conversationId: number, userId: number): Promise<void> {
    this.ledger.marks.delete(userId);
    this.disconnect({ userId, code: CLOSE.gone, reason: "You are no longer a participant." });
    this.#broadcast({ type: "participant.removed", user: userId });
  }

  async conversationUpdated(conversation: ConversationResource): Promise<void> {
    this.#broadcast({ type: "conversation.updated", conversation });
  }

  /** Closes the sockets of a user or of grants (revocation, deactivation, password change). */
  disconnect(target: { userId?: number; grantIds?: string[]; code: number; reason: string }): void {
    const tags = [...(target.userId !== undefined ? [userTag(target.userId)] : []), ...(target.grantIds ?? []).map(grantTag)];
    for (const tag of tags) for (const ws of this.ctx.getWebSockets(tag)) closeSocket(ws, target.code, target.reason);
  }

  /**
   * One alarm per room: the earliest token expiry among its sockets, or `ticketExpiry` (the earliest
   * unredeemed ticket's) if sooner; the purge, when one is under way, wins.
   */
  async #scheduleExpiry(ticketExpiry = Infinity): Promise<void> {
    if (await this.ctx.storage.get("purge")) return;
    const expiries = this.#sockets().map((ws) => attachmentOf(ws)?.expiresAt ?? Infinity);
    const next = Math.min(ticketExpiry, ...expiries);
    const current = await this.ctx.storage.getAlarm();
    if (Number.isFinite(next) && (current === null || next < current)) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Deletes the conversation: membership goes at once (everyone gets 404 from then on), sockets close,
   * and messages follow in chunks from the alarm so a long history never exceeds one request's limits.
   */
  async purge(conversationId: number): Promise<void> {
    await this.ledger.db.delete(participants).where(eq(participants.conversationId, conversationId));
    // Reloaded on the next send, with no members left: every later send is a 404.
    this.ledger.lastSeq = null;
    for (const ws of this.#sockets()) closeSocket(ws, CLOSE.gone, "The conversation was deleted.");
    await this.ctx.storage.put("purge", conversationId);
    await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const conversationId = await this.ctx.storage.get<number>("purge");
    if (conversationId === undefined) {
      const nextTicket = await sweepTickets(this.ctx.storage);
      for (const ws of this.#sockets()) {
        if ((attachmentOf(ws)?.expiresAt ?? Infinity) <= Date.now()) closeSocket(ws, CLOSE.reauthenticate, "The access token expired.");
      }
      return this.#scheduleExpiry(nextTicket);
    }
    const db = this.ledger.db;
    if ((await deleteChunk(db, conversationId, PURGE_CHUNK)) > 0) return this.ctx.storage.setAlarm(Date.now());
    await db.delete(conversations).where(eq(conversations.id, conversationId));
    this.ledger.lastSeq = null;
    await this.ctx.storage.deleteAll();
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    await handleFrame(this, ws, data);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.#replaying.delete(ws);
    closeSocket(ws, code, "Closed by the client.");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#replaying.delete(ws);
  }
}
