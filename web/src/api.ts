// The REST calls the app makes, with the access token, one retry after a refresh, and problem+json errors.
import { accessToken, refresh } from "./auth";
import type { Block, Chat, ConversationResource, DataExport, FiledReport, MessageResource, ModerationAction, Page, PublicUser, Report, SearchPage, UserResource } from "./types";

/** An RFC 9457 problem from the API, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

type Init = { method?: string; body?: unknown; auth?: boolean };

export const BOOKMARK = "X-Hey-Bookmark";
/**
 * The bookmark of the last answer, sent with the next request: once D1 read replicas serve reads, the
 * app still reads its own writes (a message it just sent shows in the history it loads next).
 */
let bookmark: string | null = null;

/** The bookmark header to send, if there is one (uploads send it too: they go through XMLHttpRequest). */
export const bookmarkHeader = (): [string, string][] => (bookmark ? [[BOOKMARK, bookmark]] : []);
/** Keeps the bookmark of an answer (a header's value, or null when it carried none). */
export function keepBookmark(value: string | null): void {
  bookmark = value ?? bookmark;
}

/** The ApiError of a failed answer: its problem+json `detail`, else its title, else the status. */
export function problemError(status: number, body: unknown): ApiError {
  const problem = (body ?? {}) as { detail?: string; title?: string; errors?: { path: string; message: string }[] };
  return new ApiError(status, problem.detail ?? problem.title ?? `Request failed (${status}).`, problem.errors ?? []);
}

/** Calls the API; JSON in and out. Throws ApiError. */
export async function api<T>(path: string, init: Init = {}, retried = false): Promise<T> {
  const headers = new Headers({ Accept: "application/json" });
  if (init.auth !== false) {
    const token = await accessToken();
    if (!token) throw new ApiError(401, "You are signed out.");
    headers.set("Authorization", `Bearer ${token}`);
  }
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  for (const [name, value] of bookmarkHeader()) headers.set(name, value);
  let res: Response;
  try {
    res = await fetch(path, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  } catch {
    throw new ApiError(0, "Hey cannot be reached. Check your connection.");
  }
  if (res.status === 401 && init.auth !== false && !retried) {
    // The token may have expired or been rotated by another tab since we read it.
    await refresh().catch(() => {});
    return api<T>(path, init, true);
  }
  keepBookmark(res.headers.get(BOOKMARK));
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) throw problemError(res.status, body);
  return body as T;
}

const json = (method: string, body?: unknown) => ({ method, body });

export const signUp = (body: { email: string; password: string; first_name: string; last_name: string }) =>
  api<UserResource>("/api/users/", { method: "POST", body, auth: false });
export const me = () => api<UserResource>("/api/users/me/");
export const updateMe = (changes: { show_presence?: boolean; notification_previews?: boolean }) => api<UserResource>("/api/users/me/", json("PATCH", changes));
/** Someone who shares a conversation with the user, with their presence. */
export const user = (id: number) => api<PublicUser>(`/api/users/${id}/`);
export const findUserByEmail = async (email: string) =>
  (await api<Page<PublicUser>>(`/api/users/?email=${encodeURIComponent(email.trim())}`)).results[0] ?? null;

/** Deletes the user's account for good (400 with a field error when the password is wrong); every token ends with it. */
export const deleteMe = (currentPassword: string) => api<null>("/api/users/me/", json("DELETE", { current_password: currentPassword }));
/** The user's newest data export, ready (with a download `url`) or being built; when there is none this starts one. */
export const currentExport = () => api<DataExport>("/api/users/me/export/");
/** Starts a fresh data export (answers the one being built, if any). */
export const startExport = () => api<DataExport>("/api/users/me/export/", json("POST"));

/** A page of the people the user blocked, newest first. */
export const blocks = (page: number, pageSize = 100) => api<Page<Block>>(`/api/users/me/blocks/?page=${page}&page_size=${pageSize}`);
/** Blocks someone (blocking them again answers the first block). */
export const blockUser = (userId: number) => api<Block>("/api/users/me/blocks/", json("POST", { user_id: userId }));
/** Unblocks someone (404 when they were not blocked). */
export const unblockUser = (userId: number) => api<null>(`/api/users/me/blocks/${userId}/`, json("DELETE"));

/** A page of the chat list, newest activity first (the user stream's snapshot is page 1 of size 50). */
export const chats = (page: number, pageSize: number) => api<Page<Chat>>(`/api/chats/?page=${page}&page_size=${pageSize}`);
export const conversation = (id: number) => api<ConversationResource>(`/api/conversations/${id}/`);
/** Mutes the conversation for the user until an ISO time, or unmutes it (null). */
export const muteConversation = (id: number, until: string | null) =>
  api<ConversationResource>(`/api/conversations/${id}/`, json("PATCH", { muted_until: until }));
/** The owner turns disappearing messages on (seconds, 1 hour to 1 year) or off (null). */
export const setMessageTtl = (id: number, seconds: number | null) =>
  api<ConversationResource>(`/api/conversations/${id}/`, json("PATCH", { message_ttl_seconds: seconds }));
export const startConversation = (userId: number) =>
  api<ConversationResource>("/api/conversations/", json("POST", { participants: [userId], reuse_direct: true }));
export const addParticipant = (id: number, userId: number) =>
  api<ConversationResource>(`/api/conversations/${id}/participants/`, json("POST", { user_id: userId }));
export const removeParticipant = (id: number, userId: number) => api<null>(`/api/conversations/${id}/participants/${userId}/`, json("DELETE"));

/** The `limit` messages before `beforeSeq`, oldest first. */
export const messagesBefore = (id: number, beforeSeq: number, limit = 50) =>
  api<Page<MessageResource>>(`/api/conversations/${id}/messages/?before_seq=${beforeSeq}&limit=${limit}`);
export const editMessage = (id: number, messageId: number, body: string) =>
  api<MessageResource>(`/api/conversations/${id}/messages/${messageId}/`, json("PATCH", { message_body: body }));
export const deleteMessage = (id: number, messageId: number) => api<null>(`/api/conversations/${id}/messages/${messageId}/`, json("DELETE"));
/** Up to 100 replies to a message after `afterSeq`, oldest first. */
export const replies = (id: number, messageId: number, afterSeq = 0) =>
  api<Page<MessageResource>>(`/api/conversations/${id}/messages/${messageId}/replies/?after_seq=${afterSeq}&limit=100`);
/** Adds (or, with `on` false, takes back) the user's reaction; answers the message as it now is. */
export const react = (id: number, messageId: number, emoji: string, on: boolean) =>
  api<MessageResource>(`/api/conversations/${id}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}/`, json(on ? "PUT" : "DELETE"));
export const pin = (id: number, messageId: number, on: boolean) => api<MessageResource>(`/api/conversations/${id}/pins/${messageId}/`, json(on ? "PUT" : "DELETE"));
/** The conversation's pinned messages, most recently pinned first. */
export const pins = (id: number) => api<MessageResource[]>(`/api/conversations/${id}/pins/`);
/** Messages matching `q` in the user's conversations, newest first; `next` is the full URL of the next page. */
export const searchMessages = (q: string, next?: string) => {
  const url = next ? new URL(next) : null;
  return api<SearchPage>(url ? url.pathname + url.search : `/api/search/messages/?q=${encodeURIComponent(q)}&limit=20`);
};
/** Short-lived signed URLs of attachments (at most 100 ids); those the user may not see are left out. */
export const attachmentLinks = (ids: string[]) =>
  api<{ links: Record<string, { url: string; expires_at: string }> }>("/api/attachments/links/", json("POST", { ids }));
/** Marks messages up to `seq` delivered to this user (the chat list has shown them). */
export const markDelivered = (id: number, seq: number) => api<unknown>(`/api/conversations/${id}/receipts/`, json("POST", { delivered_up_to: seq }));
export const streamTicket = () => api<{ ticket: string; expires_at: string }>("/api/events/tickets/", { method: "POST" });
export const ticket = (id: number) => api<{ ticket: string; expires_at: string }>("/api/realtime/tickets/", json("POST", { conversation: id }));

/** Reports someone else's message to the moderators (reporting it again answers the first report). */
export const reportMessage = (id: number, messageId: number, reason: string) =>
  api<FiledReport>(`/api/conversations/${id}/messages/${messageId}/report/`, json("POST", { reason }));
/** Staff, with a token carrying `admin`: the open reports, newest first. */
export const openReports = () => api<Page<Report>>("/api/moderation/reports/?status=open&page_size=100");
export type Decision = "dismiss" | "delete-message" | "deactivate-sender";
/** Staff: resolves an open report (409 once it is resolved); the note goes in the log. */
export const decideReport = (reportId: number, decision: Decision, note: string) =>
  api<Report>(`/api/moderation/reports/${reportId}/${decision}/`, json("POST", note ? { note } : {}));
/** Staff: the moderation log, newest first. */
export const moderationLog = () => api<Page<ModerationAction>>("/api/moderation/actions/?page_size=50");
