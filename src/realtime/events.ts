// The WebSocket wire protocol: one JSON object per frame, each with a `type`. Shared with clients.
import { z } from "zod";
import type { ConversationResource } from "../conversations/schemas";
import type { MessageResource } from "../messages/schemas";
import { ClientMessageIdSchema, MessageBodySchema } from "../messages/schemas";

export type Watermarks = { user: number; delivered_up_to: number; read_up_to: number };

/** Server → client. */
export type ServerEvent =
  | { type: "message.created"; message: MessageResource }
  | { type: "message.updated"; message: MessageResource }
  | { type: "message.deleted"; message: MessageResource }
  | ({ type: "receipt" } & Watermarks)
  | { type: "receipts"; receipts: Watermarks[] }
  | { type: "typing"; user: number; until: string }
  | { type: "participant.added"; user: number }
  | { type: "participant.removed"; user: number }
  | { type: "conversation.updated"; conversation: ConversationResource }
  | { type: "ready"; last_seq: number; change_seq: number; receipts: Watermarks[] }
  | { type: "resync"; last_seq: number }
  | { type: "ack"; client_message_id: string | null; message: MessageResource }
  | { type: "error"; code: string; detail: string; client_message_id?: string | null };

/** Client → server, validated with the same rules as REST. */
export const ClientFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("send"), message_body: MessageBodySchema, client_message_id: ClientMessageIdSchema.optional() }),
  z
    .object({ type: z.literal("receipt"), delivered_up_to: z.int().min(0).optional(), read_up_to: z.int().min(0).optional() })
    .refine((r) => r.delivered_up_to !== undefined || r.read_up_to !== undefined, "Give delivered_up_to, read_up_to, or both."),
  z.object({ type: z.literal("typing") }),
  z.object({ type: z.literal("auth"), ticket: z.string().min(1).max(200) }),
]);

export type ClientFrame = z.infer<typeof ClientFrameSchema>;

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
  policy: 1008,
  tooBig: 1009,
} as const;

export const MAX_FRAME_BYTES = 16 * 1024;
/** Per socket: a burst of this many frames, refilled at FRAMES_PER_SECOND; beyond it the socket is closed. */
export const FRAME_BURST = 30;
export const FRAMES_PER_SECOND = 10;
export const REPLAY_LIMIT = 1000;
/** How long a `typing` event shows the indicator. */
export const TYPING_SECONDS = 5;
/**
 * A socket's typing frames are broadcast at most once per this many seconds; the rest are dropped
 * silently, since the indicator of the last one still lasts TYPING_SECONDS.
 */
export const TYPING_INTERVAL_SECONDS = 2;
