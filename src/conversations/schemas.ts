import { z } from "@hono/zod-openapi";
import { SenderSchema } from "../messages/schemas";

export const MAX_PARTICIPANTS = 200;
export const MIN_MESSAGE_TTL = 3600;
export const MAX_MESSAGE_TTL = 365 * 86_400;

export const TitleSchema = z.string().trim().max(200).nullable();

export const NewConversationSchema = z
  .object({
    participants: z.array(z.int().positive()).max(MAX_PARTICIPANTS - 1),
    title: TitleSchema.optional(),
    reuse_direct: z.boolean().default(false).openapi({ description: "With one other participant: return the existing conversation of the two (200) if there is one." }),
  })
  .openapi("NewConversation");

export const ConversationChangesSchema = z
  .object({
    title: TitleSchema.optional().openapi({ description: "Any participant sets it for everyone, or clears it with `null`." }),
    muted_until: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .openapi({ description: "The caller's own: no push notifications from this conversation until then, except messages that mention them; `null` unmutes." }),
    message_ttl_seconds: z
      .int()
      .min(MIN_MESSAGE_TTL, `Disappearing messages last at least an hour (${MIN_MESSAGE_TTL} s).`)
      .max(MAX_MESSAGE_TTL, `Disappearing messages last at most a year (${MAX_MESSAGE_TTL} s).`)
      .nullable()
      .optional()
      .openapi({ description: "The owner turns disappearing messages on (1 hour to 1 year, in seconds) or off (`null`); messages already sent keep their time." }),
  })
  .strict()
  .refine((c) => c.title !== undefined || c.muted_until !== undefined || c.message_ttl_seconds !== undefined, { message: "Send title, muted_until or message_ttl_seconds.", path: ["title"] })
  .openapi("ConversationChanges");
export const NewParticipantSchema = z.object({ user_id: z.int().positive() }).strict().openapi("NewParticipant");

export const ConversationSchema = z
  .object({
    id: z.int(),
    title: z.string().nullable(),
    owner: z.int(),
    participants: z.array(SenderSchema),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    last_seq: z.int().openapi({ description: "The seq of the newest message; also how many messages (tombstones included) there are." }),
    last_message_at: z.iso.datetime().nullable(),
    last_activity_at: z.iso.datetime(),
    message_ttl_seconds: z
      .int()
      .nullable()
      .openapi({ description: "Disappearing messages: those sent while it is set are deleted this many seconds after they were sent (null: off)." }),
  })
  .openapi("Conversation");

export type ConversationResource = z.infer<typeof ConversationSchema>;

export { IdParam } from "../http/params";
