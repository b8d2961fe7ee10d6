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
        if (message.body.kind === "webhook") await gaveUp(db, message.body, message.attempts, windowMs, c.WEBHOOK_RETRY_BASE_SECONDS * 1000);
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
      // The last retry lands at the window's end, not before it: a job is given up only once the window is over.
      const left = Math.ceil((job.first_at + windowMs - Date.now()) / 1000);
      if (left <= 0) {
        await env.DEAD_DELIVERIES.send(job, { contentType: "json" });
        return message.ack();
      }
      message.retry({ delaySeconds: Math.min(left, retryDelaySeconds(message.attempts, c.WEBHOOK_RETRY_BASE_SECONDS, c.WEBHOOK_RETRY_MAX_SECONDS)) });
    }),
  );
}
