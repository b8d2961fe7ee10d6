// What webhooks deliver: one event per change of a conversation, the same body on every attempt.
import type { Database } from "../db/client";
import { enqueue, type WebhookJob } from "../deliveries/jobs";
import { webhookTargets } from "./targets";
import { every } from "../db/compiled";

export const WEBHOOK_EVENTS = [
  "message.created",
  "message.updated",
  "message.deleted",
  "conversation.added",
  "conversation.updated",
  "conversation.deleted",
  "participant.added",
  "participant.removed",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/**
 * A delivery's body. `seq` orders a conversation's events: a message event carries its message's seq, the
 * others the conversation's last seq when they happened; a test `ping` has neither.
 */
export type WebhookEvent = {
  id: string;
  type: WebhookEventType | "ping";
  created_at: string;
  conversation_id: number | null;
  seq: number | null;
  data: Record<string, unknown>;
};

export function webhookEvent(type: WebhookEvent["type"], conversationId: number | null, seq: number | null, data: Record<string, unknown>, now = new Date()): WebhookEvent {
  return { id: `evt_${crypto.randomUUID().replaceAll("-", "")}`, type, created_at: now.toISOString(), conversation_id: conversationId, seq, data };
}

/** Every endpoint's copy of every event, in order. */
export function webhookJobs(endpoints: string[], events: WebhookEvent[], now = Date.now()): WebhookJob[] {
  return events.flatMap((event) => endpoints.map((endpoint): WebhookJob => ({ kind: "webhook", endpoint, event, first_at: now })));
}

/**
 * Queues an event of a conversation for the endpoints that want it: one read of the main database (which
 * endpoints subscribe, and whose client a member of `audience` granted read:messages), then the queue.
 */
export async function dispatchWebhooks(db: Database, queue: Queue, conversationId: number, audience: number[], event: WebhookEvent): Promise<void> {
  const endpoints = await every(webhookTargets(db, conversationId, audience, event.type as WebhookEventType));
  if (endpoints.length) await enqueue(queue, webhookJobs(endpoints.map((e) => e.id), [event]));
}
