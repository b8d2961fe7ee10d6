// How the terminal client words things: messages, names, times, and what the server said.
import type { MessageResource } from "../../src/messages/schemas";

export type Person = { id: number; first_name: string; last_name: string };

/** Control characters (escape sequences included) from other people's text are shown, never obeyed. */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n?/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "\ufffd");
}

export function nameOf(person: Person): string {
  return clean(`${person.first_name} ${person.last_name}`.trim()) || `user ${person.id}`;
}

/** HH:MM today, else MM-DD HH:MM (local time). */
export function timeOf(iso: string, now = new Date()): string {
  const at = new Date(iso);
  const two = (n: number) => String(n).padStart(2, "0");
  const time = `${two(at.getHours())}:${two(at.getMinutes())}`;
  return at.toDateString() === now.toDateString() ? time : `${two(at.getMonth() + 1)}-${two(at.getDate())} ${time}`;
}

/** The marks in a message line's first column: own messages go ⋯ (pending) → ✓ (sent), or ✗ (refused). */
export const MARK = { none: " ", pending: "⋯", sent: "✓", failed: "✗" } as const;

/** One message as a line (or lines, for a body with line breaks); `who` is "you" for the viewer's own. */
export function messageLine(mark: string, time: string, who: string, body: string, note = ""): string {
  return `${mark} ${time} ${who}: ${[clean(body), note].filter(Boolean).join(" ")}`;
}

export function showMessage(m: MessageResource, me: number | null): string {
  const mine = me !== null && m.sender.id === me;
  const who = mine ? "you" : nameOf(m.sender);
  const mark = mine ? MARK.sent : MARK.none;
  if (m.deleted) return messageLine(mark, timeOf(m.sent_at), who, "", "(deleted)");
  return messageLine(mark, timeOf(m.sent_at), who, m.message_body, m.edited_at ? "(edited)" : "");
}

/** The start of a text on one line, at most `most` characters (… when cut). */
export function excerpt(text: string, most = 24): string {
  const chars = [...clean(text).replace(/\s+/g, " ")];
  return chars.length > most ? `${chars.slice(0, most).join("")}…` : chars.join("");
}

/** A reason without its closing period, to go on in the same sentence. */
export const clause = (text: string) => text.trim().replace(/\.+$/, "");

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** A connection dropped or failed: why, and when the next attempt is (`ms` 0: at once). */
export const offlineNotice = (why: string, ms: number) => (ms ? `${clause(why)}; reconnecting in ${(ms / 1000).toFixed(1)} s` : why);

/** The one-line reason inside an RFC 9457 problem or an RFC 6749 error body. */
export function detailOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; title?: unknown; error?: unknown; error_description?: unknown; errors?: { path: string; message: string }[] };
    const fields = Array.isArray(body.errors) ? body.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; ") : "";
    const detail = body.detail ?? body.error_description ?? body.title ?? body.error;
    if (typeof detail === "string" && detail) return clean(fields && !detail.includes(fields) ? `${detail} (${fields})` : detail);
  } catch {
    // Not JSON: a proxy's plain text, shown as it is.
  }
  return clean(text.trim().slice(0, 300)) || `HTTP ${status}`;
}
