// A WebSocket that stays open: a one-time ticket per connection (tokens never go in URLs), resume from
// where the last connection stopped, reconnect with jittered backoff, a heartbeat, and the close codes
// both of Hey's sockets share. The conversation socket and the user stream differ only in their Endpoint.
import { ApiError } from "./api";
import { onAuthChange, refresh, signedIn } from "./auth";
import { CLOSE } from "../../src/realtime/protocol";

export type SocketState = "connecting" | "live" | "offline" | "gone";

/** What one kind of socket supplies. */
export type Endpoint<Event, Frame> = {
  path: string;
  /** A one-time ticket for the next connection (throws ApiError). */
  ticket(): Promise<string>;
  /** Query parameters saying where to resume, read at each connection (null ones are left out). */
  resume(): Record<string, number | null>;
  /** The frame that extends an open socket's life after a token refresh; without one, the socket closes with 4001 and reconnects. */
  renew?(ticket: string): Frame;
  /** Why the socket is gone when its ticket is refused (403, 404) or it closes with 4003 and no reason. */
  goneDetail: string;
  /** Why the socket is gone when a newer one of the user's took its place (4029). */
  supersededDetail: string;
  onEvent(event: Event): void;
  onState(state: SocketState, detail?: string): void;
};

const MAX_BACKOFF_MS = 15_000;
const PING_MS = 25_000;

const { reauthenticate: REAUTHENTICATE, gone: GONE, superseded: SUPERSEDED } = CLOSE;

/** This tab's sockets waiting out a backoff: once one gets through, the server is back for all of them. */
const waiting = new Set<() => void>();

export class LiveSocket<Event extends { type: string }, Frame = never> {
  #ws: WebSocket | null = null;
  #ready = false;
  #attempt = 0;
  #stopped = false;
  #retry: number | undefined;
  #ping: number | undefined;
  #pongAt = 0;
  #unsubscribe: () => void = () => {};

  constructor(readonly endpoint: Endpoint<Event, Frame>) {}

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
    waiting.delete(this.#retryNow);
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
  send(frame: Frame): boolean {
    if (!this.live) return false;
    this.#ws!.send(JSON.stringify(frame));
    return true;
  }

  async #connect(): Promise<void> {
    waiting.delete(this.#retryNow);
    if (this.#stopped || !signedIn()) return;
    window.clearTimeout(this.#retry);
    this.endpoint.onState("connecting");
    let ticket: string;
    try {
      ticket = await this.endpoint.ticket();
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 0;
      if (status === 403 || status === 404) return this.#gone(this.endpoint.goneDetail);
      if (status === 401) return; // Signed out: the app goes back to the sign-in screen.
      return this.#backoff();
    }
    if (this.#stopped) return;
    const url = new URL(this.endpoint.path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket);
    for (const [name, value] of Object.entries(this.endpoint.resume())) if (value !== null) url.searchParams.set(name, String(value));

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
      const event = JSON.parse(String(message.data)) as Event;
      if (event.type === "ready") {
        this.#ready = true;
        this.#attempt = 0;
        this.endpoint.onState("live");
        for (const retry of waiting) retry();
      }
      this.endpoint.onEvent(event);
    };
    ws.onclose = (close) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#ready = false;
      if (this.#stopped) return;
      if (close.code === GONE) return this.#gone(close.reason || this.endpoint.goneDetail);
      // Reconnecting would only push out the user's newer socket in another tab, which would push back.
      if (close.code === SUPERSEDED) return this.#gone(this.endpoint.supersededDetail);
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
    this.endpoint.onState("gone", detail);
  }

  #backoff(): void {
    if (this.#stopped) return;
    this.endpoint.onState("offline");
    // Full jitter, so a server restart is not answered by every client in the same instant.
    const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt);
    this.#attempt++;
    waiting.add(this.#retryNow);
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

  readonly #retryNow = () => {
    this.#attempt = 0;
    void this.#connect();
  };

  readonly #online = () => {
    if (this.#stopped) return;
    // The socket may have survived a short outage; otherwise reconnect now rather than at the next backoff.
    if (this.#ws) return void (this.live && this.endpoint.onState("live"));
    this.#attempt = 0;
    void this.#connect();
  };

  readonly #offline = () => {
    this.endpoint.onState("offline");
  };

  /** After a token refresh, a fresh ticket extends the open socket's life (the endpoint's `renew` frame). */
  async #reauthenticate(): Promise<void> {
    if (!signedIn()) return this.stop();
    const renew = this.endpoint.renew;
    if (!renew || !this.live) return;
    try {
      this.send(renew(await this.endpoint.ticket()));
    } catch {
      // The socket closes with 4001 when the old token expires, and reconnects then.
    }
  }
}
