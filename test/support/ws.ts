import { env, SELF } from "cloudflare:test";
import { createGrant } from "../../src/auth/oauth/grants";
import { issueTokens } from "../../src/auth/oauth/tokens";
import { ALL_SCOPES, type Scope } from "../../src/auth/scopes";
import { config } from "../../src/config";
import { database } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { StreamEventSchema } from "../../src/realtime/stream-schemas";
import { ORIGIN } from "./http";
import { registerClient } from "./oauth";

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

async function openAt(url: URL, auth: { token?: string; ticket?: string; origin?: string }, texts?: string[]): Promise<{ res: Response; socket: Socket | null }> {
  if (auth.ticket) url.searchParams.set("ticket", auth.ticket);
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  if (auth.origin) headers.Origin = auth.origin;
  const res = await SELF.fetch(url.toString(), { headers });
  const ws = res.webSocket;
  if (!ws) return { res, socket: null };
  ws.accept();
  return { res, socket: track(ws, texts) };
}

/**
 * Collects every frame `ws` receives as parsed JSON in `events`; with `texts`, frames that are not JSON
 * (the runtime's "pong") go there instead of failing the parse.
 */
function track(ws: WebSocket, texts?: string[]): Socket {
  const events: any[] = [];
  const waiters: { predicate: (e: any) => boolean; resolve: (e: any) => void }[] = [];
  ws.addEventListener("message", (m) => {
    let event: any;
    if (!texts) event = JSON.parse(m.data as string);
    else {
      try {
        event = JSON.parse(m.data as string);
      } catch {
        texts.push(String(m.data));
        return;
      }
    }
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
  return { ws, events, closed, send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)), next };
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

/** A user stream: its JSON frames in `events`, any other text frame (the runtime's "pong") in `texts`. */
export type Stream = Socket & { texts: string[]; afterEvent?: number };

/** Streams opened by `connectStream` since the last `endStreams()`. */
const streams: Stream[] = [];

/** Opens the user stream like `openStream`, tolerating text frames, and keeps it for `endStreams()`. */
export async function connectStream(auth: Parameters<typeof openStream>[0]): Promise<{ res: Response; stream: Stream | null }> {
  const url = new URL("/api/events/ws", ORIGIN);
  if (auth.afterEvent !== undefined) url.searchParams.set("after_event", String(auth.afterEvent));
  const texts: string[] = [];
  const { res, socket } = await openAt(url, auth, texts);
  if (!socket) return { res, stream: null };
  const stream: Stream = { ...socket, texts, afterEvent: auth.afterEvent };
  streams.push(stream);
  return { res, stream };
}

/** A user stream that must be accepted (101), once its `ready` arrived. */
export async function connectStreamReady(auth: Parameters<typeof openStream>[0]): Promise<Stream> {
  const { res, stream } = await connectStream(auth);
  if (res.status !== 101 || !stream) throw new Error(`stream refused: ${res.status} ${await res.text()}`);
  await stream.next((e) => e.type === "ready");
  return stream;
}

/**
 * What a stream's frames break of the protocol: each must be a `StreamEvent` (text frames only "pong");
 * a resumed stream replays from `after_event + 1` then sends `ready` (resumed) at the last one replayed, or
 * sends `resync` first; a fresh one starts with `ready`; after `ready`, each event is one above the last.
 */
export function streamViolations(stream: Stream): string[] {
  const problems: string[] = [];
  for (const text of stream.texts) if (text !== "pong") problems.push(`text frame ${JSON.stringify(text)}`);
  const resuming = stream.afterEvent !== undefined;
  let phase: "replay" | "snapshot" | "live" = resuming ? "replay" : "snapshot";
  let expected = resuming ? stream.afterEvent! + 1 : 0;
  let replayed = 0;
  for (const frame of stream.events) {
    const parsed = StreamEventSchema.safeParse(frame);
    if (!parsed.success) problems.push(`invalid frame ${JSON.stringify(frame).slice(0, 300)}: ${parsed.error.message.slice(0, 300)}`);
    const at = `${frame.type} #${frame.event_seq}`;
    if (frame.type === "error") continue;
    if (frame.type === "resync") {
      if (phase !== "replay" || replayed > 0) problems.push(`${at}: resync not first on a resumed stream`);
      phase = "snapshot";
    } else if (frame.type === "ready") {
      if (phase === "live") problems.push(`${at}: a second ready`);
      if (frame.resumed && (phase !== "replay" || frame.event_seq !== expected - 1)) problems.push(`${at}: resumed ready out of place (expected #${expected - 1})`);
      if (!frame.resumed && (phase !== "snapshot" || !Array.isArray(frame.chats) || !Array.isArray(frame.presence))) problems.push(`${at}: a fresh ready without its snapshot, or out of place`);
      expected = frame.event_seq + 1;
      phase = "live";
    } else {
      if (phase === "snapshot") problems.push(`${at}: an event before ready`);
      else if (frame.event_seq !== expected) problems.push(`${at}: expected #${expected}`);
      if (phase === "replay") replayed += 1;
      expected = frame.event_seq + 1;
    }
  }
  return problems;
}

/** Closes every stream `connectStream` opened since the last call, and returns what they broke of the protocol. */
export function endStreams(): string[] {
  const problems = streams.flatMap((s, i) => streamViolations(s).map((p) => `stream ${i}: ${p}`));
  for (const s of streams.splice(0)) {
    try {
      s.ws.close(1000);
    } catch {
      // Closed by the server already.
    }
  }
  return problems;
}

let streamers = 0;

/**
 * A user and an access token of theirs, as `member()` gives them, made straight in D1 (a registered
 * client, a grant, issued tokens) without sign-up's and login's PBKDF2: stream tests need many users, and
 * sign-up and login have tests of their own. Pass `user` for another grant of the same user; the user
 * has no usable password.
 */
export async function streamMember(options: { user?: { id: number; first_name: string; last_name: string }; scopes?: Scope[]; staff?: boolean } = {}) {
  const db = database(env.DB);
  let user = options.user;
  if (!user) {
    streamers += 1;
    const now = new Date();
    const [row] = await db
      .insert(users)
      .values({ email: `streamer${streamers}-${crypto.randomUUID().slice(0, 8)}@example.com`, passwordHash: "!", firstName: `Streamer${streamers}`, lastName: "Test", isStaff: options.staff ?? false, createdAt: now, updatedAt: now })
      .returning();
    user = { id: row!.id, first_name: row!.firstName, last_name: row!.lastName };
  }
  const scopes = options.scopes ?? ALL_SCOPES.filter((s) => s !== "admin" || options.staff);
  const client = await registerClient();
  const tokens = await issueTokens(db, await createGrant(db, user.id, client.clientId, scopes), scopes, config(env));
  return { user, client, tokens, token: tokens.access_token };
}

/** Waits until D1 records the user offline: their hub's alarm, the grace after their last stream closed. */
export async function offlineInD1(userId: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const row = await env.DB.prepare("SELECT online FROM presence WHERE user_id = ?").bind(userId).first<{ online: number }>();
    if (row?.online === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`user ${userId} still online after ${timeoutMs} ms`);
}
