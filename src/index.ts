import { env } from "cloudflare:workers";
import { createApp } from "./app";
import { removeUnattached } from "./attachments/removal";
import { config } from "./config";
import { database } from "./db/client";
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

export default {
  fetch: app.fetch,
  /** The cron (wrangler.toml [triggers]): uploads never sent within the hour are deleted. */
  scheduled: (_controller, workerEnv, ctx) => ctx.waitUntil(removeUnattached(database(workerEnv.DB), workerEnv.ATTACHMENTS).then(() => undefined)),
  /** Webhook and push deliveries (wrangler.toml [[queues.consumers]]). */
  queue: (batch, workerEnv) => consumeDeliveries(batch, workerEnv),
} satisfies ExportedHandler<Cloudflare.Env, Job>;
