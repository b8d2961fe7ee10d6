import { createApp } from "./app";

export { RateLimiter } from "./limits/rate-limiter";
export { ConversationRoom } from "./realtime/conversation-room";
export type { AppType } from "./app";

export default createApp() satisfies ExportedHandler<Cloudflare.Env>;
