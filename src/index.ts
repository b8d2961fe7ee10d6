import { env } from "cloudflare:workers";
import { createApp } from "./app";
import { config } from "./config";

export { RateLimiter } from "./limits/rate-limiter";
export { ConversationRoom } from "./realtime/conversation-room";
export { UserHub } from "./realtime/user-hub";
export type { AppType } from "./app";

// A var that does not parse stops the Worker at start-up (and a deploy at upload) with the reason,
// rather than running on a silently substituted default.
config(env);

export default createApp() satisfies ExportedHandler<Cloudflare.Env>;
