import { ClientFrameSchema } from "./client-frames";
import { attach, attachmentOf, closeSocket, sendEvent, type Attachment, type SocketIdentity } from "./connections";
import { FloodGuard, type FrameBudget } from "./flood";
import type { SendResult } from "./ledger";
import type { Failure } from "./outcome";
import { CLOSE, MAX_FRAME_BYTES, TYPING_INTERVAL_SECONDS, type ClientFrame, type ErrorCode, type ServerEvent } from "./protocol";
import type { Sender } from "../messages/store";
import type { MessageResource } from "../messages/schemas";

/** What a socket's frames may ask of their room (closures over its private state, not its RPC surface). */
export type FrameActions = {
  budget: FrameBudget;
  /** Membership, limit and sender of a send: the same path as a REST send's. */
  prepareSend(userId: number): Promise<Failure | Sender>;
  queueSend(sender: Sender, body: string, clientMessageId: string | null, replyTo: number | null, attachments: string[]): Promise<SendResult>;
  resourceOf(result: SendResult & { ok: true }, viewerId: number): MessageResource;
  receipt(userId: number, deliveredUpTo: number, readUpTo: number): Promise<Failure | null>;
  typing(ws: WebSocket, userId: number): void;
  redeem(ticket: string): Promise<SocketIdentity | null>;
};

const flood = new FloodGuard();
/** Per socket, its latest send once it is queued in the ledger (in memory: nothing is in flight across hibernation). */
const queued = new WeakMap<WebSocket, Promise<unknown>>();
/** Per socket, when its last typing frame was passed on (in memory: hibernation resets it, which only forgives). */
const typedAt = new WeakMap<WebSocket, number>();

const CODES: Record<Failure["status"], ErrorCode> = { 400: "invalid_frame", 403: "forbidden", 404: "not_found", 409: "conflict", 429: "rate_limited", 503: "unavailable" };

/** The socket's side of the RPC boundary: a failure as an `error` frame (see unwrap for REST's). */
export function errorFrame(failure: Failure, clientMessageId?: string | null): ServerEvent {
  return {
    type: "error",
    code: CODES[failure.status],
    detail: failure.detail,
    ...(clientMessageId !== undefined ? { client_message_id: clientMessageId } : {}),
    ...(failure.limit ? { retry_after: failure.limit.decision.retryAfterSeconds } : {}),
  };
}

const error = (ws: WebSocket, code: ErrorCode, detail: string, extra: Partial<ServerEvent & { type: "error" }> = {}) => sendEvent(ws, { type: "error", code, detail, ...extra });

/** An issue as a sentence that names its field (the shared messages already name it in backticks). */
const describe = (i: { path: PropertyKey[]; message: string }) => (i.message.includes("`") ? i.message : `\`${i.path.join(".") || "frame"}\`: ${i.message}`);

/** A frame's text as a client frame, or why not (pure: what a frame means, whoever sent it). */
export function parseFrame(data: string): { frame: ClientFrame } | { code: ErrorCode; detail: string } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { code: "invalid_json", detail: "The frame is not valid JSON." };
  }
  const parsed = ClientFrameSchema.safeParse(json);
  if (parsed.success) return { frame: parsed.data };
  const type = typeof json === "object" && json !== null ? (json as { type?: unknown }).type : undefined;
  const known = ["send", "receipt", "typing", "auth"].includes(String(type));
  return { code: known ? "invalid_frame" : "unknown_type", detail: parsed.error.issues.map(describe).join(" ") };
}

/** Handles one client frame. A bad or over-budget frame gets an `error` frame and the socket stays open. */
export async function handleFrame(ws: WebSocket, data: string | ArrayBuffer, actions: FrameActions): Promise<void> {
  const size = typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength;
  if (size > MAX_FRAME_BYTES) return closeSocket(ws, CLOSE.tooBig, `Frames are at most ${MAX_FRAME_BYTES} bytes.`);
  const verdict = flood.check(ws, actions.budget);
  if (verdict.kind === "flood") return closeSocket(ws, CLOSE.policy, "Far too many frames; slow down.");
  const a = attachmentOf(ws);
  if (!a) return closeSocket(ws, CLOSE.reauthenticate, "Unknown socket.");
  if (a.expiresAt <= Date.now()) return closeSocket(ws, CLOSE.reauthenticate, "The access token expired.");
  const parsed = typeof data === "string" ? parseFrame(data) : ({ code: "invalid_frame", detail: "Frames are JSON text." } as const);
  if (verdict.kind === "limited") {
    // The key lets a client match the drop to its pending send and resend it after retry_after.
    const key = "frame" in parsed && parsed.frame.type === "send" ? { client_message_id: parsed.frame.client_message_id ?? null } : {};
    return error(ws, "rate_limited", `Too many frames; this one was dropped. Retry in ${verdict.retryAfterSeconds} s.`, { ...key, retry_after: verdict.retryAfterSeconds });
  }
  if ("code" in parsed) return error(ws, parsed.code, parsed.detail);
  await dispatch(ws, a, parsed.frame, actions);
}

async function dispatch(ws: WebSocket, a: Attachment, frame: ClientFrame, actions: FrameActions): Promise<void> {
  switch (frame.type) {
    case "send": {
      const key = frame.client_message_id ?? null;
      if (!a.scopes.includes("send:messages")) return error(ws, "insufficient_scope", "Sending needs the send:messages scope.", { client_message_id: key });
      // Frames of one socket are handled concurrently, and preparing a send awaits other objects (the
      // limiter, D1 on a cold sender cache) whose answers may come back in any order, so pipelined sends
      // could take seqs out of frame order. Each send of a socket waits for the one before it to be queued
      // in the ledger (not stored, so group commit still batches them), keeping frame order.
      const previous = queued.get(ws) ?? Promise.resolve();
      const admitted = previous.then(async () => {
        const sender = await actions.prepareSend(a.userId);
        // Wrapped, so the chain moves on once the send is queued rather than once it is stored.
        return { pending: "ok" in sender ? Promise.resolve(sender) : actions.queueSend(sender, frame.message_body, key, frame.reply_to ?? null, frame.attachments ?? []) };
      });
      queued.set(ws, admitted.catch(() => undefined));
      const result = await (await admitted).pending;
      if (!result.ok) return sendEvent(ws, errorFrame(result, key));
      return sendEvent(ws, { type: "ack", client_message_id: key, message: actions.resourceOf(result, a.userId) });
    }
    case "receipt": {
      if (!a.scopes.includes("read:messages")) return error(ws, "insufficient_scope", "Receipts need the read:messages scope.");
      const failure = await actions.receipt(a.userId, frame.delivered_up_to ?? 0, frame.read_up_to ?? 0);
      if (failure) sendEvent(ws, errorFrame(failure));
      return;
    }
    case "typing": {
      const now = Date.now();
      if (now - (typedAt.get(ws) ?? -Infinity) < TYPING_INTERVAL_SECONDS * 1000) return;
      typedAt.set(ws, now);
      return actions.typing(ws, a.userId);
    }
    case "auth": {
      // In-band re-authentication: a fresh ticket for the same user and grant extends the socket's life.
      const identity = await actions.redeem(frame.ticket);
      if (!identity || identity.userId !== a.userId || identity.grantId !== a.grantId) return error(ws, "invalid_ticket", "The ticket is unknown, used, expired, or for another grant.");
      attach(ws, { ...a, scopes: identity.scopes, expiresAt: identity.expiresAt });
      return;
    }
  }
}
