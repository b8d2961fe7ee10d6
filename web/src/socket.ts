// One conversation's WebSocket: a one-time ticket per connection (tokens never go in URLs), resume
// with after_seq/after_change, reconnect with jittered backoff, re-authenticate in band after a refresh.
import { ApiError, ticket } from "./api";
import { onAuthChange, refresh, signedIn } from "./auth";
import { CLOSE } from "../../src/realtime/protocol";
import type { ClientFrame, ServerEvent } from "./types";

export type SocketState = "connecting" | "live" | "offline" | "gone";

type Handlers = {
  /** Where to resume: the newest seq received, and the change_seq of the last `ready`. */
  resumeFrom(): { afterSeq: number | null; afterChange: number | null };
  onEvent(event: ServerEvent): void;
  onState(state: SocketState, detail?: string): void;
};

const MAX_BACKOFF_MS = 15_000;
const PING_MS = 25_000;

const { reauthenticate: REAUTHENTICATE, gone: GONE, superseded: SUPERSEDED } = CLOSE;

export class ConversationSocket {
  #ws: WebSocket | null = null;
  #ready = false;
  #attempt = 0;
  #stopped = false;
  #retry: number | undefined;
  #ping: number | undefined;
  #pongAt = 0;
  #unsubscribe: () => void = () => {};

  constructor(
    readonly conversationId: number,
    readonly handlers: Handlers,
  ) {}

  start(): void {
    window.addEventListener("online", this.#online);
    window.addEventListener("offline", this.#offline);
    this.#unsubscribe = onAuthChange(() => void this.#reauthenticate());
    this.#ping = window.setInterval(() => this.#heartbeat(), PING_MS);
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    window.removeEventListener("online", this.#online);
    window.removeEventListener("offline", this.#offline);
    this.#unsubscribe();
    window.clearTimeout(this.#retry);
    window.clearInterval(this.#ping);
    this.#ws?.close(1000, "Closed by the app.");
    this.#ws = null;
  }

  /** True once `ready` has arrived on the current connection. */
  get live(): boolean {
    return this.#ready && this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sends a frame if the socket is live; false otherwise (the caller keeps it for after `ready`). */
  send(frame: ClientFrame): boolean {
    if (!this.live) return false;
    this.#ws!.send(JSON.stringify(frame));
    return true;
  }

  async #connect(): Promise<void> {
    if (this.#stopped || !signedIn()) return;
    window.clearTimeout(this.#retry);
    this.handlers.onState("connecting");
    let issued: { ticket: string };
    try {
      issued = await ticket(this.conversationId);
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 0;
      if (status === 403 || status === 404) return this.#gone("You are no longer in this conversation.");
      if (status === 401) return; // Signed out: the app goes back to the sign-in screen.
      return this.#backoff();
    }
    if (this.#stopped) return;
    const url = new URL(`/api/conversations/${this.conversationId}/ws`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", issued.ticket);
    const { afterSeq, afterChange } = this.handlers.resumeFrom();
    if (afterSeq !== null) url.searchParams.set("after_seq", String(afterSeq));
    if (afterChange !== null) url.searchParams.set("after_change", String(afterChange));

    const ws = new WebSocket(url);
    this.#ws = ws;
    this.#ready = false;
    this.#pongAt = Date.now();
    ws.onmessage = (message) => {
      if (this.#ws !== ws) return;
      if (message.data === "pong") {
        this.#pongAt = Date.now();
        return;
      }
      const event = JSON.parse(String(message.data)) as ServerEvent;
      if (event.type === "ready") {
        this.#ready = true;
        this.#attempt = 0;
        this.handlers.onState("live");
      }
      this.handlers.onEvent(event);
    };
    ws.onclose = (close) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#ready = false;
      if (this.#stopped) return;
      if (close.code === GONE) return this.#gone(close.reason || "You are no longer in this conversation.");
      // Reconnecting would only push out the user's newer socket in another tab, which would push back.
      if (close.code === SUPERSEDED) return this.#gone("This conversation is open in too many tabs or devices; reload to use it here.");
      if (close.code === REAUTHENTICATE && this.#attempt === 0) {
        // The token expired or was revoked: a refresh either gives a new one or signs the tab out.
        this.#attempt++;
        void refresh().then(() => this.#connect(), () => this.#backoff());
        return;
      }
      this.#backoff();
    };
  }

  #gone(detail: string): void {
    this.#stopped = true;
    this.handlers.onState("gone", detail);
  }

  #backoff(): void {
    if (this.#stopped) return;
    this.handlers.onState("offline");
    // Full jitter, so a server restart is not answered by every client in the same instant.
    const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt);
    this.#attempt++;
    this.#retry = window.setTimeout(() => void this.#connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  /** A dead connection can look open for minutes: no pong for two intervals means reconnect. */
  #heartbeat(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.#pongAt > PING_MS * 2) {
      this.#ws = null;
      ws.close();
      this.#backoff();
      return;
    }
    ws.send("ping");
  }

  readonly #online = () => {
    if (this.#stopped) return;
    // The socket may have survived a short outage; otherwise reconnect now rather than at the next backoff.
    if (this.#ws) return void (this.live && this.handlers.onState("live"));
    this.#attempt = 0;
    void this.#connect();
  };

  readonly #offline = () => {
    this.handlers.onState("offline");
  };

  /** After a token refresh, a fresh ticket extends the open socket's life (the `auth` frame). */
  async #reauthenticate(): Promise<void> {
    if (!signedIn()) return this.stop();
    if (!this.live) return;
    try {
      this.send({ type: "auth", ticket: (await ticket(this.conversationId)).ticket });
    } catch {
      // The socket closes with 4001 when the old token expires, and reconnects then.
    }
  }
}
