import type { Status } from "./schemas";

/** A participant's watermarks: every message with seq ≤ delivered/read has been delivered/read. */
export type Watermark = { userId: number; deliveredSeq: number; readSeq: number };

/** What one viewer needs to state a message's status, computed once per conversation. */
export type StatusView = { viewerId: number; own: { delivered: number; read: number }; others: { delivered: number; read: number } | null };

/**
 * For the sender, a message is delivered/read once every other participant's watermark passed it
 * (with nobody else left, it stays `sent`); for a recipient, its own watermarks decide.
 */
export function statusView(viewerId: number, watermarks: readonly Watermark[]): StatusView {
  const mine = watermarks.find((w) => w.userId === viewerId);
  const others = watermarks.filter((w) => w.userId !== viewerId);
  return {
    viewerId,
    own: { delivered: mine?.deliveredSeq ?? 0, read: mine?.readSeq ?? 0 },
    others: others.length
      ? { delivered: Math.min(...others.map((w) => w.deliveredSeq)), read: Math.min(...others.map((w) => w.readSeq)) }
      : null,
  };
}

export function statusOf(view: StatusView, message: { seq: number; senderId: number }): Status {
  const marks = message.senderId === view.viewerId ? view.others : view.own;
  if (!marks) return "sent";
  if (marks.read >= message.seq) return "read";
  if (marks.delivered >= message.seq) return "delivered";
  return "sent";
}

/** The seq range `(low, high]` holding the viewer's messages (own: true) or others' with a given status. */
export function statusRange(view: StatusView, own: boolean, status: "sent" | "delivered" | "read"): [number, number] {
  const marks = own ? view.others : view.own;
  if (!marks) return status === "sent" ? [0, Number.MAX_SAFE_INTEGER] : [0, 0];
  if (status === "read") return [0, marks.read];
  if (status === "delivered") return [marks.read, marks.delivered];
  return [marks.delivered, Number.MAX_SAFE_INTEGER];
}
