import type { ConversationRoom } from "./conversation-room";
import { ClientFrameSchema, CLOSE, MAX_FRAME_BYTES, TYPING_INTERVAL_SECONDS, TYPING_SECONDS, type ClientFrame } from "./events";
import { attachmentOf, closeSocket, FloodGuard, sendEvent, type Attachment } from "./sockets";

const flood = new FloodGuard();
/** Per socket, its latest send once it is queued in the ledger (in memory: nothing is in flight across hibernation). */
const queued = new WeakMap<WebSocket, Promise<unknown>>();
/** Per socket, when its last typing frame was broadcast (in memory: hibernation resets it, which only forgives). */
const typedAt = new WeakMap<WebSocket, number>();

const fail = (ws: WebSocket, code: string, detail: string, clientMessageId?: string | null) =>
  sendEvent(ws, { type: "error", code, detail, ...(clientMessageId !== undefined ? { client_message_id: clientMessageId } : {}) });

/** Handles one client frame. A bad frame gets an `error` event and the socket stays open. */
export async function handleFrame(room: ConversationRoom, ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
  const size = typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength;
  if (size > MAX_FRAME_BYTES) return closeSocket(ws, CLOSE.tooBig, `Frames are at most ${MAX_FRAME_BYTES} bytes.`);
  if (!flood.allow(ws)) return closeSocket(ws, CLOSE.policy, "Too many frames; slow down.");
  const a = attachmentOf(ws);
  if (!a) return closeSocket(ws, CLOSE.reauthenticate, "Unknown socket.");
  if (a.expiresAt <= Date.now()) return closeSocket(ws, CLOSE.reauthenticate, "The access token expired.");
  if (typeof data !== "string") return fail(ws, "invalid_frame", "Frames are JSON text.");
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return fail(ws, "invalid_json", "The frame is not valid JSON.");
  }
  const parsed = ClientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const unknownType = typeof json === "object" && json !== null && !["send", "receipt", "typing", "auth"].includes(String((json as { type?: unknown }).type));
    return fail(ws, unknownType ? "unknown_type" : "invalid_frame", parsed.error.issues.map((i) => `${i.path.join(".") || "frame"}: ${i.message}`).join("; "));
  }
  await dispatch(room, ws, a, parsed.data);
}

async function dispatch(room: ConversationRoom, ws: WebSocket, a: Attachment, frame: ClientFrame): Promise<void> {
  switch (frame.type) {
    case "send": {
      const key = frame.client_message_id ?? null;
      if (!a.scopes.includes("send:messages")) return fail(ws, "insufficient_scope", "Sending needs the send:messages scope.", key);
      // Frames of one socket are handled concurrently, and the limit check and sender lookup await other
      // objects (the RateLimiter, D1 on a cold sender cache) whose answers may come back in any order, so
      // pipelined sends could take seqs out of frame order. Each send of a socket waits for the one before
      // it to be queued in the ledger (not stored, so group commit still batches them), keeping frame order.
      // (Under @cloudflare/vitest-pool-workers 0.15.1 the test harness itself reorders webSocketMessage
      // calls, workers-sdk#14061, so tests cannot assert per-socket order.)
      const previous = queued.get(ws) ?? Promise.resolve();
      const admitted = previous.then(async () => {
        const retryAfter = await room.sendLimit(a.userId);
        if (retryAfter !== null) return { retryAfter };
        const sender = await room.senderOf(a.userId);
        return { pending: room.send({ conversationId: a.conversationId, sender, body: frame.message_body, clientMessageId: key }) };
      });
      queued.set(ws, admitted.catch(() => undefined));
      const step = await admitted;
      if ("retryAfter" in step) return fail(ws, "rate_limited", `Too many messages; retry in ${step.retryAfter} s.`, key);
      const result = await step.pending;
      if (!result.ok) return fail(ws, result.status === 409 ? "conflict" : result.status === 404 ? "not_found" : "unavailable", result.detail, key);
      return sendEvent(ws, { type: "ack", client_message_id: key, message: result.resource });
    }
    case "receipt": {
      if (!a.scopes.includes("read:messages")) return fail(ws, "insufficient_scope", "Receipts need the read:messages scope.");
      await room.receipt(a.conversationId, a.userId, frame.delivered_up_to ?? 0, frame.read_up_to ?? 0);
      return;
    }
    case "typing": {
      const now = Date.now();
      if (now - (typedAt.get(ws) ?? -Infinity) < TYPING_INTERVAL_SECONDS * 1000) return;
      typedAt.set(ws, now);
      return room.typing(ws, a.userId, new Date(now + TYPING_SECONDS * 1000).toISOString());
    }
    case "auth": {
      // In-band re-authentication: a fresh ticket for the same user and grant extends the socket's life.
      const identity = await room.redeemTicket(frame.ticket);
      if (!identity || identity.userId !== a.userId || identity.grantId !== a.grantId) return fail(ws, "invalid_ticket", "The ticket is unknown, used, expired, or for another grant.");
      ws.serializeAttachment({ ...a, scopes: identity.scopes, expiresAt: identity.expiresAt } satisfies Attachment);
      return;
    }
  }
}
