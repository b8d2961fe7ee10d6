// The jobs on the `hey-deliveries` queue (wrangler.toml): what a conversation's room or a route hands over
// after its answer, delivered by src/deliveries/consumer.ts. Each is JSON; `first_at` (ms) is when it was
// first queued, so retries stop after the window however many there were.
import type { Notification } from "../push/notification";
import type { WebhookEvent } from "../webhooks/events";

/** One event for one endpoint. */
export type WebhookJob = { kind: "webhook"; endpoint: string; event: WebhookEvent; first_at: number };
/** One notification for one browser's subscription. */
export type PushJob = { kind: "push"; subscription: string; notification: Notification; first_at: number };
export type Job = WebhookJob | PushJob;

// Queues take at most 100 messages and 256 KB in one sendBatch (a message up to 128 KB).
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 250_000;
const SEND_ATTEMPTS = 3;

/**
 * Queues `jobs` in as few calls as the queue's limits allow, retrying a failed call: after this the queue
 * owns them (it retries deliveries, not we). A call that fails every attempt is thrown to the caller.
 */
export async function enqueue(queue: Queue, jobs: Job[]): Promise<void> {
  let batch: MessageSendRequest<Job>[] = [];
  let bytes = 0;
  const flush = async () => {
    for (let attempt = 1; batch.length; attempt++) {
      try {
        await queue.sendBatch(batch);
        batch = [];
        bytes = 0;
      } catch (error) {
        if (attempt === SEND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  };
  for (const job of jobs) {
    const size = JSON.stringify(job).length * 3;
    if (batch.length === BATCH_MESSAGES || bytes + size > BATCH_BYTES) await flush();
    batch.push({ body: job, contentType: "json" });
    bytes += size;
  }
  await flush();
}
