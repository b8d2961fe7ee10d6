import { z } from "@hono/zod-openapi";
import { ChatSchema } from "../chats/schemas";
import { ConversationSchema } from "../conversations/schemas";
import { SenderSchema } from "../messages/schemas";

// The user stream's frames (GET /api/events/ws), as the OpenAPI document and the typed client describe
// them; src/realtime/stream-protocol.ts gives clients the same types without zod.

export const MessageSummarySchema = z
  .object({
    id: z.int(),
    seq: z.int(),
    sender: SenderSchema,
    preview: z.string().openapi({ description: "The body's first 140 characters; empty for a deleted message." }),
    sent_at: z.iso.datetime(),
    edited: z.boolean(),
    deleted: z.boolean(),
  })
  .openapi("MessageSummary", { description: "A message as the chat list shows it." });

export const PresenceSchema = z
  .object({ user: z.int(), online: z.boolean(), last_seen_at: z.iso.datetime().nullable() })
  .openapi("Presence", { description: "Offline with a null `last_seen_at` when the user hides their presence." });

const event = { event_seq: z.int().openapi({ description: "Per user, gap-free while the stream stays continuous; resume with `?after_event=`." }) };
const conversationId = { conversation_id: z.int() };

export const StreamEventSchema = z
  .discriminatedUnion("type", [
    z
      .object({
        type: z.literal("ready"),
        ...event,
        resumed: z.boolean().openapi({ description: "True when the events after `after_event` were replayed, so the client's state is current." }),
        chats: z.array(ChatSchema).optional().openapi({ description: "Not resumed: the chat list's first page, newest activity first." }),
        chats_count: z.int().optional().openapi({ description: "Not resumed: how many chats there are in all." }),
        presence: z.array(PresenceSchema).optional().openapi({ description: "Not resumed: the contacts who are online now." }),
      })
      .openapi("StreamReady"),
    z
      .object({ type: z.literal("resync") })
      .openapi("StreamResync", { description: "`after_event` is not covered by the log: the `ready` that follows carries a fresh snapshot and the position to resume from." }),
    z.object({ type: z.literal("conversation.added"), ...event, chat: ChatSchema }),
    z.object({ type: z.literal("conversation.updated"), ...event, conversation: ConversationSchema }),
    z.object({ type: z.literal("conversation.removed"), ...event, ...conversationId }),
    z.object({
      type: z.literal("message.created"),
      ...event,
      ...conversationId,
      message: MessageSummarySchema,
      unread_count: z.int().openapi({ description: "The user's unread messages in the conversation once this one arrived." }),
      mentioned: z.boolean().openapi({ description: "Whether the message mentions the user (a chat's `mentions` count grows by one)." }),
    }),
    z.object({ type: z.literal("message.updated"), ...event, ...conversationId, message: MessageSummarySchema }),
    z.object({ type: z.literal("message.deleted"), ...event, ...conversationId, message: MessageSummarySchema }),
    z.object({
      type: z.literal("receipt"),
      ...event,
      ...conversationId,
      delivered_seq: z.int(),
      read_seq: z.int(),
      unread_count: z.int(),
      mentions: z.int().openapi({ description: "The user's unread mentions in the conversation after the move." }),
    }),
    z.object({ type: z.literal("presence"), ...event, ...PresenceSchema.shape }),
    z.object({ type: z.literal("error"), code: z.enum(["unknown_type", "rate_limited"]), detail: z.string() }),
  ])
  .openapi("StreamEvent", {
    description:
      "One JSON object per frame of the user stream. After `ready`, every event has an `event_seq` one above the last; " +
      "`message.*` events only concern the chat list (open the conversation's socket for its full messages).",
  });
