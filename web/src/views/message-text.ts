// Message text as the app shows it: a `<@id>` mention becomes "@First Last", and a reply quotes the
// message it answers. Text only ever goes in as text nodes.
import { el, nameOf } from "../dom";
import type { Quote } from "../types";
import { BLOCKED_QUOTE } from "./blocking";

type Person = { id: number; first_name: string; last_name: string };
/** Finds a person a message may name: a participant, or someone who wrote in the conversation. */
export type Names = (id: number) => Person | undefined;

const MENTION = /<@(\d+)>/g;
/** What a preview shows of a message with no text: only a message with attachments has none. */
export const ATTACHMENT_ONLY = "📎 Attachment";

/** The body with its mentions marked; a `<@id>` the server did not list in `mentions` stays plain text, as it does there. */
export function bodyNodes(body: string, mentions: readonly number[], names: Names, me: number): (Node | string)[] {
  const nodes: (Node | string)[] = [];
  let from = 0;
  for (const match of body.matchAll(MENTION)) {
    const id = Number(match[1]);
    if (!mentions.includes(id)) continue;
    const person = names(id);
    nodes.push(body.slice(from, match.index), el("span", { class: id === me ? "mention mention-me" : "mention", "data-user": id }, `@${person ? nameOf(person) : "someone"}`));
    from = match.index + match[0].length;
  }
  nodes.push(body.slice(from));
  return nodes;
}

/** Plain text with the people it names written as "@First Last", for previews that carry no mention list. */
export function mentionText(text: string, names: Names): string {
  return text.replace(MENTION, (token, id: string) => {
    const person = names(Number(id));
    return person ? `@${nameOf(person)}` : token;
  });
}

/** The quote of the message a reply answers; `blocked` when its sender is someone the user blocked (the server sends no preview then). */
export function quoteView(quote: Quote, names: Names, blocked = false): HTMLElement {
  return el(
    "blockquote",
    { class: "quote" },
    el("span", { class: "quote-author" }, nameOf(quote.sender)),
    quote.deleted
      ? el("span", { class: "quote-text deleted" }, "Deleted message")
      : blocked
        ? el("span", { class: "quote-text hidden-quote" }, BLOCKED_QUOTE)
        : el("span", { class: "quote-text" }, mentionText(quote.preview, names).trim() || ATTACHMENT_ONLY),
  );
}
