// The `hey-accounts` queue's consumer (src/index.ts `queue`): one step of an account deletion or a data
// export per job. A step that throws is retried by the queue (max_retries in wrangler.toml).
import { database } from "../db/client";
import { eraseStep } from "./deletion";
import { exportStep } from "./export";
import type { AccountJob } from "./jobs";

export async function consumeAccountJobs(batch: MessageBatch<AccountJob>, env: Cloudflare.Env): Promise<void> {
  const db = database(env.DB);
  for (const message of batch.messages) {
    try {
      await (message.body.kind === "erase" ? eraseStep(env, db, message.body) : exportStep(env, db, message.body));
      message.ack();
    } catch (error) {
      console.error(`an account job (${message.body.kind}) failed; it will be retried`, error);
      message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    }
  }
}
