import { z } from "@hono/zod-openapi";
import { WEBHOOK_EVENTS } from "./events";

export const MAX_WEBHOOK_CONVERSATIONS = 100;

const EventsSchema = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1)
  .max(WEBHOOK_EVENTS.length)
  .refine((events) => new Set(events).size === events.length, "Name each event once.")
  .openapi({ description: `Which events to deliver: ${WEBHOOK_EVENTS.join(", ")}.` });

const ConversationsSchema = z
  .array(z.int().positive())
  .min(1)
  .max(MAX_WEBHOOK_CONVERSATIONS)
  .nullable()
  .openapi({ description: "Only these conversations, or `null` for every conversation the client's grants cover." });

const UrlSchema = z.string().max(2048).openapi({ description: "https on a public host (http on a loopback host while Hey runs locally).", example: "https://example.com/hooks/hey" });

export const NewWebhookSchema = z
  .object({
    url: UrlSchema,
    events: EventsSchema,
    conversations: ConversationsSchema.optional(),
    client_id: z.string().min(1).max(200).optional().openapi({ description: "The owning OAuth client: required for staff, implied by a client's own credentials." }),
  })
  .strict()
  .openapi("NewWebhook");

export const WebhookChangesSchema = z
  .object({
    url: UrlSchema.optional(),
    events: EventsSchema.optional(),
    conversations: ConversationsSchema.optional(),
    enabled: z.boolean().optional().openapi({ description: "`true` turns a disabled endpoint back on (its failure record starts afresh); `false` pauses it." }),
  })
  .strict()
  .openapi("WebhookChanges");

export const RotationSchema = z
  .object({
    overlap_seconds: z
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(86_400)
      .openapi({ description: "How long the old secret keeps signing beside the new one (a second `v1=`), so receivers can switch without losing a delivery." }),
  })
  .strict()
  .openapi("WebhookRotation");

export const WebhookSchema = z
  .object({
    id: z.string(),
    client_id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    conversations: z.array(z.int()).nullable(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({ description: "Why it stopped: paused by its owner, or failing for the whole retry window." }),
    failing_since: z.iso.datetime().nullable().openapi({ description: "The first failed delivery since the last success." }),
    previous_secret_expires_at: z.iso.datetime().nullable().openapi({ description: "Until then the previous secret signs too." }),
    created_at: z.iso.datetime(),
  })
  .openapi("Webhook");

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: "The signing secret (`whsec_…`): shown only now. The whole string is the HMAC-SHA256 key." }),
}).openapi("WebhookWithSecret");

export const DeliveryAttemptSchema = z
  .object({
    delivery_id: z.string().openapi({ description: "The event's id: `Hey-Webhook-Id`, the same on every attempt." }),
    event_type: z.string(),
    attempt: z.int(),
    status_code: z.int().nullable().openapi({ description: "The endpoint's HTTP status, or null when it did not answer." }),
    error: z.string().nullable(),
    latency_ms: z.int(),
    attempted_at: z.iso.datetime(),
  })
  .openapi("WebhookDeliveryAttempt");

export const WebhookIdParam = z.object({ id: z.string().regex(/^wh_[A-Za-z0-9_-]{1,64}$/, "Expected a webhook id such as wh_….").openapi({ param: { name: "id", in: "path" } }) });

export type NewWebhook = z.infer<typeof NewWebhookSchema>;
export type WebhookChanges = z.infer<typeof WebhookChangesSchema>;

export const WebhookEventSchema = z
  .object({
    id: z.string().openapi({ description: "The event's id, also `Hey-Webhook-Id`: the same on every attempt; deduplicate by it." }),
    type: z.enum([...WEBHOOK_EVENTS, "ping"]),
    created_at: z.iso.datetime(),
    conversation_id: z.int().nullable(),
    seq: z.int().nullable().openapi({ description: "Orders a conversation's events: a message event's message seq, the conversation's last seq for the others." }),
    data: z
      .record(z.string(), z.unknown())
      .openapi({ description: "`{message}` for message events, `{conversation}` for conversation.added/updated, `{user}` for participant events, `{}` otherwise." }),
  })
  .openapi("WebhookEvent");
