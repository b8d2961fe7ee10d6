// A Hey WebSocket (a conversation's, or the user stream): resume with the query the handlers give,
// reconnect with jittered backoff, renew the token on 4001 (or an HTTP 401 at the upgrade), stop for good
// on 4003/4029 or a refusal. Both sockets share the close codes and the `ready` that ends a replay.
import WebSocket from "ws";
import { CLOSE, type ClientFrame } from "../../src/realtime/protocol";
import { AuthEnded, type Auth } from "./auth";
import { clause, detailOf } from "./format";

export type ConnectionHandlers<Event> = {
  /** Where to resume from: query parameters (after_seq, after_event…), null ones left out. */
  resumeFrom(): Record<string, number | null>;
  onEvent(event: Event): void;
  /** A live connection (after `ready`) dropped, or a connect attempt failed: retrying in `ms`. */
  onOffline(detail: string, ms: number): void;
  /** The end: no reconnecting from this. */
  onFatal(detail: string): void;
};

const MAX_BACKOFF_MS = 15_000;
const PING_MS = 25_000;

/** What is opened: the socket's path, and how to name it to the user (e.g. "this conversation"). */
export type Endpoint = { path: string; name: string };

export class Connection<Event extends { type: string }> {
  #ws: WebSocket | null = null;
  #ready = false;
  #attempt = 0;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;
  #pongAt = 0;
  /** Whether the last renewal was answered with the same refusal: then a 401 is final. */
  #renewedFor401 = false;

  constructor(
    readonly url: string,
    readonly endpoint: Endpoint,
    readonly auth: Auth,
    readonly handlers: ConnectionHandlers<Event>,
  ) {}

  start(): void {
    this.#ping = setInterval(() => this.#heartbeat(), PING_MS);
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearInterval(this.#ping);
    this.#ws?.close(1000, "Bye.");
    this.#ws = null;
  }

  /** True once `ready` has arrived on the current connection. */
  get live(): boolean {
    return this.#ready && this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sends a frame if the socket is live; false otherwise. */
  send(frame: ClientFrame): boolean {
    if (!this.live) return false;
    this.#ws!.send(JSON.stringify(frame));
    return true;
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    if (!this.auth.access) {
      try {
        await this.auth.refresh();
      } catch (error) {
        return error instanceof AuthEnded ? this.handlers.onFatal(error.message) : this.#backoff(String((error as Error).message));
      }
    }
    const url = new URL(this.endpoint.path, this.url.replace(/^http/, "ws"));
    for (const [key, value] of Object.entries(this.handlers.resumeFrom())) if (value !== null) url.searchParams.set(key, String(value));
    // After the server's close frame, wait at most a second for its end of the TCP close (ws waits 30 s by
    // default, and `wrangler dev` holds it open for long): the close code is what matters, and soon.
    const token = this.auth.access;
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, closeTimeout: 1_000 } as WebSocket.ClientOptions);
    let failure = "";
    this.#ws = ws;
    this.#ready = false;
    this.#pongAt = Date.now();
    ws.on("message", (data) => {
      if (this.#ws !== ws) return;
      const text = String(data);
      if (text === "pong") return void (this.#pongAt = Date.now());
      let event: Event;
      try {
        event = JSON.parse(text) as Event;
      } catch {
        return; // Not an event of this protocol.
      }
      if (event.type === "ready") {
        this.#ready = true;
        this.#attempt = 0;
        this.#renewedFor401 = false;
      }
      this.handlers.onEvent(event);
    });
    ws.on("unexpected-response", (request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk));
      response.on("end", () => {
        request.destroy();
        if (this.#ws !== ws) return;
        this.#ws = null;
        void this.#refused(token, response.statusCode ?? 0, detailOf(response.statusCode ?? 0, body), Number(response.headers["retry-after"]));
      });
    });
    ws.on("close", (code, reason) => {
      if (this.#ws !== ws) return;
      const wasLive = this.#ready;
      this.#ws = null;
      this.#ready = false;
      if (this.#stopped) return;
      const why = String(reason) || (code === 1006 ? (wasLive ? "connection lost" : `cannot connect (${failure || "no answer"})`) : `closed with ${code}`);
      if (code === CLOSE.gone) return this.handlers.onFatal(String(reason) || `You can no longer open ${this.endpoint.name}.`);
      // Reconnecting would only push out the user's newer socket, which would push back.
      if (code === CLOSE.superseded) return this.handlers.onFatal(`${clause(why)}: ${this.endpoint.name} is open in too many places.`);
      if (code === CLOSE.reauthenticate) return void this.#renew(token, why);
      this.#backoff(why);
    });
    ws.on("error", (error) => {
      // "close" follows (unless "unexpected-response" already handled the failure).
      failure = error.message;
    });
  }

  async #refused(token: string | null, status: number, detail: string, retryAfter: number): Promise<void> {
    if (this.#stopped) return;
    if (status === 401) return this.#renew(token, detail);
    if (status === 429) return this.#backoff(detail, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
    if (status >= 500 || status === 0) return this.#backoff(detail);
    // 400, 403, 404: asking again gets the same answer.
    this.handlers.onFatal(`The server refused the connection (HTTP ${status}): ${detail}`);
  }

  /** The token expired or was revoked: renew it and reconnect at once; if renewing is impossible, stop. */
  async #renew(token: string | null, why: string): Promise<void> {
    if (this.#renewedFor401) return this.handlers.onFatal(`${clause(why)}, even with a renewed token.`);
    try {
      await this.auth.refresh(token);
      this.#renewedFor401 = true;
      this.handlers.onOffline(`${clause(why)}: token renewed, reconnecting`, 0);
      void this.#connect();
    } catch (error) {
      if (error instanceof AuthEnded) return this.handlers.onFatal(`${clause(why)}. ${error.message}`);
      this.#backoff(`${clause(why)}; renewing the token failed: ${(error as Error).message}`);
    }
  }

  #backoff(why: string, ms?: number): void {
    if (this.#stopped) return;
    // Full jitter, so a server restart is not answered by every client in the same instant.
    const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt);
    this.#attempt++;
    const wait = ms ?? Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.handlers.onOffline(why, wait);
    this.#retry = setTimeout(() => void this.#connect(), wait);
  }

  /** A dead connection can look open for minutes: no pong for two intervals means reconnect. */
  #heartbeat(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.#pongAt > PING_MS * 2) {
      this.#ws = null;
      this.#ready = false;
      ws.terminate();
      return this.#backoff("no answer from the server");
    }
    ws.send("ping");
  }
}
