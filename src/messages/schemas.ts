import { z } from "@hono/zod-openapi";

import { AttachmentId, AttachmentSchema } from "../attachments/schemas";
import { bodyLength, MAX_ATTACHMENTS, MAX_BODY_CODE_POINTS } from "./limits";

export { MAX_BODY_CODE_POINTS };
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** At most 4,000 code points once surrounding white space is trimmed for the check; stored as sent. */
const MessageTextSchema = z
  .string()
  .refine((body) => bodyLength(body) <= MAX_BODY_CODE_POINTS, `At most ${MAX_BODY_CODE_POINTS} characters.`)
  // A lone surrogate is no character: stored, it would come back as U+FFFD, not as the body acknowledged.
  .refine((body) => !LONE_SURROGATE.test(body), "The message contains a broken character (a lone UTF-16 surrogate).")
  .openapi({ description: `Up to ${MAX_BODY_CODE_POINTS} Unicode code points (surrounding white space not counted); empty only with attachments.` });

/** 1 to 4,000 code points. */
export const MessageBodySchema = z
  .string()
  .refine((body) => body.trim().length > 0, "The message is empty.")
  .pipe(MessageTextSchema)
  .openapi({ description: `1 to ${MAX_BODY_CODE_POINTS} Unicode code points (surrounding white space not counted).` });

export const ClientMessageIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21-\x7e]+$/, "Use printable ASCII without spaces.")
  .openapi({ description: "Makes the send idempotent for this sender in this conversation." });

export const ReplyToSchema = z.int().positive().openapi({ description: "The id of a message of the same conversation (not deleted) that this one replies to." });

export const AttachmentIdsSchema = z
  .array(AttachmentId)
  .max(MAX_ATTACHMENTS)
  .openapi({ description: `Up to ${MAX_ATTACHMENTS} uploads (POST …/attachments/) of the sender's to this conversation, from the last hour, not sent yet. With any, \`message_body\` may be empty.` });

/** A send's fields: the body may be empty when files come with it. */
export const sendFields = {
  message_body: MessageTextSchema,
  client_message_id: ClientMessageIdSchema.optional(),
  reply_to: ReplyToSchema.optional(),
  attachments: AttachmentIdsSchema.optional(),
};

/** A body with nothing in it is refused unless files come with it. */
export const notEmpty = (send: { message_body: string; attachments?: string[] | undefined }, ctx: z.RefinementCtx) => {
  if (send.message_body.trim().length === 0 && !send.attachments?.length) ctx.addIssue({ code: "custom", path: ["message_body"], message: "The message is empty." });
};

export const SendSchema = z
  .object(sendFields)
  .superRefine(notEmpty)
  .openapi("NewMessage", { description: "Mention a participant by writing `<@USER_ID>` in the body." });
export const FlatSendSchema = z
  .object({ ...sendFields, conversation: z.int().positive() })
  .superRefine(notEmpty)
  .openapi("NewFlatMessage");
export const EditSchema = z.object({ message_body: MessageBodySchema }).strict().openapi("MessageEdit");

export const STATUSES = ["sent", "delivered", "read"] as const;
export type Status = (typeof STATUSES)[number] | "pending";

export const SenderSchema = z.object({ id: z.int(), first_name: z.string(), last_name: z.string() });

export const ReplyQuoteSchema = z
  .object({
    id: z.int(),
    seq: z.int(),
    sender: SenderSchema,
    preview: z.string().openapi({ description: "The quoted body's first 140 characters; empty once it is deleted." }),
    deleted: z.boolean(),
  })
  .openapi("ReplyQuote", { description: "The message a reply answers." });

export const ReactionSchema = z
  .object({ emoji: z.string(), count: z.int(), me: z.boolean().openapi({ description: "Whether the caller reacted with this emoji." }) })
  .openapi("Reaction");

const messageFields = {
  id: z.int(),
  conversation: z.int(),
  seq: z.int(),
  sender: SenderSchema,
  message_body: z.string(),
  sent_at: z.iso.datetime(),
  edited_at: z.iso.datetime().nullable(),
  deleted: z.boolean(),
  status: z.enum(["pending", ...STATUSES]),
  client_message_id: z.string().nullable(),
  blocked: z.boolean().openapi({ description: "From someone the viewer blocked: shown as a placeholder, with no body, files, mentions or reactions." }),
};

// The chat list shows a copy of the last message kept on the conversation's row (it never reads a shard):
// the message's own fields, without what changes apart from it.

export const ChatMessageSchema = z
  .object(messageFields)
  .openapi("ChatMessage", { description: "A chat's last message; read the message itself for its mentions, replies, reactions and pin." });

export const MessageSchema = z
  .object({
    ...messageFields,
    mentions: z.array(z.int()).openapi({ description: "Participants the body mentions as `<@USER_ID>` (resolved when sent or edited)." }),
    reply_to: z.union([ReplyQuoteSchema, z.null()]),
    reply_count: z.int().openapi({ description: "Replies to this message that are not deleted." }),
    reactions: z.array(ReactionSchema).openapi({ description: "Per emoji, in the order each was first used." }),
    pinned_at: z.iso.datetime().nullable(),
    pinned_by: z.int().nullable().openapi({ description: "Who pinned it." }),
    attachments: z.array(AttachmentSchema).openapi({ description: "Its files, in the order sent; a deleted message has none." }),
    deleted_by: z
      .enum(["sender", "owner", "moderator", "expiry"])
      .nullable()
      .openapi({ description: "Who made a deleted message a tombstone: its sender, the conversation's owner, a moderator, or its time running out (disappearing messages)." }),
    expires_at: z.iso.datetime().nullable().openapi({ description: "When this disappearing message is deleted (its conversation's `message_ttl_seconds` when sent); null otherwise." }),
  })
  .openapi("Message");

export type MessageResource = z.infer<typeof MessageSchema>;
export type ChatMessageResource = z.infer<typeof ChatMessageSchema>;

export const ReceiptSchema = z
  .object({
    user: SenderSchema,
    delivered: z.boolean(),
    delivered_at: z.iso.datetime().nullable(),
    read: z.boolean(),
    read_at: z.iso.datetime().nullable(),
  })
  .openapi("Receipt", { description: "`*_at` is when that participant's watermark last moved." });

export const ReceiptInputSchema = z
  .object({ delivered_up_to: z.int().min(0).optional(), read_up_to: z.int().min(0).optional() })
  .strict()
  .refine((r) => r.delivered_up_to !== undefined || r.read_up_to !== undefined, "Give delivered_up_to, read_up_to, or both.")
  .openapi("ReceiptUpdate");

export const WatermarksSchema = z
  .object({ user: z.int(), delivered_up_to: z.int(), read_up_to: z.int() })
  .openapi("Watermarks");

const cursor = z.coerce.number().int().min(0);
export const ReplyListQuery = z.object({
  after_seq: cursor.optional().openapi({ description: "Cursor: messages with a greater seq, oldest first." }),
  before_seq: cursor.optional().openapi({ description: "Cursor: messages with a smaller seq (the newest `limit` of them), oldest first." }),
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: "Cursor page size (default 50)." }),
});
export const MessageListQuery = z.object({
  ...ReplyListQuery.shape,
  status: z.enum(STATUSES).optional(),
  sender: z.coerce.number().int().positive().optional(),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Only messages sent at or after this time." }),
});
