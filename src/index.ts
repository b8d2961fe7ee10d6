import { env } from "cloudflare:workers";
import { createApp } from "./app";
import { removeUnattached } from "./attachments/removal";
import { config } from "./config";
import { database } from "./db/client";
import { consumeAccountJobs } from "./accounts/consumer";
import { removeExpiredExports } from "./accounts/export";
import type { AccountJob } from "./accounts/jobs";
import { consumeDeliveries } from "./deliveries/consumer";
import type { Job } from "./deliveries/jobs";

export { RateLimiter } from "./limits/rate-limiter";
export { ConversationRoom } from "./realtime/conversation-room";
export { UserHub } from "./realtime/user-hub";
export type { AppType } from "./app";

// A var that does not parse stops the Worker at start-up (and a deploy at upload) with the reason,
// rather than running on a silently substituted default.
config(env);

const app = createApp();
const ACCOUNTS_QUEUE = "hey-accounts";

export default {
  fetch: app.fetch,
  /** The cron (wrangler.toml [triggers]): uploads never sent within the hour, and expired data exports, are deleted. */
  scheduled: (_controller, workerEnv, ctx) =>
    ctx.waitUntil(Promise.all([removeUnattached(database(workerEnv.DB), workerEnv.ATTACHMENTS), removeExpiredExports(database(workerEnv.DB), workerEnv.EXPORTS)]).then(() => undefined)),
  /** Webhook and push deliveries, and account jobs (wrangler.toml [[queues.consumers]]). */
  queue: (batch, workerEnv) =>
    batch.queue === ACCOUNTS_QUEUE ? consumeAccountJobs(batch as MessageBatch<AccountJob>, workerEnv) : consumeDeliveries(batch as MessageBatch<Job>, workerEnv),
} satisfies ExportedHandler<Cloudflare.Env, Job | AccountJob>;
