import type { AuthContext } from "../http/auth-context";
import type { MessageResource } from "../messages/schemas";
import { statusOf, statusView, type Watermark } from "../messages/status";
import { CLOSE, FRAME_BURST, FRAMES_PER_SECOND, type ServerEvent } from "./events";

/** Who a socket acts for: set by the Worker after authentication, kept across hibernation. */
export type SocketIdentity = { userId: number; grantId: string; scopes: string[]; expiresAt: number };

/** What a socket keeps of the access token that opened it (or minted its ticket). */
export const socketIdentity = (auth: AuthContext): SocketIdentity => ({ userId: auth.userId, grantId: auth.grantId, scopes: [...auth.scopes], expiresAt: auth.expiresAt });

/**
 * Per-socket state in `serializeAttachment`, so it survives hibernation (namespaced by version).
 * `openedAt` picks the oldest socket to displace; sockets opened before it was recorded lack it.
 */
export type Attachment = { v: 1; conversationId: number; openedAt?: number } & SocketIdentity;

export const userTag = (userId: number) => `user:${userId}`;
export const grantTag = (grantId: string) => `grant:${grantId}`;

export function attachmentOf(ws: WebSocket): Attachment | null {
  const a = ws.deserializeAttachment() as Attachment | null;
  return a?.v === 1 ? a : null;
}

/**
 * Keeps one user's sockets in a room to `cap` once `newest` joined them: the oldest close with 4029. A new
 * socket displaces rather than being refused, so sockets of a client that vanished without closing them
 * never lock the user out.
 */
export function supersedeOldest(sockets: WebSocket[], newest: WebSocket, cap: number): void {
  // Only open ones: a socket already closed for an earlier newcomer may be listed until its close completes.
  const older = sockets.filter((ws) => ws !== newest && ws.readyState === WebSocket.READY_STATE_OPEN);
  older.sort((x, y) => (attachmentOf(x)?.openedAt ?? 0) - (attachmentOf(y)?.openedAt ?? 0));
  for (const ws of older.slice(0, Math.max(0, older.length - (cap - 1)))) {
    closeSocket(ws, CLOSE.superseded, "Too many sockets on this conversation; a newer one replaced this one.");
  }
}

/** Sends one event; a socket that is already closing is skipped rather than failing the room. */
export function sendEvent(ws: WebSocket, event: ServerEvent | string): void {
  try {
    ws.send(typeof event === "string" ? event : JSON.stringify(event));
  } catch {
    // Closed between lookup and send: its close handler cleans up.
  }
}

/** Closes a socket; 1005 and 1006 may not be sent, so they become 1000. */
export function closeSocket(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // Already closed.
  }
}

/**
 * The frames of one message event for each viewer: a message's status depends on who looks, but there
 * are at most three statuses, so each distinct frame is serialized once however many members watch.
 */
export function framesFor(type: "message.created" | "message.updated" | "message.deleted", message: MessageResource, marks: Map<number, Watermark>) {
  const cache = new Map<string, string>();
  const all = [...marks.values()];
  return (viewerId: number): string => {
    const status = statusOf(statusView(viewerId, all), { seq: message.seq, senderId: message.sender.id });
    let frame = cache.get(status);
    if (!frame) {
      frame = JSON.stringify({ type, message: { ...message, status } } satisfies ServerEvent);
      cache.set(status, frame);
    }
    return frame;
  };
}

/** A token bucket per socket, in memory: hibernation resets it, which only forgives. */
export class FloodGuard {
  readonly #buckets = new WeakMap<WebSocket, { tokens: number; at: number }>();

  /** False when the socket has sent frames faster than FRAMES_PER_SECOND beyond a burst of FRAME_BURST. */
  allow(ws: WebSocket, now = Date.now()): boolean {
    const b = this.#buckets.get(ws) ?? { tokens: FRAME_BURST, at: now };
    b.tokens = Math.min(FRAME_BURST, b.tokens + ((now - b.at) / 1000) * FRAMES_PER_SECOND) - 1;
    b.at = now;
    this.#buckets.set(ws, b);
    return b.tokens >= 0;
  }
}
