// One conversation's messages as the client knows them: keyed by seq (so nothing shows twice, and
// order is the server's), plus the sends still waiting for their ack, keyed by client_message_id.
import type { MessageResource, Watermarks } from "./types";

export type Status = "pending" | "failed" | "sent" | "delivered" | "read";
const RANK: Record<Status, number> = { failed: 0, pending: 0, sent: 1, delivered: 2, read: 3 };
export type PendingSend = { cid: string; body: string; error: string | null };

/** Of two copies of one message, the later state: a delete beats an edit, a later edit an earlier one. */
function fresher(a: MessageResource, b: MessageResource): MessageResource {
  if (a.deleted !== b.deleted) return a.deleted ? a : b;
  return (b.edited_at ?? "") > (a.edited_at ?? "") ? b : a;
}

export class Timeline {
  readonly bySeq = new Map<number, MessageResource>();
  readonly pending = new Map<string, PendingSend>();
  /** Each participant's delivered/read watermarks, from `ready`, `receipt` and `receipts` events. */
  readonly marks = new Map<number, { delivered: number; read: number }>();
  /** True once `ready` listed every participant's watermarks (before that, only the server's statuses count). */
  marksComplete = false;
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
    // A send moves its sender's own watermarks (the server sends no receipt for that).
    this.setMarks([{ user: message.sender.id, delivered_up_to: message.seq, read_up_to: message.seq }]);
    const known = this.bySeq.get(message.seq);
    const next = known ? fresher(known, message) : message;
    if (known === next) return false;
    this.bySeq.set(message.seq, next);
    return true;
  }

  /** Queues a send; the id makes a resend after a reconnect safe (the server answers with the stored message). */
  addPending(body: string): PendingSend {
    const send = { cid: crypto.randomUUID(), body, error: null };
    this.pending.set(send.cid, send);
    return send;
  }

  setMarks(list: Watermarks[], replace = false): void {
    if (replace) {
      this.marks.clear();
      this.marksComplete = true;
    }
    for (const w of list) {
      const old = this.marks.get(w.user);
      // Watermarks only move forward; events may be older than what `ready` reported.
      this.marks.set(w.user, { delivered: Math.max(old?.delivered ?? 0, w.delivered_up_to), read: Math.max(old?.read ?? 0, w.read_up_to) });
    }
  }

  /** As the sender sees it: delivered/read once every other participant's watermark passed it. */
  statusOf(message: MessageResource): Status {
    const reported = message.status === "pending" ? "sent" : message.status;
    const others = [...this.marks].filter(([user]) => user !== this.me).map(([, m]) => m);
    if (message.sender.id !== this.me || others.length === 0 || !this.marksComplete) return reported;
    const seq = message.seq;
    const seen: Status = Math.min(...others.map((m) => m.read)) >= seq ? "read" : Math.min(...others.map((m) => m.delivered)) >= seq ? "delivered" : "sent";
    // The resource may be newer than the watermarks this client has heard of, never the reverse.
    return RANK[seen] >= RANK[reported] ? seen : reported;
  }

  /** The newest seq sent by someone else (what a read receipt should cover). */
  newestFromOthers(): number {
    let newest = 0;
    for (const [seq, m] of this.bySeq) if (m.sender.id !== this.me && seq > newest) newest = seq;
    return newest;
  }

  myRead(): number {
    return this.marks.get(this.me)?.read ?? 0;
  }
}
