// The user's stream (GET /api/events/ws/): the chat list, unread counts and presence across all of their
// conversations, one per tab. It resumes after the last event it saw; the hub replays what was missed or
// answers `resync` and a fresh snapshot.
import { streamTicket } from "./api";
import { LiveSocket, type SocketState } from "./live-socket";
import type { StreamEvent } from "./types";

type Handlers = { onEvent(event: StreamEvent): void; onState(state: SocketState, detail?: string): void };

export function userStream(handlers: Handlers): LiveSocket<StreamEvent> {
  let lastEvent: number | null = null;
  return new LiveSocket<StreamEvent>({
    path: "/api/events/ws/",
    ticket: async () => (await streamTicket()).ticket,
    resume: () => ({ after_event: lastEvent }),
    goneDetail: "Live updates have stopped; reload to get them again.",
    supersededDetail: "Hey is open in too many tabs or devices; reload to get live updates here.",
    onEvent(event) {
      if ("event_seq" in event) lastEvent = event.event_seq;
      handlers.onEvent(event);
    },
    onState: handlers.onState,
  });
}
