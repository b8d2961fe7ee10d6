// Message search, above the chat list: matches across the user's conversations, newest first, each with
// its conversation, sender and snippet (matches marked); choosing one opens its conversation. While a
// search shows, the chat list steps aside.
import { ApiError, searchMessages } from "../api";
import { el, shortTime } from "../dom";
import { BASE, type ConversationResource, type SearchPage } from "../types";
import { titleOf } from "./chat-list";
import { mentionText } from "./message-text";

/** Typing pauses this long before the search runs. */
const DEBOUNCE_MS = 300;
const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
const unescape = (html: string) => html.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);

/** The server's snippet (escaped text, matches in <mark>) as nodes: its text never goes in as HTML. */
export function snippetNodes(snippet: string, names: (text: string) => string): (Node | string)[] {
  return snippet.split(/<\/?mark>/).map((part, i) => (i % 2 ? el("mark", {}, unescape(part)) : names(unescape(part))));
}

type Context = { me: number; conversation(id: number): ConversationResource | undefined; showing(searching: boolean): void };

export function searchBox(ctx: Context): HTMLElement {
  const input = el("input", { type: "search", name: "q", autocomplete: "off", placeholder: "Search messages", "aria-label": "Search messages" });
  const status = el("p", { class: "search-status", role: "status" });
  const list = el("ul", { class: "search-hits" });
  const more = el("button", { type: "button", class: "more", hidden: true }, "More results");
  const results = el("section", { class: "search-results", "aria-label": "Search results", hidden: true }, status, list, more);
  let next: string | null = null;
  let timer: number | undefined;
  /** Bumped by every search, so an answer to an older one is dropped. */
  let current = 0;

  function hit({ message, snippet }: SearchPage["results"][number]): HTMLElement {
    const conversation = ctx.conversation(message.conversation);
    const people = conversation?.participants ?? [];
    const names = (text: string) => mentionText(text, (id) => people.find((p) => p.id === id));
    // As the chat list says it: the title of a two-person chat already names the sender.
    const who = message.sender.id === ctx.me ? "You: " : people.length === 2 ? "" : `${message.sender.first_name || "Someone"}: `;
    return el(
      "li",
      {},
      el(
        "a",
        { href: `${BASE}c/${message.conversation}`, class: "search-hit" },
        el("span", { class: "hit-title" }, conversation ? titleOf(conversation, ctx.me) : "Conversation"),
        el("time", { class: "chat-time", datetime: message.sent_at }, shortTime(message.sent_at)),
        el("span", { class: "hit-snippet" }, who ? el("span", { class: "hit-sender" }, who) : null, ...snippetNodes(snippet, names)),
      ),
    );
  }

  async function run(q: string, page?: string): Promise<void> {
    const search = page ? current : ++current;
    if (!page) list.replaceChildren();
    status.textContent = "Searching…";
    more.hidden = true;
    try {
      const found = await searchMessages(q, page);
      if (search !== current) return;
      list.append(...found.results.map(hit));
      next = found.next;
      more.hidden = next === null;
      const n = list.childElementCount;
      status.textContent = n === 0 ? "No messages match." : `${n}${next ? "+" : ""} ${n === 1 ? "message" : "messages"}`;
    } catch (error) {
      if (search === current) status.textContent = error instanceof ApiError && error.status === 400 ? "Type a word to search for." : error instanceof Error ? error.message : String(error);
    }
  }

  function update(): void {
    window.clearTimeout(timer);
    const q = input.value.trim();
    results.hidden = q === "";
    ctx.showing(q !== "");
    if (q === "") {
      current++;
      return;
    }
    timer = window.setTimeout(() => void run(q), DEBOUNCE_MS);
  }

  input.addEventListener("input", update);
  more.addEventListener("click", () => next && void run(input.value.trim(), next));
  const form = el("form", { class: "search", role: "search" }, input);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.clearTimeout(timer);
    if (input.value.trim()) void run(input.value.trim());
  });
  return el("div", { class: "search-area" }, form, results);
}
