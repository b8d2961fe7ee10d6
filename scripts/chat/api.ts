// The REST calls the terminal client makes, with the bearer token, renewed once on a 401.
import type { AttachmentResource } from "../../src/attachments/schemas";
import type { ConversationResource } from "../../src/conversations/schemas";
import type { MessageResource } from "../../src/messages/schemas";
import { AuthEnded, type Auth } from "./auth";
import { clause, detailOf } from "./format";

/** The server said no: `detail` is the problem's own words. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`HTTP ${status}: ${detail}`);
  }
}

export type MessagePage = { count: number; previous: string | null; results: MessageResource[] };
/** GET /api/search/messages/: `snippet` is HTML, the matches in `<mark>`. */
export type SearchResults = { next: string | null; results: { message: MessageResource; snippet: string }[] };

export class Api {
  /** The last answer's X-Hey-Bookmark, sent back so reads see this client's own writes on any D1 replica. */
  #bookmark: string | null = null;

  constructor(
    readonly url: string,
    readonly auth: Auth,
  ) {}

  /**
   * A request with the bearer token, its answer when it is a success (else a Refusal). `body` is a function
   * so that the retry after a renewed token gets a fresh one (a stream is read only once).
   */
  async request(path: string, init: { method?: string; headers?: Record<string, string>; body?: () => RequestInit["body"] } = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      if (!this.auth.access) await this.auth.refresh();
      const token = this.auth.access;
      const body = init.body?.();
      const res = await fetch(new URL(path, this.url), {
        method: init.method ?? "GET",
        headers: { ...init.headers, Authorization: `Bearer ${token}`, ...(this.#bookmark ? { "X-Hey-Bookmark": this.#bookmark } : {}) },
        body,
        // Node's fetch streams a ReadableStream body only when told it may answer before the body is sent.
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
      });
      this.#bookmark = res.headers.get("X-Hey-Bookmark") ?? this.#bookmark;
      if (res.ok) return res;
      const detail = detailOf(res.status, await res.text());
      if (res.status === 401 && attempt === 0) {
        try {
          await this.auth.refresh(token);
        } catch (error) {
          throw error instanceof AuthEnded ? new AuthEnded(`${clause(detail)}. ${error.message}`) : error;
        }
        continue;
      }
      throw new Refusal(res.status, detail);
    }
  }

  async json<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await this.request(path, {
      method: init.method,
      headers: init.body === undefined ? {} : { "Content-Type": "application/json" },
      body: init.body === undefined ? undefined : () => JSON.stringify(init.body),
    });
    return (await res.json()) as T;
  }

  conversation(id: string): Promise<ConversationResource> {
    return this.json(`/api/conversations/${id}/`);
  }

  /** The newest `limit` messages with a seq up to `upTo`, oldest first. */
  lastMessages(id: string, upTo: number, limit: number): Promise<MessagePage> {
    return this.json(`/api/conversations/${id}/messages/?before_seq=${upTo + 1}&limit=${limit}`);
  }

  /** The message with this seq, or null when there is none. */
  async messageAt(id: string, seq: number): Promise<MessageResource | null> {
    const page = await this.json<MessagePage>(`/api/conversations/${id}/messages/?after_seq=${seq - 1}&limit=1`);
    return page.results[0]?.seq === seq ? page.results[0] : null;
  }

  /** Adds (`on`) or takes back the caller's reaction; answers the message with its reactions now. */
  react(id: string, messageId: number, emoji: string, on: boolean): Promise<MessageResource> {
    return this.json(`/api/conversations/${id}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}/`, { method: on ? "PUT" : "DELETE" });
  }

  /** Pins (`on`) or unpins a message; answers it as it is now. */
  pin(id: string, messageId: number, on: boolean): Promise<MessageResource> {
    return this.json(`/api/conversations/${id}/pins/${messageId}/`, { method: on ? "PUT" : "DELETE" });
  }

  /** Mutes the conversation's push notifications for the caller until `until` (mentions still notify); null unmutes. */
  async mute(id: string, until: Date | null): Promise<void> {
    await this.json(`/api/conversations/${id}/`, { method: "PATCH", body: { muted_until: until?.toISOString() ?? null } });
  }

  /** The conversation's messages matching `q`, newest first. */
  search(id: string, q: string): Promise<SearchResults> {
    return this.json(`/api/search/messages/?${new URLSearchParams({ q, conversation: id })}`);
  }

  /** The signed-in user's id, or null when the token lacks the `profile` scope. */
  async me(): Promise<number | null> {
    try {
      return (await this.json<{ id: number }>("/api/users/me/")).id;
    } catch (error) {
      if (error instanceof Refusal && error.status === 403) return null;
      throw error;
    }
  }

  /** Uploads `size` bytes (`body` gives them, afresh on a retry) as a file of the conversation, to send within the hour. */
  async upload(id: string, file: { name: string; type: string; size: number; body: () => ReadableStream<Uint8Array> }): Promise<AttachmentResource> {
    const res = await this.request(`/api/conversations/${id}/attachments/?${new URLSearchParams({ name: file.name })}`, {
      method: "POST",
      // The server streams the bytes into storage, which needs their length before the first one.
      headers: { "Content-Type": file.type, "Content-Length": String(file.size) },
      body: file.body,
    });
    return (await res.json()) as AttachmentResource;
  }

  /** An attachment's bytes (the answer's body). */
  download(attachmentId: string): Promise<Response> {
    return this.request(`/api/attachments/${encodeURIComponent(attachmentId)}/`);
  }

  /** A one-time ticket for the current token: sent in band, it extends the open socket's life. */
  async ticket(id: string): Promise<string> {
    return (await this.json<{ ticket: string }>("/api/realtime/tickets/", { method: "POST", body: { conversation: Number(id) } })).ticket;
  }
}
