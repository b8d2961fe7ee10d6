// How the terminal client words things: messages, names, times, and what the server said.
import type { AttachmentResource } from "../../src/attachments/schemas";
import { mentionParts } from "../../src/messages/mentions";
import type { MessageResource } from "../../src/messages/schemas";

export type Person = { id: number; first_name: string; last_name: string };

/** A known person's name by id (undefined for someone this client has not seen). */
export type Names = (id: number) => string | undefined;

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

/**
 * The marks in a message line's first column: own messages go ⋯ (pending) → ✓ (sent), or ✗ (refused);
 * » sets a search hit apart from the conversation's flow.
 */
export const MARK = { none: " ", pending: "⋯", sent: "✓", failed: "✗", found: "»" } as const;

/** One message as a line (or lines, for a body with line breaks); `who` is "you" for the viewer's own. */
export function messageLine(mark: string, stamp: string, who: string, body: string, note = ""): string {
  // A message of files alone has no text: no space after the colon either.
  return [`${mark} ${stamp} ${who}:`, clean(body), note].filter(Boolean).join(" ");
}

/**
 * A stored message: `#seq` (what commands name it by), its body with mentions as names, what it carries
 * (edited, pinned, replies, reactions), then on lines of their own the message it replies to and its files.
 */
export function showMessage(m: MessageResource, me: number | null, names: Names): string {
  const mine = me !== null && m.sender.id === me;
  const who = mine ? "you" : nameOf(m.sender);
  const mark = mine ? MARK.sent : MARK.none;
  const stamp = `${timeOf(m.sent_at)} #${m.seq}`;
  if (m.deleted) return messageLine(mark, stamp, who, "", "(deleted)");
  if (m.blocked) return messageLine(mark, stamp, who, "", "(from someone you blocked)");
  const notes = [
    m.edited_at ? "(edited)" : "",
    m.pinned_at ? "(pinned)" : "",
    m.reply_count ? `(${plural(m.reply_count, "reply", "replies")})` : "",
    m.reactions.length ? `[${m.reactions.map((r) => `${clean(r.emoji)} ${r.count}`).join(", ")}]` : "",
  ];
  const line = messageLine(mark, stamp, who, withMentions(m.message_body, names, m.mentions), notes.filter(Boolean).join(" "));
  return [line, ...(m.reply_to ? [quoteOf(m.reply_to, me, names)] : []), ...attachmentLines(m.attachments)].join("\n");
}

/** Bytes for people: 512 B, 3.4 KiB, 12.0 MiB. */
export function sizeOf(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let n = bytes;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit ? `${n.toFixed(1)} ${units[unit]}` : `${bytes} B`;
}

/** A message's files, one line each under it. */
export const attachmentLines = (attachments: readonly Pick<AttachmentResource, "name" | "size" | "content_type">[]) =>
  attachments.map((a) => `  📎 ${clean(a.name)} (${sizeOf(a.size)}, ${a.content_type})`);

/** What a reply answers (a ReplyQuote, or the message itself before it is sent), as the line under it. */
export function quoteOf(quoted: { sender: Person; preview: string; deleted: boolean }, me: number | null, names: Names): string {
  if (quoted.deleted) return "  ↳ replying to a deleted message";
  const who = quoted.sender.id === me ? "you" : nameOf(quoted.sender);
  return `  ↳ replying to ${who}: ${excerpt(withMentions(quoted.preview, names), 40)}`;
}

/**
 * `<@id>` as `@First Last`. With `mentioned` (the message's resolved mentions) only those are names, the
 * rest stay text as the server means; without it (a preview), every person known here is.
 */
export function withMentions(body: string, names: Names, mentioned?: readonly number[]): string {
  return mentionParts(body)
    .map((part) => {
      if (!("userId" in part)) return part.text;
      if (mentioned) return mentioned.includes(part.userId) ? `@${names(part.userId) ?? `user ${part.userId}`}` : part.text;
      const name = names(part.userId);
      return name ? `@${name}` : part.text;
    })
    .join("");
}

/** Something that happened to a message (a reaction, a pin), stamped now and aligned with message lines. */
export const eventLine = (text: string, at = new Date().toISOString()) => `${MARK.none} ${timeOf(at)} ${text}`;

/** A search hit as a message line, its snippet for the body. */
export function searchHitLine({ message: m, snippet }: { message: MessageResource; snippet: string }, me: number | null, names: Names): string {
  const who = me !== null && m.sender.id === me ? "you" : nameOf(m.sender);
  return messageLine(MARK.found, `${timeOf(m.sent_at)} #${m.seq}`, who, withMentions(snippetText(snippet), names, m.mentions));
}

/** A search snippet as plain text: the matches in [brackets], HTML entities back to characters. */
export function snippetText(snippet: string): string {
  const entities: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
  // Marks first: a `<mark>` typed in a body comes escaped, so only the server's own are tags.
  return snippet
    .replaceAll("<mark>", "[")
    .replaceAll("</mark>", "]")
    .replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => entities[entity]!);
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
