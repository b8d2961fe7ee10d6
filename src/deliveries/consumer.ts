// The queue consumer (src/index.ts `queue`): delivers each job, and decides its retry itself, with a delay
// that grows, until the job's window is over; then it goes to the dead-letter queue, whose consumer logs it.
import { config } from "../config";
import { database } from "../db/client";
import { deliverPush } from "../push/deliver";
import { deliverWebhook, gaveUp } from "../webhooks/deliver";
import { retryDelaySeconds } from "./backoff";
import type { Job } from "./jobs";

const DEAD_QUEUE = "hey-deliveries-dead";

export async function consumeDeliveries(batch: MessageBatch<Job>, env: Cloudflare.Env): Promise<void> {
  const db = database(env.DB);
  const c = config(env);
  const windowMs = c.WEBHOOK_RETRY_WINDOW_SECONDS * 1000;
  if (batch.queue === DEAD_QUEUE) {
    await Promise.all(
      batch.messages.map(async (message) => {
        if (message.body.kind === "webhook") await gaveUp(db, message.body, message.attempts, windowMs);
        else console.error(`push notification dropped after the retry window (subscription ${message.body.subscription})`);
        message.ack();
      }),
    );
    return;
  }
  await Promise.all(
    batch.messages.map(async (message) => {
      const job = message.body;
      let outcome: "done" | "retry";
      try {
        outcome = job.kind === "webhook" ? await deliverWebhook(db, job, message.attempts, windowMs) : await deliverPush(env, db, job);
      } catch (error) {
        console.error(`delivering a ${job.kind} job failed`, error);
        outcome = "retry";
      }
      if (outcome === "done") return message.ack();
      const delay = retryDelaySeconds(message.attempts, c.WEBHOOK_RETRY_BASE_SECONDS, c.WEBHOOK_RETRY_MAX_SECONDS);
      if (Date.now() + delay * 1000 - job.first_at > windowMs) {
        await env.DEAD_DELIVERIES.send(job, { contentType: "json" });
        return message.ack();
      }
      message.retry({ delaySeconds: delay });
    }),
  );
}
