// The API's own types, shared with the server so the client cannot drift from the wire format.
export type { ServerEvent, ClientFrame, Progress } from "../../src/realtime/protocol";
export type { StreamEvent, MessageSummary } from "../../src/realtime/stream-protocol";
export type { MessageResource } from "../../src/messages/schemas";
export type { ConversationResource } from "../../src/conversations/schemas";
export type { UserResource, PublicUser } from "../../src/users/schemas";
/** A file in a message (or uploaded for the next one). */
export type { AttachmentResource as Attachment } from "../../src/attachments/schemas";
/** One entry of GET /api/chats/. */
export type { ChatResource as Chat } from "../../src/chats/schemas";

import type { components } from "../../src/client/api-types";
import type { MessageResource } from "../../src/messages/schemas";

/** One of the user's Web Push subscriptions (POST and GET /api/push/subscriptions/). */
export type PushSubscriptionResource = components["schemas"]["PushSubscription"];

/** A DRF-shaped page. */
export type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };

/** The quote a reply carries of the message it answers. */
export type Quote = NonNullable<MessageResource["reply_to"]>;
/** One emoji's reactions on a message. */
export type Reaction = MessageResource["reactions"][number];
/** A page of GET /api/search/messages/: `snippet` is HTML-escaped with matches in <mark>. */
export type SearchPage = { next: string | null; results: { message: MessageResource; snippet: string }[] };

/** The first-party client registered by `npm run web:client` (scripts/seed-web-client.ts). */
export const CLIENT_ID = "hey-web";
export const SCOPES = "read:messages send:messages manage:conversations profile";
/** The app lives under this path; the worker serves its shell for every path below it. */
export const BASE = "/app/";

/** A report of a message as staff see it (the message's text as it read when reported). */
export type Report = components["schemas"]["Report"];
/** What the reporter gets back: their own report, not who resolved it. */
export type FiledReport = components["schemas"]["FiledReport"];
/** One decision in the moderation log. */
export type ModerationAction = components["schemas"]["ModerationAction"];
/** Someone the user blocked (GET /api/users/me/blocks/). */
export type Block = components["schemas"]["Block"];
/** The user's data export (GET and POST /api/users/me/export/). */
export type DataExport = components["schemas"]["DataExport"];
