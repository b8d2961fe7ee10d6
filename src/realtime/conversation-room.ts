import { DurableObject } from "cloudflare:workers";
import { randomToken } from "../auth/secrets";
import { listChats } from "../chats/chats";
import { config } from "../config";
import { addParticipant, changeConversation, mutedUntil, removeParticipant, type ConversationChanges } from "../conversations/membership";
import type { ConversationResource } from "../conversations/schemas";
import { database, type Database } from "../db/client";
import { shardWriteSession, writeSession, type WrittenBookmarks } from "../db/sessions";
import { shardAt, type Shard } from "../db/shards";
import { DomainError } from "../errors";
import { policy } from "../limits/limits";
import type { Policy } from "../limits/rate-limiter";
import type { OnlineRow } from "../presence/presence";
import { toMessageResource } from "../messages/resource";
import { hideBlocked } from "../messages/blocked";
import type { MessageResource } from "../messages/schemas";
import { statusView } from "../messages/status";
import { MAX_PINS, MAX_REACTION_EMOJI } from "../messages/limits";
import { mentionedIds } from "../messages/mentions";
import { fileReport } from "../moderation/store";
import { blocksBetween, refuseIfBlockedBy } from "../users/blocks";
import { DELETED_NAME } from "../users/users";
import type { ReportRow } from "../db/schema";
import { changeMessage, findMessage, dueToExpire, liveMessagesOf, nextExpiry, pin, react, removeReactionsOf, tombstoneMessages, type Change, type MarkWrite, type Sender, type StoredMessage } from "../messages/store";
import { lastMessageChanged, mentionsForgotten, mentionsRecorded, moveWatermarks } from "../messages/writes";
import { onlineAmong } from "../presence/presence";
import { attach, attachmentOf, closeSocket, grantTag, supersedeOldest, userTag, type SocketIdentity } from "./connections";
import { Fanout } from "./fanout";
import { Inbox, introductions, summary } from "./inbox";
import { Ledger, type Audience, type SendResult } from "./ledger";
import { MarkQueue } from "./mark-queue";
import { attachable, stored } from "../attachments/store";
import { removeMessageAttachments } from "../attachments/removal";
import type { StoredAttachment } from "../db/shard-schema";
import { fail, ok, type Failure, type Limit, type Outcome } from "./outcome";
import { CLOSE, TYPING_SECONDS } from "./protocol";
import { purgeStep, purging, startPurge } from "./purge";
import { replay } from "./replay";
import { SendLimits } from "./send-limits";
import { SenderNames } from "./sender-names";
import { CheckedTokens } from "./checked-tokens";
import { accessByHash } from "../auth/oauth/tokens";
import { refusalOf, type AuthContext } from "../http/auth-context";
import type { InboxEvent } from "./stream-protocol";
import { handleFrame, type FrameActions } from "./socket-frames";
import { ConversationState } from "./state";
import { issueTicket, redeemTicket, sweepTickets } from "./tickets";
import { enqueue, type Job } from "../deliveries/jobs";
import { notificationJobs } from "../push/notification";
import { dispatchWebhooks, webhookEvent, webhookJobs, type WebhookEventType } from "../webhooks/events";
import { batch } from "../db/compiled";

const NO_CONVERSATION = "No such conversation.";
/** Storage key: the conversation whose disappearing messages the alarm tombstones, and when the next is due. */
const EXPIRING = "expiring";
type Expiring = { conversationId: number; at: number };
/** Disappearing messages tombstoned per alarm step (one shard batch); more due make the next step come at once. */
const EXPIRE_CHUNK = 50;
/** Storage key: deleted accounts whose messages here the alarm tombstones, a chunk a step, one account after another. */
const ERASING = "erasing";
type Erasing = { conversationId: number; users: number[] };
const ERASE_CHUNK = 100;
// The same words whether the message is missing or the caller is a stranger to its conversation.
const NO_MESSAGE = "No such message.";

/** A REST request's access token as a route hands it over: its hash, and the scopes the route needs. */
export type TokenCheck = { hash: string; scopes: readonly string[] };

/**
 * The answer to a REST call whose token the room checked (see CheckedTokens): who the token names (null:
 * nobody), and the call's outcome, absent when the token was refused (see refusalOf) and nothing was done.
 */
export type Checked<T> = { access: AuthContext | null; outcome?: Outcome<T> };

/** A send as a route hands it over, with the limit's policy from the Worker's configuration. */
export type SendRequest = {
  body: string;
  clientMessageId: string | null;
  replyTo: number | null;
  attachments: string[];
  limit: Policy;
};
type Admission = { identity: SocketIdentity; after: number | null; afterChange: number | null };

/**
 * One per conversation, and the only writer of it: it checks membership and permissions from the
 * state it loaded (owner, members, watermarks), writes D1, then broadcasts, in one order. Its RPC
 * surface is the methods below `// RPC`; everything else is private or a runtime hook.
 */
export class ConversationRoom extends DurableObject<Cloudflare.Env> {
  #state: ConversationState | null = null;
  #ledger: Ledger | null = null;
  readonly #fanout = new Fanout(
    () => this.ctx.getWebSockets(),
    (viewer) => this.#state?.blockedBy(viewer) ?? new Set(),
  );
  readonly #admissions = new Map<string, Admission>();
  readonly #names = new SenderNames();
  readonly #tokens = new CheckedTokens(async (hash) => {
    const access = await accessByHash(database(this.env.DB), hash);
    // Read fresh with the token: the sender's names as they are now.
    if (access) this.#names.remember({ id: access.userId, firstName: access.user.firstName, lastName: access.user.lastName });
    return access;
  });
  readonly #limits = new SendLimits(this.env);
  readonly #inbox = new Inbox(this.env);
  readonly #marks = new MarkQueue(this.env, () => this.#state!.shard!.index);
  /** Uploads named by sends queued or made here (see #queueSend). */
  readonly #claimed = new Set<string>();
  /** Membership changes run one at a time: each checks the state the one before left. */
  #serial: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    // Answered by the runtime without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  // RPC

  /** Stores a message from a participant; the resource is as its sender sees it. */
  send(conversationId: number, token: TokenCheck, request: SendRequest): Promise<Checked<{ message: MessageResource; created: boolean; limit: Limit }>> {
    return this.#as(conversationId, token, async (userId) => {
      const prepared = await this.#prepareSend(conversationId, userId, request.limit);
      if ("ok" in prepared) return prepared;
      const result = await this.#queueSend(prepared.sender, request.body, request.clientMessageId, request.replyTo, request.attachments);
      if (!result.ok) return result;
      const value = { message: this.#resource(result.message, userId), created: result.created, limit: prepared.limit };
      return { ok: true, value, ...(result.bookmarks && { bookmarks: result.bookmarks }) };
    });
  }

  /** Edits a message; only its sender may. */
  async edit(conversationId: number, userId: number, messageId: number, body: string): Promise<Outcome<MessageResource>> {
    await this.#loaded(conversationId);
    return this.#change(conversationId, userId, messageId, { kind: "edit", body, mentions: this.#mentions(body) });
  }

  /** Tombstones a message (it keeps its seq); its sender or the owner may. Deleting it again is fine. */
  async deleteMessage(conversationId: number, userId: number, messageId: number): Promise<Outcome<null>> {
    const state = await this.#loaded(conversationId);
    const changed = await this.#change(conversationId, userId, messageId, { kind: "delete", by: state.ownerId === userId ? "owner" : "sender" });
    return changed.ok ? { ...changed, value: null } : changed;
  }

  /**
   * A participant reports someone else's live message to the moderators, with a copy of what it says now;
   * reporting it again answers the first report.
   */
  async report(conversationId: number, userId: number, messageId: number, reason: string): Promise<Outcome<{ report: ReportRow; created: boolean }>> {
    return this.#outcome(async () => {
      const state = await this.#member(conversationId, userId, NO_MESSAGE);
      const message = await findMessage(state.shard!, conversationId, messageId);
      if (!message) throw new DomainError(404, NO_MESSAGE);
      if (message.deleted) throw new DomainError(409, "The message has been deleted.");
      if (message.senderId === userId) throw new DomainError(400, "You can't report your own message; delete it instead.");
      return fileReport(database(this.env.DB), { conversationId, messageId, seq: message.seq, senderId: message.senderId, body: message.body, reporterId: userId, reason });
    });
  }

  /** A moderator tombstones a message (`deleted_by: "moderator"`), whoever sent it; deleting it again is fine. */
  async moderatorDelete(conversationId: number, messageId: number): Promise<Outcome<MessageResource>> {
    return this.#change(conversationId, 0, messageId, { kind: "delete", by: "moderator" });
  }

  /** A REST receipt: `receipt` as the token's user. */
  receiptAs(conversationId: number, token: TokenCheck, deliveredUpTo: number, readUpTo: number) {
    return this.#as(conversationId, token, (userId) => this.receipt(conversationId, userId, deliveredUpTo, readUpTo));
  }

  /** Moves a participant's watermarks forward (never back, never past the last message). */
  async receipt(conversationId: number, userId: number, deliveredUpTo: number, readUpTo: number) {
    const { session, written } = writeSession("DB", this.env.DB);
    const outcome = await this.#outcome(async () => {
      const state = await this.#member(conversationId, userId, NO_CONVERSATION);
      const before = state.members.get(userId)!;
      const marks = await moveWatermarks(database(session), conversationId, userId, { deliveredUpTo, readUpTo, lastSeq: state.lastSeq }, new Date());
      if (!marks) throw new DomainError(404, NO_CONVERSATION);
      state.mark({ userId, ...marks });
      this.#fanout.progress(state.progress());
      // The user's other devices clear their unread badges.
      if (marks.online && (marks.readSeq > before.readSeq || marks.deliveredSeq > before.deliveredSeq)) {
        const unread = Math.max(0, state.lastSeq - marks.readSeq);
        const receipt: InboxEvent = { type: "receipt", conversation_id: conversationId, delivered_seq: marks.deliveredSeq, read_seq: marks.readSeq, unread_count: unread, mentions: marks.mentions };
        this.#afterwards(this.#inbox.publish(new Map([[userId, [receipt]]])));
      }
      return { user: userId, delivered_up_to: marks.deliveredSeq, read_up_to: marks.readSeq };
    });
    return outcome.ok ? { ...outcome, bookmarks: written() } : outcome;
  }

  /**
   * Adds (or removes) the participant's reaction with `emoji` (one emoji, normalized by the route) to a
   * message; doing it twice changes nothing. Sockets get `reaction.added` / `reaction.removed`.
   */
  async react(conversationId: number, userId: number, messageId: number, emoji: string, add: boolean): Promise<Outcome<MessageResource>> {
    return this.#annotate(conversationId, userId, messageId, (shard) => react(shard, conversationId, messageId, userId, emoji, add, MAX_REACTION_EMOJI), (message, changed) => {
      if (!changed) {
        if (add && !message.reactions.some((r) => r.emoji === emoji && r.users.includes(userId))) {
          throw new DomainError(409, `A message takes at most ${MAX_REACTION_EMOJI} different reactions; use one it has.`);
        }
        return;
      }
      const count = message.reactions.find((r) => r.emoji === emoji)?.users.length ?? 0;
      this.#fanout.broadcast({ type: add ? "reaction.added" : "reaction.removed", message_id: message.id, seq: message.seq, emoji, user: userId, count });
    });
  }

  /** Any participant pins (or unpins) a message; doing it twice changes nothing. Sockets get `message.pinned` / `message.unpinned`. */
  async pin(conversationId: number, userId: number, messageId: number, on: boolean): Promise<Outcome<MessageResource>> {
    return this.#annotate(conversationId, userId, messageId, (shard) => pin(shard, conversationId, messageId, userId, on, MAX_PINS), (message, changed) => {
      if (!changed) {
        if (on && message.pinnedAt === null) throw new DomainError(409, `A conversation keeps at most ${MAX_PINS} pinned messages; unpin one first.`);
        return;
      }
      this.#fanout.message(on ? "message.pinned" : "message.unpinned", message, this.#state!.watermarks());
    });
  }

  /** The owner adds an active user. */
  addParticipant(conversationId: number, actorId: number, userId: number): Promise<Outcome<ConversationResource>> {
    return this.#exclusive(conversationId, async (db) => {
      const state = await this.#member(conversationId, actorId, NO_CONVERSATION);
      // Asked only when the add could go ahead otherwise (the owner, someone new), so its 403/409 come first.
      if (state.ownerId === actorId && !state.isMember(userId)) await refuseIfBlockedBy(db, actorId, [userId]);
      const added = await addParticipant(db, state, actorId, userId);
      // The newcomer's blocks with the members, so what each is shown of the other is right from the start.
      for (const b of await blocksBetween(db, userId, [...state.members.keys()])) state.block(b.blocker, b.blocked, true);
      state.members.set(userId, { userId, deliveredSeq: added.lastSeq, readSeq: added.lastSeq, joinedAt: added.joinedAt });
      // A token read while the newcomer was not a member could predate a revocation the room never heard of.
      this.#tokens.forget({});
      this.#fanout.broadcast({ type: "participant.added", user: userId });
      this.#webhook("participant.added", state.lastSeq, { user: userId });
      await this.#tellAdded(added.conversation, userId, added.online);
      return added.conversation;
    });
  }

  /** The owner removes anyone, anyone removes themself; the removed user's sockets close with 4003. */
  removeParticipant(conversationId: number, actorId: number, userId: number): Promise<Outcome<null>> {
    return this.#exclusive(conversationId, async (db) => {
      await this.#removed(db, await this.#member(conversationId, actorId, NO_CONVERSATION), actorId, userId);
      return null;
    });
  }

  /**
   * Any participant renames the conversation (or clears its title); the owner turns disappearing messages
   * on or off (for messages sent from then on). Everyone hears `conversation.updated`.
   */
  change(conversationId: number, actorId: number, changes: ConversationChanges): Promise<Outcome<ConversationResource>> {
    return this.#exclusive(conversationId, async (db) => {
      const state = await this.#member(conversationId, actorId, NO_CONVERSATION);
      const { conversation, online } = await changeConversation(db, state, actorId, changes);
      state.messageTtlSeconds = conversation.message_ttl_seconds;
      this.#fanout.broadcast({ type: "conversation.updated", conversation });
      this.#queue(online, () => [{ type: "conversation.updated", conversation }]);
      this.#webhook("conversation.updated", state.lastSeq, { conversation });
      return conversation;
    });
  }

  /**
   * A member blocked (or unblocked) another: from now on the room shows the blocker placeholders for the
   * other's messages (REST reads learn it from the blocker's token). A room not loaded learns it when it loads.
   */
  blocksChanged(conversationId: number, blocker: number, blocked: number, on: boolean): void {
    if (this.#state?.conversationId === conversationId && this.#state.loaded) this.#state.block(blocker, blocked, on);
  }

  /** A participant mutes the conversation's push notifications until a time (null: unmutes); mentions still notify. */
  async mute(conversationId: number, userId: number, until: Date | null): Promise<Outcome<{ muted_until: string | null }>> {
    return this.#outcome(async () => {
      await this.#member(conversationId, userId, NO_CONVERSATION);
      await mutedUntil(database(this.env.DB), conversationId, userId, until);
      return { muted_until: until?.toISOString() ?? null };
    });
  }

  /**
   * The owner deletes the conversation: membership goes at once (everyone gets 404 from then on), sockets
   * close, and messages follow in chunks from the alarm so a long history never exceeds one request's limits.
   */
  deleteConversation(conversationId: number, actorId: number): Promise<Outcome<null>> {
    return this.#exclusive(conversationId, async (db) => {
      const state = await this.#member(conversationId, actorId, NO_CONVERSATION);
      if (state.ownerId !== actorId) throw new DomainError(403, "Only the owner deletes a conversation.");
      await this.#purge(db, state);
      return null;
    });
  }

  /**
   * A deleted account: it leaves the conversation as leaving does (the owner's role passes on; a conversation
   * it was the last member of is deleted), and the alarm tombstones its messages here, a chunk a step.
   * Its sender name is now the deleted one. Asking again is harmless.
   */
  forgetUser(conversationId: number, userId: number): Promise<Outcome<null>> {
    return this.#exclusive(conversationId, async (db) => {
      const state = await this.#loaded(conversationId);
      if (!state.exists) throw new DomainError(404, NO_CONVERSATION);
      this.#names.remember({ id: userId, ...DELETED_NAME });
      if (state.isMember(userId) && state.members.size === 1) {
        await this.#purge(db, state);
        return null;
      }
      if (state.isMember(userId)) await this.#removed(db, state, userId, userId);
      const erasing = (await this.ctx.storage.get<Erasing>(ERASING)) ?? { conversationId, users: [] };
      if (!erasing.users.includes(userId)) erasing.users.push(userId);
      await this.ctx.storage.put(ERASING, erasing);
      await this.#scheduleAlarm();
      return null;
    });
  }

  /** A one-time ticket (30 s) for a participant's browser to open a socket without a token in a URL. */
  async issueTicket(conversationId: number, identity: SocketIdentity, tokenHash: string) {
    return this.#outcome(async () => {
      await this.#member(conversationId, identity.userId, NO_CONVERSATION);
      const issued = await issueTicket(this.ctx.storage, identity, tokenHash);
      // Never redeemed, it would stay in storage forever: the alarm sweeps it once it expires.
      await this.#scheduleAlarm(issued.expiresAt);
      return issued;
    });
  }

  /** Spends a ticket; null when unknown, used, expired, or its access token is no longer live. */
  redeemTicket(ticket: string): Promise<SocketIdentity | null> {
    return redeemTicket(this.ctx.storage, database(this.env.DB), ticket);
  }

  /**
   * Admits an authenticated participant: the identity arrives as typed RPC arguments, and the upgrade
   * that follows (`fetch`, built by the Worker, never by the client) redeems the returned nonce.
   */
  async admit(conversationId: number, identity: SocketIdentity, after: number | null, afterChange: number | null): Promise<Outcome<string>> {
    return this.#outcome(async () => {
      await this.#member(conversationId, identity.userId, NO_CONVERSATION);
      const nonce = randomToken();
      this.#admissions.set(nonce, { identity, after, afterChange });
      setTimeout(() => this.#admissions.delete(nonce), 10_000);
      return nonce;
    });
  }

  /** Closes the sockets of a user or of grants (revocation, deactivation, password change, removal), and forgets their tokens. */
  disconnect(target: { userId?: number; grantIds?: string[]; code: number; reason: string }): void {
    this.#tokens.forget(target);
    const tags = [...(target.userId !== undefined ? [userTag(target.userId)] : []), ...(target.grantIds ?? []).map(grantTag)];
    for (const tag of tags) for (const ws of this.ctx.getWebSockets(tag)) closeSocket(ws, target.code, target.reason);
  }

  // Runtime hooks

  /** The WebSocket upgrade for an admission; replays what the client missed, then goes live. */
  override async fetch(request: Request): Promise<Response> {
    const nonce = new URL(request.url).searchParams.get("admission") ?? "";
    const admission = this.#admissions.get(nonce);
    this.#admissions.delete(nonce);
    const state = this.#state;
    if (!admission || !state?.exists || request.headers.get("Upgrade") !== "websocket") return new Response("Not admitted; reconnect.", { status: 503 });
    const { identity, after, afterChange } = admission;
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [userTag(identity.userId), grantTag(identity.grantId)]);
    attach(server, { v: 1, conversationId: state.conversationId, openedAt: Date.now(), ...identity });
    supersedeOldest(this.ctx.getWebSockets(userTag(identity.userId)), server, config(this.env).MAX_SOCKETS_PER_CONVERSATION);
    this.#fanout.replaying.set(server, []);
    this.ctx.waitUntil(replay(server, state, (rows) => this.#names.join(database(this.env.DB), rows), this.#fanout, after ?? state.lastSeq, afterChange));
    await this.#scheduleAlarm();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async alarm(): Promise<void> {
    const purge = await purging(this.ctx.storage);
    if (purge === undefined) {
      const nextTicket = await sweepTickets(this.ctx.storage);
      for (const ws of this.ctx.getWebSockets()) {
        if ((attachmentOf(ws)?.expiresAt ?? Infinity) <= Date.now()) closeSocket(ws, CLOSE.reauthenticate, "The access token expired.");
      }
      const expiring = await this.ctx.storage.get<Expiring>(EXPIRING);
      if (expiring && expiring.at <= Date.now()) await this.#expire(expiring.conversationId);
      const erasing = await this.ctx.storage.get<Erasing>(ERASING);
      if (erasing) await this.#erase(erasing);
      return this.#scheduleAlarm(nextTicket);
    }
    if (await purgeStep(this.ctx.storage, database(this.env.DB), this.env.ATTACHMENTS, shardAt(this.env, purge.shard), purge.conversationId)) this.#state = null;
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const a = attachmentOf(ws);
    if (a) await this.#loaded(a.conversationId);
    await handleFrame(ws, data, this.#frameActions);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.#fanout.replaying.delete(ws);
    closeSocket(ws, code, "Closed by the client.");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#fanout.replaying.delete(ws);
  }

  // Private

  /** Removes a participant (see removeParticipant in membership.ts), then tells sockets, streams and webhooks. */
  async #removed(db: Database, state: ConversationState, actorId: number, userId: number): Promise<void> {
    const conversationId = state.conversationId;
    const removed = await removeParticipant(db, state, actorId, userId);
    state.ownerId = removed.ownerId;
    state.members.delete(userId);
    this.disconnect({ userId, code: CLOSE.gone, reason: "You are no longer a participant." });
    this.#fanout.broadcast({ type: "participant.removed", user: userId });
    this.#webhook("participant.removed", state.lastSeq, { user: userId }, [...state.members.keys(), userId]);
    this.#fanout.progress(state.progress());
    this.#queue(removed.online, (id) =>
      id === userId ? [{ type: "conversation.removed", conversation_id: conversationId }] : [{ type: "conversation.updated", conversation: removed.conversation }],
    );
  }

  /** Deletes the conversation: membership at once, messages and files from the alarm (see purge.ts). */
  async #purge(db: Database, state: ConversationState): Promise<void> {
    const conversationId = state.conversationId;
    await startPurge(this.ctx.storage, db, { conversationId, shard: state.shard!.index });
    state.exists = false;
    for (const ws of this.ctx.getWebSockets()) closeSocket(ws, CLOSE.gone, "The conversation was deleted.");
    this.#webhook("conversation.deleted", state.lastSeq, {});
    // Read after the purge began (its batch is the storage module's), so one more read; a failure is only logged.
    const removed = await this.#inbox.addressed(database(this.env.DB), [...state.members.keys()], () => ({ type: "conversation.removed", conversation_id: conversationId })).catch(
      (error: unknown) => (console.error("inbox notification failed", error), new Map<number, InboxEvent[]>()),
    );
    this.#afterwards(this.#inbox.publish(removed));
  }

  /** The conversation's state, loaded from D1 once (under the input gate, so nothing sees it half-loaded). */
  async #loaded(conversationId: number): Promise<ConversationState> {
    if (this.#state?.conversationId !== conversationId) {
      const state = new ConversationState(conversationId);
      this.#state = state;
      this.#ledger = new Ledger(this.env, state, () => database(this.env.DB), () => this.#loaded(conversationId).then(() => undefined), {
        connectedUsers: () => this.#fanout.liveUsers(),
        committed: (messages) => this.#committed(messages),
        recorded: (messages, audience) => this.#recorded(messages, audience),
        senders: async (ids) => new Map(await Promise.all(ids.map(async (id) => [id, await this.#names.of(database(this.env.DB), id)] as const))),
      });
    }
    const state = this.#state;
    // A conversation not found is looked up again next time: a request for an id may reach its room
    // before the Worker creates the conversation (ids are predictable), and must not be remembered.
    const stale = () => !state.loaded || !state.exists;
    if (stale()) {
      let failure: unknown;
      // Errors are rethrown outside: a throw inside blockConcurrencyWhile would reset the object.
      await this.ctx.blockConcurrencyWhile(async () => {
        if (stale()) {
          await state.load(database(this.env.DB), (index) => shardAt(this.env, index)).catch((error: unknown) => (failure = error));
          // Members are new to the room: no token read before they were is kept (see addParticipant).
          this.#tokens.forget({});
        }
      });
      if (failure) throw failure;
    }
    return state;
  }

  /**
   * Runs a REST call as its token's user once the token is checked (see CheckedTokens): a member's token
   * is read once and then remembered, so the call costs the client no round trip of its own for it. The
   * token comes first, so a refused one costs no load of the conversation; a token read while the room
   * has no loaded state is not remembered (the next call reads it again).
   */
  async #as<T>(conversationId: number, token: TokenCheck, run: (userId: number) => Promise<Outcome<T>>): Promise<Checked<T>> {
    const member = (userId: number) => this.#state?.conversationId === conversationId && this.#state.loaded && this.#state.isMember(userId);
    const access = await this.#tokens.check(token.hash, (a) => member(a.userId));
    if (!access || refusalOf(access, token.scopes)) return { access };
    return { access, outcome: await run(access.userId) };
  }

  /** The state, when `userId` is a participant; otherwise the 404 a stranger gets. */
  async #member(conversationId: number, userId: number, notFound: string): Promise<ConversationState> {
    const state = await this.#loaded(conversationId);
    if (!state.isMember(userId)) throw new DomainError(404, notFound);
    return state;
  }

  /** The state of a conversation that exists, whoever asks; otherwise 404. */
  async #existing(conversationId: number): Promise<ConversationState> {
    const state = await this.#loaded(conversationId);
    if (!state.exists) throw new DomainError(404, NO_MESSAGE);
    return state;
  }

  /** Expected failures as plain objects: they cross the RPC boundary, where classes do not survive. */
  async #outcome<T>(run: () => Promise<T>): Promise<Outcome<T>> {
    try {
      return ok(await run());
    } catch (error) {
      if (error instanceof DomainError) return fail(error.status as Failure["status"], error.message, error.errors ? { errors: error.errors } : {});
      throw error;
    }
  }

  /**
   * Membership changes run one at a time, each between flushes (see Ledger.hold), and tell hubs before
   * the next flush can: users' streams see a change in the same order as the messages around it.
   */
  #exclusive<T>(conversationId: number, run: (db: Database) => Promise<T>): Promise<Outcome<T>> {
    const { session, written } = writeSession("DB", this.env.DB);
    const next = this.#serial.then(async () => {
      const outcome = await this.#outcome(async () => {
        await this.#loaded(conversationId);
        return this.#ledger!.hold(() => run(database(session)));
      });
      return outcome.ok ? { ...outcome, bookmarks: written() } : outcome;
    });
    this.#serial = next.catch(() => undefined);
    return next;
  }


  /** REST and socket sends alike: membership, the sender's limit (what is left goes back to the client), then the sender's names. */
  async #prepareSend(conversationId: number, userId: number, sendPolicy = policy(this.env, "send")): Promise<Failure | { sender: Sender; limit: Limit }> {
    const state = await this.#loaded(conversationId);
    if (!state.isMember(userId)) return fail(404, NO_CONVERSATION);
    const limit = await this.#limits.take(sendPolicy, userId);
    if (!limit.decision.allowed) return fail(429, `Too many messages; retry in ${limit.decision.retryAfterSeconds} s.`, { limit });
    return { sender: await this.#names.of(database(this.env.DB), userId), limit };
  }

  /** An edit or delete; a moderator's (`userId` 0) needs no membership. */
  async #change(conversationId: number, userId: number, messageId: number, change: Change): Promise<Outcome<MessageResource>> {
    let written = (): WrittenBookmarks => ({});
    const outcome = await this.#outcome(async () => {
      const state = change.kind === "delete" && change.by === "moderator" ? await this.#existing(conversationId) : await this.#member(conversationId, userId, NO_MESSAGE);
      const write = shardWriteSession(this.env, state.shard!.index);
      written = write.written;
      const result = await changeMessage(write.shard, conversationId, messageId, userId, change);
      if (!result) throw new DomainError(404, NO_MESSAGE);
      const { changed, before } = result;
      const [message] = await this.#names.join(database(this.env.DB), [result.message]);
      if (!message) throw new DomainError(404, NO_MESSAGE);
      if (!changed && !(change.kind === "delete" && message.deleted)) {
        if (message.deleted) throw new DomainError(409, "The message has been deleted.");
        throw new DomainError(403, change.kind === "edit" ? "Only the sender may edit a message." : "Only the sender or the conversation's owner may delete a message.");
      }
      if (changed) {
        const type = message.deleted ? "message.deleted" : "message.updated";
        this.#fanout.message(type, message, state.watermarks());
        this.#webhook(type, message.seq, { message: this.#neutral(message) });
        // A tombstone keeps no files: their rows and objects go, after the answer and after the flush that
        // sent them has marked them sent (so none is left behind unmarked).
        if (message.deleted && before.attachments?.length) {
          this.#afterwards(this.#ledger!.afterRecords(() => removeMessageAttachments(database(this.env.DB), this.env.ATTACHMENTS, message.id).then(() => undefined)));
        }
        // The main database's records change after any flush's still being written: the mentions the
        // chat list counts, and the copy of the last message (members with a stream open are told).
        const db = database(this.env.DB);
        const mentioned = before.mentions !== null || message.mentions !== null;
        const last = message.seq === state.lastSeq;
        const remention = () => [mentionsForgotten(db, conversationId, message.seq), mentionsRecorded(db, conversationId, [message])] as const;
        if (last) {
          const told = this.#ledger!.afterRecords(async () => {
            const [, online] = await batch(db, [lastMessageChanged(db, conversationId, message), onlineAmong(db, [...state.members.keys()]), ...remention()]);
            this.#queue(
              online.map((o) => o.userId),
              (id) => [{ type, conversation_id: conversationId, message: this.#summary(message, id) }],
            );
          });
          this.#afterwards(told);
        } else if (mentioned) {
          this.#afterwards(this.#ledger!.afterRecords(() => batch(db, remention()).then(() => undefined)));
        }
      }
      return this.#resource(message, userId);
    });
    return outcome.ok ? { ...outcome, bookmarks: written() } : outcome;
  }

  /**
   * A reaction or pin on a live message of the conversation, written in the room's next batch of marks
   * (404 for strangers and missing messages alike, 409 once it is deleted), then `after` with the message
   * as it stands.
   */
  async #annotate(
    conversationId: number,
    userId: number,
    messageId: number,
    write: (shard: Shard) => MarkWrite,
    after: (message: StoredMessage, changed: boolean) => void,
  ): Promise<Outcome<MessageResource>> {
    let bookmarks: WrittenBookmarks = {};
    const outcome = await this.#outcome(async () => {
      await this.#member(conversationId, userId, NO_MESSAGE);
      const done = await this.#marks.write(write);
      bookmarks = done.bookmarks;
      const { message, changed } = done;
      if (!message) throw new DomainError(404, NO_MESSAGE);
      if (message.deleted) throw new DomainError(409, "The message has been deleted.");
      const [stored] = await this.#names.join(database(this.env.DB), [message]);
      after(stored!, changed);
      return this.#resource(stored!, userId);
    });
    return outcome.ok ? { ...outcome, bookmarks } : outcome;
  }

  /**
   * REST and socket sends alike, once prepared: the mentions resolved, the uploads checked, then the ledger.
   * An upload is claimed while its send is queued, and stays claimed once sent (ids are never reused),
   * so two sends can't both carry it.
   */
  async #queueSend(sender: Sender, body: string, clientMessageId: string | null, replyTo: number | null, uploads: string[]): Promise<SendResult> {
    const found = uploads.length ? await this.#attachable(uploads, sender.id) : null;
    const claimed = Array.isArray(found) ? found.map((a) => a.id) : [];
    for (const id of claimed) this.#claimed.add(id);
    const result = await this.#ledger!.send({ sender, body, clientMessageId, replyTo, mentions: this.#mentions(body), attachments: found });
    if (!result.ok || !result.created) for (const id of claimed) this.#claimed.delete(id);
    return result;
  }

  /** The uploads a send names, in its order, or "invalid" unless every one is the sender's, to here, recent, unsent and unclaimed. */
  async #attachable(ids: string[], senderId: number): Promise<StoredAttachment[] | "invalid"> {
    if (new Set(ids).size !== ids.length || ids.some((id) => this.#claimed.has(id))) return "invalid";
    const rows = await attachable(database(this.env.DB), ids, senderId, this.#state!.conversationId, Date.now());
    const byId = new Map(rows.map((r) => [r.id, stored(r)]));
    return ids.every((id) => byId.has(id)) ? ids.map((id) => byId.get(id)!) : "invalid";
  }

  /** The participants a body mentions (a mention of anyone else is plain text), or null. */
  #mentions(body: string): number[] | null {
    const ids = mentionedIds(body).filter((id) => this.#state!.isMember(id));
    return ids.length ? ids : null;
  }

  #resource(message: StoredMessage, viewerId: number): MessageResource {
    return hideBlocked(toMessageResource(message, statusView(viewerId, this.#state!.watermarks())), this.#state!.blockedBy(viewerId));
  }

  /** Right after a flush committed: its messages in seq order, then each viewer's moved progress. */
  #committed(messages: StoredMessage[]): void {
    const state = this.#state!;
    const expiresAt = messages[0]?.expiresAt;
    if (expiresAt) this.#afterwards(this.#expiresAt(expiresAt.getTime()));
    for (const m of messages) this.#fanout.message("message.created", m, state.watermarks());
    this.#fanout.progress(state.progress());
  }

  /**
   * Once the main database recorded a flush: not awaited, one publish to each member with a stream open,
   * and one queueing of the webhook events and push notifications it makes.
   */
  #recorded(messages: StoredMessage[], { online, webhooks, push, late }: Audience): void {
    const state = this.#state!;
    const perUser = new Map<number, InboxEvent[]>();
    if (webhooks.length || push.length) this.#afterwards(this.#deliver(messages, webhooks, push, late));
    for (const userId of online) {
      const readSeq = state.members.get(userId)?.readSeq;
      if (readSeq === undefined) continue;
      const created = (m: StoredMessage): InboxEvent => ({
        type: "message.created",
        conversation_id: state.conversationId,
        message: this.#summary(m, userId),
        unread_count: Math.max(0, m.seq - readSeq),
        mentioned: m.mentions?.includes(userId) ?? false,
      });
      perUser.set(userId, messages.map(created));
    }
    if (perUser.size) this.#afterwards(this.#inbox.publish(perUser));
  }

  /** A message as a member's stream shows it: no preview of someone they blocked. */
  #summary(message: StoredMessage, viewerId: number) {
    const shown = summary(message);
    return this.#state!.blockedBy(viewerId).has(message.senderId) ? { ...shown, preview: "" } : shown;
  }

  /** Webhook events and push notifications of a flush, onto the delivery queue. */
  async #deliver(messages: StoredMessage[], webhooks: string[], push: Audience["push"], late: StoredMessage[]): Promise<void> {
    const state = this.#state!;
    const events = [...late, ...messages].map((m) => webhookEvent("message.created", state.conversationId, m.seq, { message: this.#neutral(m) }));
    // Previews show mentions by name: the names of those mentioned, known here or read once.
    const mentioned = push.length ? [...new Set(messages.flatMap((m) => m.mentions ?? []))] : [];
    const names = new Map(await Promise.all(mentioned.map(async (id) => [id, await this.#names.of(database(this.env.DB), id)] as const)));
    const jobs: Job[] = [...webhookJobs(webhooks, events), ...notificationJobs(push, messages, state.members.size, names, (id) => state.blockedBy(id))];
    if (jobs.length) await enqueue(this.env.DELIVERIES, jobs);
  }

  /** Queues a change of the conversation for the webhooks that want it; `audience`: its members then. */
  #webhook(type: WebhookEventType, seq: number, data: Record<string, unknown>, audience = [...this.#state!.members.keys()]): void {
    const id = this.#state!.conversationId;
    this.#afterwards(dispatchWebhooks(database(this.env.DB), this.env.DELIVERIES, id, audience, webhookEvent(type, id, seq, data)));
  }

  /** A message as webhooks get it: no viewer's status (always `sent`) and no reaction of "mine". */
  #neutral(message: StoredMessage): MessageResource {
    return toMessageResource(message, statusView(0, this.#state!.watermarks()));
  }

  /**
   * Queues each online user's events in their outbox (`online` read in the change's own batch); within a
   * membership change, ahead of anything a later flush queues.
   */
  #queue(online: number[], eventsFor: (userId: number) => InboxEvent[]): void {
    this.#afterwards(this.#inbox.publish(new Map(online.map((id) => [id, eventsFor(id)]))));
  }

  /**
   * The added user, if online, gets the conversation as a chat (read between flushes, so it is current: the
   * one extra read); the others, its new participant list; and new contacts learn who is online.
   */
  async #tellAdded(conversation: ConversationResource, userId: number, online: OnlineRow[]): Promise<void> {
    const chat = online.some((r) => r.userId === userId)
      ? await listChats(database(this.env.DB), userId, { unreadOnly: false, offset: 0, limit: 1, conversationId: conversation.id }).then(
          (page) => page.results[0],
          // The change itself is committed: its answer must not become an error (the stream catches up on its next snapshot).
          (error: unknown) => void console.error("inbox notification failed", error),
        )
      : undefined;
    this.#queue(
      online.map((r) => r.userId),
      (id) => [...(id === userId ? (chat ? [{ type: "conversation.added" as const, chat }] : []) : [{ type: "conversation.updated" as const, conversation }]), ...introductions(online, id, [userId])],
    );
  }

  /** Work after an answer went out: kept alive, and its failure logged rather than lost. */
  #afterwards(work: Promise<void>): void {
    this.ctx.waitUntil(work.catch((error: unknown) => console.error("inbox notification failed", error)));
  }

  readonly #frameActions: FrameActions = {
    budget: { perSecond: config(this.env).WS_FRAMES_PER_SECOND, burst: config(this.env).WS_FRAME_BURST },
    prepareSend: async (userId) => {
      const prepared = await this.#prepareSend(this.#state!.conversationId, userId);
      return "ok" in prepared ? prepared : prepared.sender;
    },
    queueSend: (sender, body, clientMessageId, replyTo, attachments): Promise<SendResult> => this.#queueSend(sender, body, clientMessageId, replyTo, attachments),
    resourceOf: (result, viewerId) => this.#resource(result.message, viewerId),
    receipt: async (userId, delivered, read) => {
      const outcome = await this.receipt(this.#state!.conversationId, userId, delivered, read);
      return outcome.ok ? null : outcome;
    },
    typing: (ws, userId) => this.#fanout.broadcast({ type: "typing", user: userId, until: new Date(Date.now() + TYPING_SECONDS * 1000).toISOString() }, ws),
    redeem: (ticket) => this.redeemTicket(ticket),
  };

  /**
   * Notes when a disappearing message is due (the earliest so far wins) and makes sure the alarm comes then;
   * kept in storage, since the room may be evicted before.
   */
  async #expiresAt(at: number): Promise<void> {
    const known = await this.ctx.storage.get<Expiring>(EXPIRING);
    if (known && known.at <= at) return;
    await this.ctx.storage.put(EXPIRING, { conversationId: this.#state!.conversationId, at } satisfies Expiring);
    await this.#scheduleAlarm();
  }

  /** Tombstones the disappearing messages that are due, oldest first, a chunk at a time; then notes when the next is. */
  async #expire(conversationId: number): Promise<void> {
    const state = await this.#loaded(conversationId);
    if (!state.exists || !state.shard) return void (await this.ctx.storage.delete(EXPIRING));
    const shard = state.shard;
    const due = await dueToExpire(shard, conversationId, Date.now(), EXPIRE_CHUNK);
    if (due.length) await this.#tombstoneAll(state, due, "expiry");
    const next = due.length === EXPIRE_CHUNK ? Date.now() : await nextExpiry(shard, conversationId);
    if (next === null) await this.ctx.storage.delete(EXPIRING);
    else await this.ctx.storage.put(EXPIRING, { conversationId, at: next } satisfies Expiring);
  }

  /**
   * Tombstones a chunk of a deleted account's messages here; once none is left, its reactions go and the
   * next account's turn comes (the alarm comes again at once while any is left).
   */
  async #erase(erasing: Erasing): Promise<void> {
    const state = await this.#loaded(erasing.conversationId);
    if (!state.exists || !state.shard) return void (await this.ctx.storage.delete(ERASING));
    const [userId] = erasing.users;
    if (userId === undefined) return void (await this.ctx.storage.delete(ERASING));
    const due = await liveMessagesOf(state.shard, erasing.conversationId, userId, ERASE_CHUNK);
    if (due.length) await this.#tombstoneAll(state, due, "sender");
    if (due.length < ERASE_CHUNK) {
      await removeReactionsOf(state.shard, erasing.conversationId, userId);
      // Read again: forgetUser may have queued another account while the shard was busy.
      const now = await this.ctx.storage.get<Erasing>(ERASING);
      const left = now?.users.filter((u) => u !== userId) ?? [];
      if (left.length) await this.ctx.storage.put(ERASING, { ...now!, users: left });
      else await this.ctx.storage.delete(ERASING);
    }
  }

  /**
   * Tombstones messages in one shard batch, as a delete does: sockets, hubs and webhooks hear
   * `message.deleted`, files go, mentions are forgotten, and the chat list's copy of the last message changes.
   */
  async #tombstoneAll(state: ConversationState, due: { id: number; attachments: StoredAttachment[] | null }[], by: "expiry" | "sender"): Promise<void> {
    const conversationId = state.conversationId;
    const db = database(this.env.DB);
    const gone = await this.#names.join(db, await tombstoneMessages(state.shard!, conversationId, due.map((d) => d.id), by));
    for (const m of gone) {
      this.#fanout.message("message.deleted", m, state.watermarks());
      this.#webhook("message.deleted", m.seq, { message: this.#neutral(m) });
    }
    for (const d of due) if (d.attachments?.length) this.#afterwards(this.#ledger!.afterRecords(() => removeMessageAttachments(db, this.env.ATTACHMENTS, d.id).then(() => undefined)));
    const last = gone.find((m) => m.seq === state.lastSeq);
    const records = () => [...(last ? [lastMessageChanged(db, conversationId, last)] : []), ...gone.map((m) => mentionsForgotten(db, conversationId, m.seq))];
    this.#afterwards(
      this.#ledger!.afterRecords(async () => {
        const [online] = await batch(db, [onlineAmong(db, [...state.members.keys()]), ...records()]);
        if (last) this.#queue(online.map((o) => o.userId), () => [{ type: "message.deleted", conversation_id: conversationId, message: summary(last) }]);
      }),
    );
  }

  /**
   * One alarm per room: the earliest token expiry among its sockets, the next disappearing message, or
   * `ticketExpiry` (the earliest unredeemed ticket's) if sooner; the purge, when one is under way, wins.
   */
  async #scheduleAlarm(ticketExpiry = Infinity): Promise<void> {
    if ((await purging(this.ctx.storage)) !== undefined) return;
    const expiring = (await this.ctx.storage.get<Expiring>(EXPIRING))?.at ?? Infinity;
    const erasing = (await this.ctx.storage.get<Erasing>(ERASING)) ? Date.now() : Infinity;
    const next = Math.min(ticketExpiry, expiring, erasing, ...this.ctx.getWebSockets().map((ws) => attachmentOf(ws)?.expiresAt ?? Infinity));
    const current = await this.ctx.storage.getAlarm();
    if (Number.isFinite(next) && (current === null || next < current)) await this.ctx.storage.setAlarm(next);
  }
}

