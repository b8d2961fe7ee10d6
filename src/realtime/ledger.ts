import { config } from "../config";
import type { Database } from "../db/client";
import type { Watermark } from "../messages/status";
import { earlierSends, insertFresh, type PendingRow, type Sender, type StoredMessage } from "../messages/store";
import { onlineAmong } from "../presence/presence";
import { conversationAdvanced, deliveredToConnected, sendersCaughtUp } from "../messages/writes";
import type { Failure } from "./outcome";
import type { ConversationState } from "./state";

/** A send as the room's ledger takes it: the room has checked the sender is a participant. */
export type SendInput = { sender: Sender; body: string; clientMessageId: string | null };

export type SendResult = { ok: true; message: StoredMessage; created: boolean } | Failure;

type Pending = { input: SendInput; row: PendingRow; bytes: number; resolve: (result: SendResult) => void };

/**
 * D1 takes at most 100 KB per statement: a flush's rows travel as JSON chunks below this many bytes
 * (a 4,000-character body is at most ~24 KB of JSON), and a flush holds at most FLUSH_BYTES.
 */
const CHUNK_BYTES = 90_000;
const FLUSH_BYTES = 4 * CHUNK_BYTES;

/** A flush's new messages, and which members have a stream open to be told (read in the flush's batch). */
export type Committed = { messages: StoredMessage[]; online: number[] };

const encoder = new TextEncoder();

/**
 * The room's message order: the send queue over the conversation's state. Sends are written in group
 * commits: while one flush is in flight, later sends wait and go together in the next. A flush is one
 * D1 batch (one round trip, one transaction): the retries it holds are found, the rest stored with the
 * next seqs, the conversation row and the senders' and connected members' watermarks moved.
 */
export class Ledger {
  #queue: Pending[] = [];
  #flushing = false;
  /** While set, no flush starts (sends queue up); see hold. */
  #held = false;
  /** The flush loop under way, if any. */
  #running: Promise<void> = Promise.resolve();
  readonly #inflight = new Map<string, Promise<SendResult>>();

  constructor(
    private readonly env: Cloudflare.Env,
    private readonly state: ConversationState,
    private readonly db: () => Database,
    /** Loads the state (under the room's input gate) when it is not loaded. */
    private readonly ready: () => Promise<void>,
    /** Users with a live socket: their delivered watermark moves with each flush. */
    private readonly connectedUsers: () => number[],
    /** Called once per flush, in seq order, right after the batch committed. */
    private readonly committed: (batch: Committed) => void,
  ) {}

  /**
   * Queues a send. A retry with the same client_message_id returns the first message (created: false),
   * also while the first is still in flight, or 409 for another body.
   */
  async send(input: SendInput): Promise<SendResult> {
    const key = input.clientMessageId && `${input.sender.id}:${input.clientMessageId}`;
    const earlier = key ? this.#inflight.get(key) : undefined;
    if (earlier) return asRetry(await earlier, input.body);
    const row = { s: input.sender.id, b: input.body, k: input.clientMessageId };
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
      return await work();
    } finally {
      this.#held = false;
      this.#flush();
    }
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

  async #commit(batch: Pending[]): Promise<void> {
    const db = this.db();
    const state = this.state;
    const id = state.conversationId;
    try {
      await this.ready();
      if (!state.exists) return batch.forEach((p) => p.resolve({ ok: false, status: 404, detail: "No such conversation." }));
      const after = state.lastSeq;
      const now = new Date();
      const rows = batch.map((p) => p.row);
      const chunks = chunk(batch);
      const [earlier, online, ...rest] = await db.batch([
        // A retry's first copy, looked up before the inserts (which skip it), in the same transaction.
        earlierSends(db, id, rows),
        onlineAmong(db, [...state.members.keys()]),
        ...chunks.map((c) => insertFresh(db, id, c.map((p) => p.row), now)),
        conversationAdvanced(db, id, now),
        sendersCaughtUp(db, id, after, now),
        deliveredToConnected(db, id, this.connectedUsers(), after, now),
      ]);
      const inserted = (rest.slice(0, chunks.length) as { id: number; seq: number }[][]).flat().sort((a, b) => a.seq - b.seq);
      const marks = rest.slice(chunks.length + 1) as Watermark[][];
      const stored = new Map((earlier as StoredMessage[]).map((m) => [`${m.senderId}:${m.clientMessageId}`, m]));
      const fresh = batch.filter((p) => !(p.row.k !== null && stored.has(`${p.row.s}:${p.row.k}`)));
      if (inserted.length !== fresh.length) throw new Error(`a flush of ${fresh.length} new messages stored ${inserted.length}`);

      if (inserted.length) state.lastSeq = inserted.at(-1)!.seq;
      for (const list of marks) for (const m of list) state.mark(m);
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
        sender: p.input.sender,
      }));
      if (messages.length) this.committed({ messages, online: online.map((o) => o.userId) });
      fresh.forEach((p, i) => p.resolve({ ok: true, message: messages[i]!, created: true }));
      for (const p of batch) {
        const first = p.row.k !== null ? stored.get(`${p.row.s}:${p.row.k}`) : undefined;
        if (first) p.resolve(asRetry({ ok: true, message: first, created: true }, p.input.body));
      }
    } catch (error) {
      console.error("message flush failed", error);
      // The outcome is unknown (the batch may have committed): rebuild from D1 before the next flush.
      state.invalidate();
      for (const p of batch) p.resolve({ ok: false, status: 503, detail: "The message could not be stored; retry with the same client_message_id." });
    }
  }
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
  return { ok: true, message: first.message, created: false };
}
