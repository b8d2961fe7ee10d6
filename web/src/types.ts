// The API's own types, shared with the server so the client cannot drift from the wire format.
export type { ServerEvent, ClientFrame, Progress } from "../../src/realtime/protocol";
export type { StreamEvent, MessageSummary } from "../../src/realtime/stream-protocol";
export type { MessageResource } from "../../src/messages/schemas";
export type { ConversationResource } from "../../src/conversations/schemas";
export type { UserResource, PublicUser } from "../../src/users/schemas";

import type { ConversationResource } from "../../src/conversations/schemas";
import type { MessageResource } from "../../src/messages/schemas";

/** One entry of GET /api/chats/. */
export type Chat = { conversation: ConversationResource; last_message: MessageResource | null; unread_count: number };

/** A DRF-shaped page. */
export type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };

/** The first-party client registered by `npm run web:client` (scripts/seed-web-client.ts). */
export const CLIENT_ID = "hey-web";
export const SCOPES = "read:messages send:messages manage:conversations profile";
/** The app lives under this path; the worker serves its shell for every path below it. */
export const BASE = "/app/";
