// One conversation's WebSocket: resumes after the last seq and change it saw, and re-authenticates in
// band (the `auth` frame) after a token refresh, so an open conversation never reconnects for a new token.
import { ticket } from "./api";
import { LiveSocket, type SocketState } from "./live-socket";
import type { ClientFrame, ServerEvent } from "./types";

export type ConversationSocket = LiveSocket<ServerEvent, ClientFrame>;

type Handlers = {
  /** Where to resume: the newest seq received, and the change_seq of the last `ready`. */
  resumeFrom(): { afterSeq: number | null; afterChange: number | null };
  onEvent(event: ServerEvent): void;
  onState(state: SocketState, detail?: string): void;
};

export function conversationSocket(id: number, handlers: Handlers): ConversationSocket {
  return new LiveSocket<ServerEvent, ClientFrame>({
    path: `/api/conversations/${id}/ws`,
    ticket: async () => (await ticket(id)).ticket,
    resume() {
      const { afterSeq, afterChange } = handlers.resumeFrom();
      return { after_seq: afterSeq, after_change: afterChange };
    },
    renew: (fresh) => ({ type: "auth", ticket: fresh }),
    goneDetail: "You are no longer in this conversation.",
    supersededDetail: "This conversation is open in too many tabs or devices; reload to use it here.",
    onEvent: handlers.onEvent,
    onState: handlers.onState,
  });
}
