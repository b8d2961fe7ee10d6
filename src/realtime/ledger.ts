import { config } from "../config";
import type { Database } from "../db/client";
import { shardWriteSession, type WrittenBookmarks } from "../db/sessions";
import { earlierSends, insertFresh, QUOTE_LENGTH, replyParents, rowIdIn, type MessageRow, type PendingRow, type Sender, type StoredMessage } from "../messages/store";
import { attached } from "../attachments/store";
import type { StoredAttachment } from "../db/shard-schema";
import { onlineAmong } from "../presence/presence";
import { pushTargets, type PushTarget } from "../push/targets";
import { webhookTargets } from "../webhooks/targets";
import { conversationAdvanced, mentionsRecorded, watermarksRaised, type MentionRow, type Raise } from "../messages/writes";
import type { Failure } from "./outcome";
import type { ConversationState } from "./state";
import { batch } from "../db/compiled";

/**
 * A send as the room's ledger takes it: the room has checked the sender is a participant and resolved
 * the participants the body mentions; `replyTo` is a message id, checked by the flush that stores it.
 */
export type SendInput = {
  sender: Sender;
  body: string;
  clientMessageId: string | null;
  replyTo: number | null;
  mentions: number[] | null;
  /** What the room found of the uploads the send names; "invalid" fails the send unless it is a retry. */
  attachments: StoredAttachment[] | null | "invalid";
};

/** `bookmarks`: the flush's write on the shard, for read-your-writes on replicas. */
export type SendResult = { ok: true; message: StoredMessage; created: boolean; bookmarks?: WrittenBookmarks } | Failure;

type Pending = { input: SendInput; row: PendingRow; bytes: number; resolve: (result: SendResult) => void };

/**
 * D1 takes at most 100 KB per statement: a flush's rows travel as JSON chunks below this many bytes
 * (a 4,000-character body is at most ~24 KB of JSON), and a flush holds at most FLUSH_BYTES.
 */
const CHUNK_BYTES = 90_000;
const FLUSH_BYTES = 4 * CHUNK_BYTES;

/** What the room hears of a flush: right after its messages are stored, and once the main database has its summary. */
export type LedgerHooks = {
  /** Users with a live socket: their delivered watermark moves with each flush. */
  connectedUsers(): number[];
  /** Once per flush, in seq order, right after the shard committed it. */
  committed(messages: StoredMessage[]): void;
  /**
   * Once per flush, in order, after the main database recorded it: with who is to hear of it away from the
   * room's sockets, read in the same batch (members with a stream open, webhook endpoints, push subscriptions).
   */
  recorded(messages: StoredMessage[], audience: Audience): void;
  /** The names of the senders of messages that replies quote. */
  senders(ids: number[]): Promise<Map<number, Sender>>;
};

/**
 * Who hears of a flush's messages beyond the room's own sockets; `late`: messages of earlier flushes whose
 * recording failed, which webhooks still get (before these).
 */
export type Audience = { online: number[]; webhooks: string[]; push: PushTarget[]; late: StoredMessage[] };

/**
 * What flushes owe the main database: the newest message, watermark raises and mentions, merged until
 * written; `messages` are those whose events the hubs have yet to get.
 */
type Owed = {
  last: StoredMessage;
  raises: Map<number, Raise>;
  mentions: MentionRow[];
  attached: { a: string; m: number }[];
  messages: StoredMessage[];
  /** Messages of earlier flushes whose recording was given up: webhooks promise them at least once, hubs drop them. */
  unannounced: StoredMessage[];
};

const RECORD_ATTEMPTS = 3;

const encoder = new TextEncoder();

/**
 * The room's message order: the send queue over the conversation's state. Sends are written in group
 * commits: while one flush is in flight, later sends wait and go together in the next. A flush is one
 * batch to the conversation's shard (one round trip, one transaction): the retries it holds are found,
 * the rest stored with the next seqs; the sends are answered then. After it, one batch to the main
 * database copies the newest message to the conversation row, raises the senders' and connected
 * members' watermarks and reads who is to hear of it elsewhere (streams, webhooks, push); it runs while
 * the next flush is stored.
 */
export class Ledger {
  #queue: Pending[] = [];
  #flushing = false;
  /** While set, no flush starts (sends queue up); see hold. */
  #held = false;
  /** The flush loop under way, if any. */
  #running: Promise<void> = Promise.resolve();
  /** The main database's writes, one after another, in flush order. */
  #recording: Promise<void> = Promise.resolve();
  #owed: Owed | null = null;
  readonly #inflight = new Map<string, Promise<SendResult>>();

  constructor(
    private readonly env: Cloudflare.Env,
    private readonly state: ConversationState,
    private readonly db: () => Database,
    /** Loads the state (under the room's input gate) when it is not loaded. */
    private readonly ready: () => Promise<void>,
    private readonly hooks: LedgerHooks,
  ) {}

  /**
   * Queues a send. A retry with the same client_message_id returns the first message (created: false),
   * also while the first is still in flight, or 409 for another body.
   */
  async send(input: SendInput): Promise<SendResult> {
    const key = input.clientMessageId && `${input.sender.id}:${input.clientMessageId}`;
    const earlier = key ? this.#inflight.get(key) : undefined;
    if (earlier) return asRetry(await earlier, input.body);
    // `r` becomes the quoted message's row id once the flush knows the shard.
    const row: PendingRow = { s: input.sender.id, b: input.body, k: input.clientMessageId, r: null, m: input.mentions, a: input.attachments === "invalid" ? null : input.attachments, e: null };
    const result = new Promise<SendResult>((resolve) => this.#queue.push({ input, row, bytes: encoder.encode(JSON.stringify(row)).length, resolve }));
    if (key) {
      this.#inflight.set(key, result);
      void result.finally(() => this.#inflight.delete(key));
    }
    this.#flush();
    return result;
  }

  /**
   * Runs `work` between flushes: the one under way finishes first, and none starts until `work` is done
   * (sends queue up meanwhile). A membership change does this so that what it tells users' hubs is
   * neither overtaken by a later flush's events nor blind to an earlier one's.
   */
  async hold<T>(work: () => Promise<T>): Promise<T> {
    this.#held = true;
    try {
      await this.#running;
      await this.#recording;
      return await work();
    } finally {
      this.#held = false;
      this.#flush();
    }
  }

  /** Runs `work` once the main database has recorded every flush so far, before it records a later one. */
  afterRecords(work: () => Promise<void>): Promise<void> {
    const done = this.#recording.then(work);
    this.#recording = done.catch(() => undefined);
    return done;
  }

  #flush(): void {
    if (this.#flushing || this.#held) return;
    this.#flushing = true;
    this.#running = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      const most = config(this.env).GROUP_COMMIT_MAX_BATCH;
      while (this.#queue.length > 0 && !this.#held) {
        let n = 0;
        for (let bytes = 0; n < this.#queue.length && n < most && (n === 0 || bytes + this.#queue[n]!.bytes <= FLUSH_BYTES); n++) bytes += this.#queue[n]!.bytes;
        await this.#commit(this.#queue.splice(0, n));
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #commit(pending: Pending[]): Promise<void> {
    const state = this.state;
    const id = state.conversationId;
    try {
      await this.ready();
      if (!state.exists || !state.shard) return pending.forEach((p) => p.resolve({ ok: false, status: 404, detail: "No such conversation." }));
      const { shard, written } = shardWriteSession(this.env, state.shard.index);
      const now = new Date();
      // A reply to an id of another shard names no message here: row 0, which never exists.
      for (const p of pending) p.row.r = p.input.replyTo === null ? null : (rowIdIn(shard, p.input.replyTo) ?? 0);
      // Disappearing messages: the conversation's setting when they are stored decides.
      const expiresAt = state.messageTtlSeconds === null ? null : now.getTime() + state.messageTtlSeconds * 1000;
      for (const p of pending) p.row.e = expiresAt;
      const rows = pending.map((p) => p.row);
      const chunks = chunk(pending.filter((p) => p.input.attachments !== "invalid"));
      const [earlier, quoted, ...rest] = await batch(shard.db, [
        // A retry's first copy and the messages replies quote, looked up before the inserts (which skip
        // retries and replies to nothing), in the same transaction.
        earlierSends(shard, id, rows),
        replyParents(shard, id, [...new Set(rows.flatMap((r) => (r.r === null ? [] : [r.r])))]),
        ...chunks.map((c) => insertFresh(shard, id, c.map((p) => p.row), now)),
      ]);
      const inserted = (rest as { id: number; seq: number }[][]).flat().sort((a, b) => a.seq - b.seq);
      const stored = new Map(earlier.map((m) => [`${m.senderId}:${m.clientMessageId}`, m]));
      const parents = new Map((quoted as MessageRow[]).map((m) => [rowIdIn(shard, m.id)!, m]));
      const isRetry = (p: Pending) => p.row.k !== null && stored.has(`${p.row.s}:${p.row.k}`);
      const orphan = (p: Pending) => !isRetry(p) && p.row.r !== null && !parents.has(p.row.r);
      const unattachable = (p: Pending) => !isRetry(p) && p.input.attachments === "invalid";
      const fresh = pending.filter((p) => !isRetry(p) && !orphan(p) && !unattachable(p));
      if (inserted.length !== fresh.length) throw new Error(`a flush of ${fresh.length} new messages stored ${inserted.length}`);
      const names = parents.size ? await this.hooks.senders([...new Set([...parents.values()].map((m) => m.senderId))]) : new Map<number, Sender>();

      const messages: StoredMessage[] = fresh.map((p, i) => ({
        id: inserted[i]!.id,
        conversationId: id,
        seq: inserted[i]!.seq,
        senderId: p.row.s,
        body: p.row.b,
        clientMessageId: p.row.k,
        sentAt: now,
        editedAt: null,
        deleted: false,
        changeSeq: 0,
        mentions: p.row.m,
        attachments: p.row.a,
        expiresAt: expiresAt === null ? null : new Date(expiresAt),
        deletedBy: null,
        pinnedAt: null,
        pinnedBy: null,
        replyCount: 0,
        reactions: [],
        sender: p.input.sender,
        ...quote(p.row.r === null ? undefined : parents.get(p.row.r), names),
      }));
      if (messages.length) {
        state.lastSeq = messages.at(-1)!.seq;
        this.#settle(messages);
        this.hooks.committed(messages);
      }
      const bookmarks = written();
      fresh.forEach((p, i) => p.resolve({ ok: true, message: messages[i]!, created: true, bookmarks }));
      for (const p of pending) {
        const first = p.row.k !== null ? stored.get(`${p.row.s}:${p.row.k}`) : undefined;
        if (first) {
          const message = { ...first, sender: p.input.sender, replySender: first.replyTo && ((await this.hooks.senders([first.replyTo.senderId])).get(first.replyTo.senderId) ?? null) };
          p.resolve(asRetry({ ok: true, message, created: true, bookmarks }, p.input.body));
        } else if (orphan(p)) {
          p.resolve({ ok: false, status: 400, detail: "`reply_to` names no message of this conversation that can be replied to (it may have been deleted)." });
        } else if (unattachable(p)) {
          p.resolve({ ok: false, status: 400, detail: "`attachments` names a file that is not your upload to this conversation from the last hour, or one already sent." });
        }
      }
    } catch (error) {
      console.error("message flush failed", error);
      // The outcome is unknown (the batch may have committed): rebuild from D1 before the next flush.
      state.invalidate();
      for (const p of pending) p.resolve({ ok: false, status: 503, detail: "The message could not be stored; retry with the same client_message_id." });
    }
  }

  /**
   * A stored flush's watermarks, as the main database will hold them: each sender has read up to their
   * newest message, connected members have everything delivered. Moved in memory at once (the room is
   * their only writer), owed to the main database with the newest message, and recorded there next.
   */
  #settle(messages: StoredMessage[]): void {
    const state = this.state;
    const owed: Owed = this.#owed ?? { last: messages.at(-1)!, raises: new Map(), mentions: [], attached: [], messages: [], unannounced: [] };
    const raise = (u: number, d: number, r: number) => {
      const had = owed.raises.get(u);
      owed.raises.set(u, { u, d: Math.max(d, had?.d ?? 0), r: Math.max(r, had?.r ?? 0) });
    };
    for (const m of messages) raise(m.senderId, m.seq, m.seq);
    for (const u of this.hooks.connectedUsers()) if (state.members.has(u)) raise(u, state.lastSeq, 0);
    for (const r of owed.raises.values()) state.mark({ userId: r.u, deliveredSeq: r.d, readSeq: r.r });
    owed.last = messages.at(-1)!;
    owed.messages.push(...messages);
    for (const m of messages) {
      if (m.mentions) owed.mentions.push({ seq: m.seq, mentions: m.mentions });
      for (const a of m.attachments ?? []) owed.attached.push({ a: a.id, m: m.id });
    }
    this.#owed = owed;
    this.#recording = this.#recording.then(() => this.#record());
  }

  /**
   * Writes what is owed to the main database, if anything (an earlier call may have written it already),
   * retrying a failure a few times. Given up, it stays owed to the next flush, and a reloaded room repairs
   * the conversation row from its shard; the hubs then miss those messages' events (their streams'
   * next snapshot has them).
   */
  async #record(): Promise<void> {
    const owed = this.#owed;
    if (!owed) return;
    this.#owed = null;
    const db = this.db();
    const id = this.state.conversationId;
    const members = [...this.state.members.keys()];
    const connected = new Set(this.hooks.connectedUsers());
    // A statement costs D1 work even with nothing to do: those with nothing to do are left out.
    const mentioned = owed.mentions.some((m) => m.mentions?.length) ? [mentionsRecorded(db, id, owed.mentions)] : [];
    const linked = owed.attached.length ? [attached(db, owed.attached)] : [];
    for (let attempt = 1; ; attempt++) {
      try {
        const [online, webhooks, push] = await batch(db, [
          onlineAmong(db, members),
          webhookTargets(db, id, members, "message.created"),
          pushTargets(db, id, members.filter((u) => !connected.has(u))),
          conversationAdvanced(db, id, owed.last),
          watermarksRaised(db, id, [...owed.raises.values()], owed.last.sentAt),
          ...mentioned,
          ...linked,
        ]);
        this.hooks.recorded(owed.messages, { online: online.map((o) => o.userId), webhooks: webhooks.map((w) => w.id), push, late: owed.unannounced });
        return;
      } catch (error) {
        console.error(`recording a flush in the main database failed (attempt ${attempt})`, error);
        if (attempt === RECORD_ATTEMPTS) {
          this.#owed = this.#owed ? merge(owed, this.#owed) : { ...owed, messages: [], unannounced: [...owed.unannounced, ...owed.messages] };
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }
}

/** Two debts as one: the later's newest message and events, the higher of each raise, the mentions and attachments of both. */
function merge(earlier: Owed, later: Owed): Owed {
  const raises = new Map(earlier.raises);
  for (const r of later.raises.values()) {
    const had = raises.get(r.u);
    raises.set(r.u, { u: r.u, d: Math.max(r.d, had?.d ?? 0), r: Math.max(r.r, had?.r ?? 0) });
  }
  return { last: later.last, raises, mentions: [...earlier.mentions, ...later.mentions], attached: [...earlier.attached, ...later.attached], messages: later.messages, unannounced: [...earlier.unannounced, ...earlier.messages, ...later.unannounced] };
}

/** A fresh reply's quote of its parent, as reads give it. */
function quote(parent: MessageRow | undefined, names: Map<number, Sender>): Pick<StoredMessage, "replyTo" | "replySender"> {
  if (!parent) return { replyTo: null, replySender: null };
  const replyTo = { id: parent.id, seq: parent.seq, senderId: parent.senderId, preview: [...parent.body].slice(0, QUOTE_LENGTH).join(""), deleted: false };
  return { replyTo, replySender: names.get(parent.senderId) ?? { id: parent.senderId, firstName: "", lastName: "" } };
}

/** Splits a flush into statements of at most CHUNK_BYTES of JSON, in queue order. */
function chunk(batch: Pending[]): Pending[][] {
  const chunks: Pending[][] = [];
  let bytes = Infinity;
  for (const p of batch) {
    if (bytes + p.bytes > CHUNK_BYTES) {
      chunks.push([]);
      bytes = 0;
    }
    chunks.at(-1)!.push(p);
    bytes += p.bytes;
  }
  return chunks;
}

/** A retry's answer: the first message if the body matches, 409 if not, or the first attempt's failure. */
function asRetry(first: SendResult, body: string): SendResult {
  if (!first.ok) return first;
  if (first.message.body !== body) return { ok: false, status: 409, detail: "This client_message_id was already used with a different message_body." };
  return { ...first, created: false };
}
