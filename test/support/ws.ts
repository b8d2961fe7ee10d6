import { SELF } from "cloudflare:test";
import { ORIGIN } from "./http";

/** An open WebSocket to a conversation, collecting every event it receives. */
export type Socket = { ws: WebSocket; events: any[]; closed: Promise<{ code: number; reason: string }>; send: (frame: unknown) => void; next: (predicate: (e: any) => boolean, timeoutMs?: number) => Promise<any> };

/** Opens the conversation's socket through the Worker, with a bearer token or a ticket. */
export async function openSocket(conversationId: number, auth: { token?: string; ticket?: string; afterSeq?: number; origin?: string; afterChange?: number }): Promise<{ res: Response; socket: Socket | null }> {
  const url = new URL(`/api/conversations/${conversationId}/ws`, ORIGIN);
  if (auth.afterSeq !== undefined) url.searchParams.set("after_seq", String(auth.afterSeq));
  if (auth.afterChange !== undefined) url.searchParams.set("after_change", String(auth.afterChange));
  return openAt(url, auth);
}

/** Opens the user stream (GET /api/events/ws) through the Worker, with a bearer token or a stream ticket. */
export async function openStream(auth: { token?: string; ticket?: string; afterEvent?: number; origin?: string }): Promise<{ res: Response; socket: Socket | null }> {
  const url = new URL("/api/events/ws", ORIGIN);
  if (auth.afterEvent !== undefined) url.searchParams.set("after_event", String(auth.afterEvent));
  return openAt(url, auth);
}

/** Opens a user stream that must be accepted (101) and waits for its `ready` event. */
export async function openStreamReady(auth: Parameters<typeof openStream>[0]): Promise<Socket> {
  const { res, socket } = await openStream(auth);
  if (res.status !== 101 || !socket) throw new Error(`stream refused: ${res.status} ${await res.text()}`);
  await socket.next((e) => e.type === "ready");
  return socket;
}

async function openAt(url: URL, auth: { token?: string; ticket?: string; origin?: string }): Promise<{ res: Response; socket: Socket | null }> {
  if (auth.ticket) url.searchParams.set("ticket", auth.ticket);
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  if (auth.origin) headers.Origin = auth.origin;
  const res = await SELF.fetch(url.toString(), { headers });
  const ws = res.webSocket;
  if (!ws) return { res, socket: null };
  ws.accept();
  const events: any[] = [];
  const waiters: { predicate: (e: any) => boolean; resolve: (e: any) => void }[] = [];
  ws.addEventListener("message", (m) => {
    const event = JSON.parse(m.data as string);
    events.push(event);
    for (const w of [...waiters]) if (w.predicate(event)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(event);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
  const next = (predicate: (e: any) => boolean, timeoutMs = 5000) => {
    const seen = events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event; got ${JSON.stringify(events).slice(0, 500)}`)), timeoutMs);
      waiters.push({ predicate, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  };
  return { res, socket: { ws, events, closed, send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)), next } };
}

/**
 * Resolves with the first `count` events of `socket` matching `predicate`, waiting (polling) until that
 * many have arrived; rejects after `timeoutMs` with what did arrive. Unlike `next`, it counts repeats.
 */
export async function collect(socket: Socket, predicate: (e: any) => boolean, count: number, timeoutMs = 5000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const matching = socket.events.filter(predicate);
    if (matching.length >= count) return matching.slice(0, count);
    if (Date.now() > deadline) throw new Error(`expected ${count} matching events, got ${matching.length}: ${JSON.stringify(socket.events.slice(-5)).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The socket's close `{code, reason}`, or a rejection if it is still open after `timeoutMs`. */
export function closedWithin(socket: Socket, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs)));
  return Promise.race([socket.closed, timeout]).finally(() => clearTimeout(timer));
}

/** Opens a socket that must be accepted (101) and waits for its `ready` event. */
export async function openReady(conversationId: number, auth: Parameters<typeof openSocket>[1]): Promise<Socket> {
  const { res, socket } = await openSocket(conversationId, auth);
  if (res.status !== 101 || !socket) throw new Error(`socket refused: ${res.status} ${await res.text()}`);
  await socket.next((e) => e.type === "ready");
  return socket;
}
