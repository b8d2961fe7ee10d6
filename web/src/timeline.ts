// One conversation's messages as the client knows them: keyed by seq (so nothing shows twice, and
// order is the server's), plus the sends still waiting for their ack, keyed by client_message_id.
import { quoteOf } from "./message-changes";
import type { Attachment, ClientFrame, MessageResource, Progress, Quote } from "./types";

export type Status = "pending" | "failed" | "sent" | "delivered" | "read";
const RANK: Record<Status, number> = { failed: 0, pending: 0, sent: 1, delivered: 2, read: 3 };
export type PendingSend = { cid: string; body: string; replyTo: Quote | null; attachments: Attachment[]; error: string | null };

/** The socket frame that sends a pending message (again, after a reconnect: the same frame). */
export function sendFrame(send: PendingSend): ClientFrame {
  return {
    type: "send",
    message_body: send.body,
    client_message_id: send.cid,
    ...(send.replyTo && { reply_to: send.replyTo.id }),
    ...(send.attachments.length > 0 && { attachments: send.attachments.map((a) => a.id) }),
  };
}

/**
 * Of two copies of one message, the later state: a delete beats an edit, a later edit an earlier one.
 * Otherwise the one that came last: reactions, pins and reply counts change without an edit.
 */
function fresher(a: MessageResource, b: MessageResource): MessageResource {
  if (a.deleted !== b.deleted) return a.deleted ? a : b;
  if (a.edited_at !== b.edited_at) return (b.edited_at ?? "") > (a.edited_at ?? "") ? b : a;
  return JSON.stringify(a) === JSON.stringify(b) ? a : b;
}

export class Timeline {
  readonly bySeq = new Map<number, MessageResource>();
  readonly pending = new Map<string, PendingSend>();
  /** How far my messages got with everyone else, from `ready` and `status` events (null until `ready`). */
  progress: { delivered: number; read: number } | null = null;
  /** My own read watermark. */
  #myRead = 0;
  /** The highest seq the socket has brought (resume with after_seq = this). */
  streamSeq = 0;

  constructor(readonly me: number) {}

  /** Seqs in order, oldest first. */
  seqs(): number[] {
    return [...this.bySeq.keys()].sort((a, b) => a - b);
  }

  oldestSeq(): number | null {
    return this.bySeq.size ? Math.min(...this.bySeq.keys()) : null;
  }

  newestSeq(): number {
    return this.bySeq.size ? Math.max(...this.bySeq.keys()) : 0;
  }

  /** Adds or refreshes a message; an own message settles its pending send. True when anything changed. */
  upsert(message: MessageResource): boolean {
    if (message.sender.id === this.me && message.client_message_id) this.pending.delete(message.client_message_id);
    // A send of mine moves my own read watermark (the server says nothing of that).
    if (message.sender.id === this.me) this.#myRead = Math.max(this.#myRead, message.seq);
    const known = this.bySeq.get(message.seq);
    const next = known ? fresher(known, message) : message;
    if (known === next) return false;
    this.bySeq.set(message.seq, next);
    return true;
  }

  /**
   * Takes a copy of a message with what it means for others: `replyDelta` moves the reply count of the
   * message it answers, and its replies quote its new text. Returns the messages that changed.
   */
  take(message: MessageResource, replyDelta: number): MessageResource[] {
    const parentSeq = (message.reply_to ?? this.bySeq.get(message.seq)?.reply_to)?.seq;
    const changed = this.upsert(message) ? [this.bySeq.get(message.seq)!] : [];
    const parent = parentSeq === undefined ? undefined : this.bySeq.get(parentSeq);
    if (replyDelta && parent) this.#change({ ...parent, reply_count: Math.max(0, parent.reply_count + replyDelta) }, changed);
    if (changed[0]?.seq === message.seq) {
      const quote = quoteOf(changed[0]);
      for (const reply of this.bySeq.values()) {
        const old = reply.reply_to;
        if (old?.id === quote.id && (old.preview !== quote.preview || old.deleted !== quote.deleted)) this.#change({ ...reply, reply_to: quote }, changed);
      }
    }
    return changed;
  }

  #change(message: MessageResource, changed: MessageResource[]): void {
    if (this.upsert(message)) changed.push(message);
  }

  /** Queues a send; the id makes a resend after a reconnect safe (the server answers with the stored message). */
  addPending(body: string, replyTo: Quote | null, attachments: Attachment[]): PendingSend {
    const send = { cid: crypto.randomUUID(), body, replyTo, attachments, error: null };
    this.pending.set(send.cid, send);
    return send;
  }

  /** Progress only moves forward; an event may be older than what `ready` reported. */
  setProgress(p: Progress): void {
    this.progress = { delivered: Math.max(this.progress?.delivered ?? 0, p.delivered_up_to), read: Math.max(this.progress?.read ?? 0, p.read_up_to) };
  }

  setMyRead(seq: number): void {
    this.#myRead = Math.max(this.#myRead, seq);
  }

  /** As I see my message: delivered/read once everyone else's watermark passed it. */
  statusOf(message: MessageResource): Status {
    const reported = message.status === "pending" ? "sent" : message.status;
    if (message.sender.id !== this.me || !this.progress) return reported;
    const seen: Status = this.progress.read >= message.seq ? "read" : this.progress.delivered >= message.seq ? "delivered" : "sent";
    // The resource may be newer than the progress this client has heard of, never the reverse.
    return RANK[seen] >= RANK[reported] ? seen : reported;
  }

  /** The newest seq sent by someone else (what a read receipt should cover). */
  newestFromOthers(): number {
    let newest = 0;
    for (const [seq, m] of this.bySeq) if (m.sender.id !== this.me && seq > newest) newest = seq;
    return newest;
  }

  myRead(): number {
    return this.#myRead;
  }
}
