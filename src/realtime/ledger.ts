import { and, eq, sql } from "drizzle-orm";
import { config } from "../config";
import { database, type Database } from "../db/client";
import { conversations, participants } from "../db/schema";
import type { Watermark } from "../messages/status";
import { byKey, insertMessage, type Sender, type StoredMessage } from "../messages/store";
import { conversationAdvanced, senderWatermarks } from "../messages/writes";

/** A send as the room receives it; the Worker has authenticated the sender and checked membership. */
export type SendInput = { conversationId: number; sender: Sender; body: string; clientMessageId: string | null };

export type SendResult = { ok: true; message: StoredMessage; created: boolean } | { ok: false; status: 404 | 409 | 503; detail: string };

type Pending = { input: SendInput; resolve: (result: SendResult) => void };

// D1 allows 100 bound parameters per statement and a batch is one transaction: one insert per
// message, at most this many messages per flush (GROUP_COMMIT_MAX_BATCH may lower it; 1 turns group commit off).
export const MAX_BATCH = 50;

export type Committed = { messages: StoredMessage[]; delivered: Watermark[] };

/**
 * The room's message order: the seq counter, every participant's watermarks, and the send queue.
 * Sends are written in group commits: while one D1 batch is in flight, later sends wait and go together
 * in the next. Everything here is rebuilt from D1 after eviction or after a failed or unknown write.
 */
export class Ledger {
  lastSeq: number | null = null;
  readonly marks = new Map<number, Watermark>();
  #queue: Pending[] = [];
  #flushing = false;
  readonly #inflight = new Map<string, Promise<SendResult>>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Cloudflare.Env,
    /** Users with a live socket: their delivered watermark moves with each flush. */
    private readonly connectedUsers: () => number[],
    /** Called once per flush, in seq order, right after the batch committed. */
    private readonly committed: (batch: Committed) => void,
  ) {}

  get db(): Database {
    return database(this.env.DB);
  }

  /** Loads the counter and watermarks under the input gate, so nothing sees them half-loaded. */
  async load(conversationId: number): Promise<number | null> {
    if (this.lastSeq === null) {
      await this.ctx.blockConcurrencyWhile(async () => {
        const [row, marks] = await this.db.batch([
          this.db.select({ lastSeq: conversations.lastSeq }).from(conversations).where(eq(conversations.id, conversationId)),
          this.db
            .select({ userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq })
            .from(participants)
            .where(eq(participants.conversationId, conversationId)),
        ]);
        this.marks.clear();
        for (const m of marks) this.marks.set(m.userId, m);
        this.lastSeq = row[0]?.lastSeq ?? null;
      });
    }
    return this.lastSeq;
  }

  /**
   * Queues a send. A retry with the same client_message_id returns the first message (created: false),
   * also while the first is still in flight, or 409 for another body.
   */
  async send(input: SendInput): Promise<SendResult> {
    const key = input.clientMessageId && `${input.sender.id}:${input.clientMessageId}`;
    const earlier = key ? this.#inflight.get(key) : undefined;
    if (earlier) return asRetry(await earlier, input.body);
    const result = new Promise<SendResult>((resolve) => this.#queue.push({ input, resolve }));
    if (key) {
      this.#inflight.set(key, result);
      void result.finally(() => this.#inflight.delete(key));
    }
    void this.#flush();
    return result;
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const max = Math.min(MAX_BATCH, config(this.env).GROUP_COMMIT_MAX_BATCH);
      while (this.#queue.length > 0) await this.#commit(this.#queue.splice(0, max));
    } finally {
      this.#flushing = false;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const db = this.db;
    const conversationId = batch[0]!.input.conversationId;
    try {
      const lastSeq = await this.load(conversationId);
      if (lastSeq === null) return batch.forEach((p) => p.resolve({ ok: false, status: 404, detail: "No such conversation." }));
      // A batch is all-or-nothing, so duplicates are settled before it, not by its UNIQUE backstop.
      const fresh = await this.#settleDuplicates(db, batch);
      if (fresh.length === 0) return;
      // Seqs are assigned here, by the only flush running, with no await before the batch starts.
      const now = new Date();
      const rows = fresh.map((p, i) => ({
        conversationId,
        seq: lastSeq + 1 + i,
        senderId: p.input.sender.id,
        body: p.input.body,
        clientMessageId: p.input.clientMessageId,
        sentAt: now,
      }));
      const newest = new Map(rows.map((r) => [r.senderId, r.seq]));
      const top = lastSeq + fresh.length;
      const connected = this.connectedUsers().filter((id) => !newest.has(id));
      const [, delivered, ...rest] = await db.batch([
        conversationAdvanced(db, conversationId, top, now),
        // Connected recipients have the messages delivered as they are broadcast: one statement for all.
        db
          .update(participants)
          .set({ deliveredSeq: sql`max(${participants.deliveredSeq}, ${top})`, deliveredAt: now })
          .where(and(eq(participants.conversationId, conversationId), sql`${participants.userId} IN (SELECT value FROM json_each(${JSON.stringify(connected)}))`))
          .returning({ userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq }),
        ...[...newest].map(([userId, seq]) => senderWatermarks(db, conversationId, userId, seq, now)),
        ...rows.map((row) => insertMessage(db, row)),
      ]);
      this.lastSeq = top;
      for (const [userId, seq] of newest) this.marks.set(userId, { userId, deliveredSeq: Math.max(seq, this.marks.get(userId)?.deliveredSeq ?? 0), readSeq: Math.max(seq, this.marks.get(userId)?.readSeq ?? 0) });
      for (const m of delivered) this.marks.set(m.userId, m);
      const ids = rest.slice(newest.size) as { id: number }[][];
      const messages = fresh.map((p, i) => ({ ...rows[i]!, id: ids[i]![0]!.id, editedAt: null, deleted: false, changeSeq: 0, sender: p.input.sender }));
      this.committed({ messages, delivered });
      fresh.forEach((p, i) => p.resolve({ ok: true, message: messages[i]!, created: true }));
    } catch (error) {
      console.error("message flush failed", error);
      // The outcome is unknown (the batch may have committed): rebuild from D1 before the next flush.
      this.lastSeq = null;
      for (const p of batch) p.resolve({ ok: false, status: 503, detail: "The message could not be stored; retry with the same client_message_id." });
    }
  }

  /** Resolves sends whose key is already stored; returns the rest. */
  async #settleDuplicates(db: Database, batch: Pending[]): Promise<Pending[]> {
    const keyed = batch.filter((p) => p.input.clientMessageId);
    if (keyed.length === 0) return batch;
    const [first, ...rest] = keyed.map((p) => byKey(db, p.input.conversationId, p.input.sender.id, p.input.clientMessageId!));
    const found = await db.batch([first!, ...rest]);
    const stored = new Map(keyed.map((p, i) => [p, found[i]![0]]));
    return batch.filter((p) => {
      const existing = stored.get(p);
      if (existing) p.resolve(asRetry({ ok: true, message: existing, created: true }, p.input.body));
      return !existing;
    });
  }
}

/** A retry's answer: the first message if the body matches, 409 if not, or the first attempt's failure. */
function asRetry(first: SendResult, body: string): SendResult {
  if (!first.ok) return first;
  if (first.message.body !== body) return { ok: false, status: 409, detail: "This client_message_id was already used with a different message_body." };
  return { ok: true, message: first.message, created: false };
}
