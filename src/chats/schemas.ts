import { z } from "@hono/zod-openapi";
import { ConversationSchema } from "../conversations/schemas";
import { ChatMessageSchema } from "../messages/schemas";

export const ChatSchema = z
  // A union, not .nullable(): @hono/zod-openapi renders .nullable() on a referenced schema as an allOf
  // that null can never match, so the document would refuse a chat that has no message yet.
  .object({
    conversation: ConversationSchema,
    last_message: z.union([ChatMessageSchema, z.null()]),
    unread_count: z.int(),
    mentions: z.int().openapi({ description: "Unread messages that mention the caller." }),
    muted_until: z.iso.datetime().nullable().openapi({ description: "Until then the caller gets push notifications from it only when mentioned (`PATCH /api/conversations/{id}/`)." }),
  })
  .openapi("Chat");

export type ChatResource = z.infer<typeof ChatSchema>;
