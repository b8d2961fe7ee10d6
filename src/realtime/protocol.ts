// The WebSocket wire protocol, shared with every client: the web app imports this module (types and
// constants), so it stays free of zod; src/realtime/client-frames.ts validates what clients send.
import type { ConversationResource } from "../conversations/schemas";
import type { MessageResource } from "../messages/schemas";

/**
 * How far the viewer's own messages have been delivered to, and read by, every other participant.
 * One small event per viewer, however many members there are: a message of the viewer's with
 * seq ≤ read_up_to is read, ≤ delivered_up_to delivered, else sent.
 */
export type Progress = { delivered_up_to: number; read_up_to: number };

/** Server → client, one JSON object per frame. */
export type ServerEvent =
  | { type: "message.created"; message: MessageResource }
  | { type: "message.updated"; message: MessageResource }
  | { type: "message.deleted"; message: MessageResource }
  | { type: "message.pinned"; message: MessageResource }
  | { type: "message.unpinned"; message: MessageResource }
  /** `count`: how many reacted with `emoji` after this change. */
  | { type: "reaction.added"; message_id: number; seq: number; emoji: string; user: number; count: number }
  | { type: "reaction.removed"; message_id: number; seq: number; emoji: string; user: number; count: number }
  | ({ type: "status" } & Progress)
  | { type: "typing"; user: number; until: string }
  | { type: "participant.added"; user: number }
  | { type: "participant.removed"; user: number }
  | { type: "conversation.updated"; conversation: ConversationResource }
  /** Replay is over: live events follow. `read_seq` is the viewer's own read watermark. */
  | ({ type: "ready"; last_seq: number; change_seq: number; read_seq: number } & Progress)
  | { type: "resync"; last_seq: number }
  | { type: "ack"; client_message_id: string | null; message: MessageResource }
  /** `retry_after` (seconds) comes with `rate_limited`; the frame was dropped, send it again then. */
  | { type: "error"; code: ErrorCode; detail: string; client_message_id?: string | null; retry_after?: number };

export type ErrorCode =
  | "invalid_frame"
  | "invalid_json"
  | "unknown_type"
  | "insufficient_scope"
  | "invalid_ticket"
  | "rate_limited"
  | "not_found"
  | "forbidden"
  | "conflict"
  | "unavailable";

/** Client → server. */
export type ClientFrame =
  | { type: "send"; message_body: string; client_message_id?: string; reply_to?: number; attachments?: string[] }
  | { type: "receipt"; delivered_up_to?: number; read_up_to?: number }
  | { type: "typing" }
  | { type: "auth"; ticket: string };

/** Close codes clients act on. */
export const CLOSE = {
  /** Token expired or revoked: re-authenticate, then reconnect. */
  reauthenticate: 4001,
  /** Removed from the conversation, deactivated, or the conversation was deleted: do not reconnect. */
  gone: 4003,
  /**
   * The user opened more than MAX_SOCKETS_PER_CONVERSATION sockets on this conversation and this, the
   * oldest, made way for the newest: do not reconnect on your own (the user's newer sockets are live).
   */
  superseded: 4029,
  /** A gross flood (far beyond the frame budget): frames past the budget alone only get `rate_limited`. */
  policy: 1008,
  tooBig: 1009,
} as const;

export const MAX_FRAME_BYTES = 16 * 1024;
/**
 * How fast a client should send its queued frames: comfortably under the server's default frame budget
 * (WS_FRAMES_PER_SECOND 10 beyond a burst of WS_FRAME_BURST 30), leaving room for receipts and typing.
 */
export const CLIENT_PACE: { readonly perSecond: number; readonly burst: number } = { perSecond: 8, burst: 20 };
export const REPLAY_LIMIT = 1000;
/** How long a `typing` event shows the indicator. */
export const TYPING_SECONDS = 5;
/**
 * A socket's typing frames are broadcast at most once per this many seconds; the rest are dropped
 * silently, since the indicator of the last one still lasts TYPING_SECONDS.
 */
export const TYPING_INTERVAL_SECONDS = 2;
