// The user stream's wire types, for every client: zod-free at run time (types only), like protocol.ts.
import type { z } from "zod";
import type { MessageSummarySchema, PresenceSchema, StreamEventSchema } from "./stream-schemas";

export type StreamEvent = z.infer<typeof StreamEventSchema>;
export type MessageSummary = z.infer<typeof MessageSummarySchema>;
export type PresenceState = z.infer<typeof PresenceSchema>;

type Unnumbered<E> = E extends { type: "ready" | "resync" } ? never : E extends { event_seq: number } ? Omit<E, "event_seq"> : never;
/** An event as a room or the Worker hands it to a user's hub, which numbers it. */
export type InboxEvent = Unnumbered<StreamEvent>;
/** Characters of a message body a summary keeps. */
export const PREVIEW_LENGTH = 140;
