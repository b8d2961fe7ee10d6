// The message box: Enter sends, Shift+Enter starts a new line, it grows with its text, and typing is
// announced at most every few seconds (the server shows it to the others for TYPING_SECONDS = 5). It
// completes @-mentions of the participants, and a reply shows the quote it will carry above it.
import { bodyLength, MAX_BODY_CODE_POINTS } from "../../../src/messages/limits";
import { el } from "../dom";
import type { Quote } from "../types";
import { mentionPicker } from "./mention-picker";
import { quoteView, type Names } from "./message-text";

const TYPING_EVERY_MS = 3000;

export type Composer = { element: HTMLElement; input: HTMLTextAreaElement; setEnabled(enabled: boolean): void; replyTo(quote: Quote | null): void };

type Person = { id: number; first_name: string; last_name: string };
type Handlers = {
  /** Gets the text as typed and the message it replies to. */
  send(body: string, replyTo: Quote | null): void;
  /** Returns false when it could not be told (offline). */
  typing(): boolean;
  /** Who can be mentioned. */
  people(): Person[];
  names: Names;
};

export function composer(handlers: Handlers): Composer {
  let lastTyping = 0;
  let replying: Quote | null = null;
  // No maxlength: a pasted text longer than the limit must not be cut silently; the counter says so instead.
  const input = el("textarea", { id: "composer", name: "message", rows: 1, placeholder: "Message", autocomplete: "off", enterkeyhint: "send", "aria-describedby": "composer-count" });
  const mentions = mentionPicker(input, handlers.people);
  const button = el("button", { type: "submit", class: "primary" }, "Send");
  const counter = el("span", { id: "composer-count", class: "counter", "aria-live": "polite" });
  const form = el("form", { class: "composer", "aria-label": "Send a message" }, el("label", { for: "composer", class: "visually-hidden" }, "Message"), input, counter, button);
  const replyBar = el("div", { class: "reply-bar", hidden: true });
  let enabled = true;

  /** Shows the count near and over the limit; over it, the message cannot be sent. */
  const count = () => {
    const n = bodyLength(input.value);
    const over = n > MAX_BODY_CODE_POINTS;
    counter.textContent = n > MAX_BODY_CODE_POINTS * 0.9 ? `${n.toLocaleString("en")} / ${MAX_BODY_CODE_POINTS.toLocaleString("en")}${over ? " — too long to send" : ""}` : "";
    counter.classList.toggle("over", over);
    input.setAttribute("aria-invalid", String(over));
    button.disabled = !enabled || over;
    return over;
  };

  function replyTo(quote: Quote | null): void {
    replying = quote;
    replyBar.hidden = quote === null;
    replyBar.replaceChildren();
    if (!quote) return;
    const cancel = el("button", {
      type: "button",
      class: "cancel-reply",
      "aria-label": "Cancel reply",
      onclick: () => {
        replyTo(null);
        input.focus();
      },
    }, "×");
    replyBar.append(el("span", { class: "reply-label" }, "Replying to"), quoteView(quote, handlers.names), cancel);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim() || count()) return;
    input.value = "";
    input.style.height = "";
    count();
    handlers.send(body, replying);
    replyTo(null);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && replying) replyTo(null);
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    count();
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
    if (!input.value.trim() || Date.now() - lastTyping < TYPING_EVERY_MS) return;
    if (handlers.typing()) lastTyping = Date.now();
  });

  return {
    element: el("div", { class: "composer-area" }, replyBar, mentions, form),
    input,
    setEnabled(next) {
      enabled = next;
      input.disabled = !next;
      count();
    },
    replyTo,
  };
}
