import type { AuthContext } from "../http/auth-context";
import { CLOSE, type ServerEvent } from "./protocol";
import type { StreamEvent } from "./stream-protocol";

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

// Deserializing on every frame and every broadcast costs more than the send itself: cached per socket
// object (a woken room gets new objects, so the cache never outlives hibernation).
const cache = new WeakMap<WebSocket, Attachment | null>();

/** The socket's attachment (namespaced by version), from the cache. */
export function attachmentOf(ws: WebSocket): Attachment | null {
  let a = cache.get(ws);
  if (a === undefined) {
    const raw = ws.deserializeAttachment() as Attachment | null;
    a = raw?.v === 1 ? raw : null;
    cache.set(ws, a);
  }
  return a;
}

/** Stores the socket's attachment, so it survives hibernation, and caches it. */
export function attach(ws: WebSocket, a: Attachment): void {
  ws.serializeAttachment(a);
  cache.set(ws, a);
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
export function sendEvent(ws: WebSocket, event: ServerEvent | StreamEvent | string): void {
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
