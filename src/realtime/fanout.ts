import { hideBlocked } from "../messages/blocked";
import { toMessageResource } from "../messages/resource";
import { statusOf, statusView, type Watermark } from "../messages/status";
import type { StoredMessage } from "../messages/store";
import { attachmentOf, sendEvent } from "./connections";
import type { Progress, ServerEvent } from "./protocol";

type Buffered = { seq: number | null; send: (ws: WebSocket) => void };
type MessageEvent = "message.created" | "message.updated" | "message.deleted" | "message.pinned" | "message.unpinned";

/**
 * The frames of one message event for each viewer: a message's status and its reactions' `me` depend on
 * who looks, but few viewers differ (three statuses; `me` only for those who reacted), so each distinct
 * frame is serialized once however many members watch.
 */
export function framesFor(type: MessageEvent, message: StoredMessage, marks: readonly Watermark[], blockedBy: (viewerId: number) => ReadonlySet<number>) {
  const cache = new Map<string, string>();
  return (viewerId: number): string => {
    const view = statusView(viewerId, marks);
    const blocked = blockedBy(viewerId);
    // Whether the viewer blocked its sender, or the sender of the message it quotes.
    const hidden = `${blocked.has(message.senderId)}:${message.replyTo !== null && blocked.has(message.replyTo.senderId)}`;
    const key = `${statusOf(view, message)}:${message.reactions.filter((r) => r.users.includes(viewerId)).map((r) => r.emoji)}:${hidden}`;
    let frame = cache.get(key);
    if (!frame) {
      frame = JSON.stringify({ type, message: hideBlocked(toMessageResource(message, view), blocked) } satisfies ServerEvent);
      cache.set(key, frame);
    }
    return frame;
  };
}

/**
 * Delivery to a room's sockets, in one order. A socket still replaying history buffers live events and
 * switches to live with no await in between, so it sees no gap and no duplicate. Status goes out as
 * each viewer's Progress, only when it changed for that viewer: a bounded frame per socket per flush,
 * whatever the member count.
 */
export class Fanout {
  readonly replaying = new Map<WebSocket, Buffered[]>();
  /** Per viewer, the Progress its sockets last got (in memory: after a wake-up each gets it once more). */
  readonly #progressSent = new Map<number, string>();

  constructor(
    private readonly sockets: () => WebSocket[],
    private readonly blockedBy: (viewerId: number) => ReadonlySet<number>,
  ) {}

  /** Users with a live (not replaying) socket. */
  liveUsers(): number[] {
    const users = new Set<number>();
    for (const ws of this.sockets()) {
      const id = attachmentOf(ws)?.userId;
      if (id !== undefined && !this.replaying.has(ws)) users.add(id);
    }
    return [...users];
  }

  /** Sends to live sockets, buffers for replaying ones (`seq` lets the switch drop what replay covered). */
  deliver(send: (ws: WebSocket, viewerId: number) => void, seq: number | null = null, except?: WebSocket): void {
    for (const ws of this.sockets()) {
      if (ws === except) continue;
      const a = attachmentOf(ws);
      if (!a) continue;
      const buffer = this.replaying.get(ws);
      if (buffer) buffer.push({ seq, send: (s) => send(s, a.userId) });
      else send(ws, a.userId);
    }
  }

  broadcast(event: ServerEvent, except?: WebSocket): void {
    const frame = JSON.stringify(event);
    this.deliver((ws) => sendEvent(ws, frame), null, except);
  }

  message(type: MessageEvent, message: StoredMessage, marks: readonly Watermark[]): void {
    const frames = framesFor(type, message, marks, this.blockedBy);
    this.deliver((ws, viewer) => sendEvent(ws, frames(viewer)), type === "message.created" ? message.seq : null);
  }

  /** Tells each viewer whose Progress moved; `progressOf` is computed once for all viewers. */
  progress(progressOf: (viewerId: number) => Progress): void {
    const frames = new Map<number, string | null>();
    this.deliver((ws, viewer) => {
      let frame = frames.get(viewer);
      if (frame === undefined) {
        const p = progressOf(viewer);
        const key = `${p.delivered_up_to}:${p.read_up_to}`;
        frame = this.#progressSent.get(viewer) === key ? null : JSON.stringify({ type: "status", ...p } satisfies ServerEvent);
        this.#progressSent.set(viewer, key);
        frames.set(viewer, frame);
      }
      if (frame) sendEvent(ws, frame);
    });
  }

  /**
   * A socket finished replaying (its `ready` carried `progress`): what it buffered goes out after
   * `sent`, then it is live.
   */
  goLive(ws: WebSocket, sent: number, viewerId: number, progress: Progress): void {
    this.#progressSent.set(viewerId, `${progress.delivered_up_to}:${progress.read_up_to}`);
    for (const event of this.replaying.get(ws) ?? []) if (event.seq === null || event.seq > sent) event.send(ws);
    this.replaying.delete(ws);
  }
}
