import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { database, type Database } from "../db/client";
import { conversations, participants } from "../db/schema";
import { byKey, deleteChunk, findMessage, insertMessage, type Sender, type StoredMessage } from "../messages/store";
import { changeMessage, conversationAdvanced, moveWatermarks, senderWatermarks } from "../messages/writes";

/** A send as the room receives it; the Worker has authenticated the sender and checked membership. */
export type SendInput = { conversationId: number; sender: Sender; body: string; clientMessageId: string | null };

export type SendResult =
  | { ok: true; message: StoredMessage; created: boolean }
  | { ok: false; status: 404 | 409 | 503; detail: string };

type Pending = { input: SendInput; resolve: (result: SendResult) => void };

// D1 allows 100 bound parameters per statement and a batch is one transaction: one insert per message,
// at most this many messages per flush.
export const MAX_BATCH = 50;
const PURGE_CHUNK = 1000;

/**
 * One per conversation: the single writer of its message order. Sends are queued and written in group
 * commits: while one D1 batch is in flight, later sends wait and go together in the next one. The
 * sequence counter is rebuilt from D1 after eviction or after a failed or unknown write.
 */
export class ConversationRoom extends DurableObject<Cloudflare.Env> {
  #lastSeq: number | null = null;
  #queue: Pending[] = [];
  #flushing = false;
  readonly #inflight = new Map<string, Promise<SendResult>>();

  get #db(): Database {
    return database(this.env.DB);
  }

  /** Loads the counter under the input gate, so no send can see it half-loaded. */
  async #counter(conversationId: number): Promise<number | null> {
    if (this.#lastSeq === null) {
      await this.ctx.blockConcurrencyWhile(async () => {
        const row = await this.#db.select({ lastSeq: conversations.lastSeq }).from(conversations).where(eq(conversations.id, conversationId)).get();
        this.#lastSeq = row?.lastSeq ?? null;
      });
    }
    return this.#lastSeq;
  }

  /** The last sequence number this room has assigned (0 for a new conversation). */
  async lastSeq(conversationId: number): Promise<number> {
    return (await this.#counter(conversationId)) ?? 0;
  }

  /**
   * Stores a message and gives it the next seq. A retry with the same client_message_id returns the
   * first message (created: false) — also while the first is still in flight — or 409 for another body.
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
      while (this.#queue.length > 0) await this.#commit(this.#queue.splice(0, MAX_BATCH));
    } finally {
      this.#flushing = false;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const db = this.#db;
    const conversationId = batch[0]!.input.conversationId;
    try {
      const lastSeq = await this.#counter(conversationId);
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
      const results = await db.batch([
        conversationAdvanced(db, conversationId, lastSeq + fresh.length, now),
        ...[...newest].map(([userId, seq]) => senderWatermarks(db, conversationId, userId, seq, now)),
        ...rows.map((row) => insertMessage(db, row)),
      ]);
      this.#lastSeq = lastSeq + fresh.length;
      const ids = results.slice(1 + newest.size) as { id: number }[][];
      fresh.forEach((p, i) => {
        const message = { ...rows[i]!, id: ids[i]![0]!.id, editedAt: null, deleted: false, changeSeq: 0, sender: p.input.sender };
        p.resolve({ ok: true, message, created: true });
      });
    } catch (error) {
      console.error("message flush failed", error);
      // The outcome is unknown (the batch may have committed): rebuild the counter before the next flush.
      this.#lastSeq = null;
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

  /** Edits or tombstones a message (the caller checked who may); null when it is gone or already deleted. */
  async change(conversationId: number, messageId: number, change: { body: string; editedAt?: Date; deleted?: boolean }): Promise<StoredMessage | null> {
    const db = this.#db;
    if (!(await changeMessage(db, conversationId, messageId, change))) return null;
    return (await findMessage(db, conversationId, messageId)) ?? null;
  }

  /** Moves a participant's receipt watermarks forward; null when the user is not a participant. */
  async receipt(conversationId: number, userId: number, deliveredUpTo: number, readUpTo: number) {
    return moveWatermarks(this.#db, conversationId, userId, deliveredUpTo, readUpTo, new Date());
  }

  /**
   * Deletes the conversation: membership goes at once (everyone gets 404 from then on), messages follow
   * in chunks from the alarm so a long history never exceeds one request's limits.
   */
  async purge(conversationId: number): Promise<void> {
    await this.#db.delete(participants).where(eq(participants.conversationId, conversationId));
    await this.ctx.storage.put("purge", conversationId);
    await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const conversationId = await this.ctx.storage.get<number>("purge");
    if (conversationId === undefined) return;
    const db = this.#db;
    if ((await deleteChunk(db, conversationId, PURGE_CHUNK)) > 0) {
      await this.ctx.storage.setAlarm(Date.now());
      return;
    }
    await db.delete(conversations).where(eq(conversations.id, conversationId));
    this.#lastSeq = null;
    await this.ctx.storage.deleteAll();
  }
}

/** A retry's answer: the first message if the body matches, 409 if not, or the first attempt's failure. */
function asRetry(first: SendResult, body: string): SendResult {
  if (!first.ok) return first;
  if (first.message.body !== body) {
    return { ok: false, status: 409, detail: "This client_message_id was already used with a different message_body." };
  }
  return { ok: true, message: first.message, created: false };
}
