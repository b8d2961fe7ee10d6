// The message box: Enter sends, Shift+Enter starts a new line, it grows with its text, and typing is
// announced at most every few seconds (the server shows it to the others for TYPING_SECONDS = 5).
import { bodyLength, MAX_BODY_CODE_POINTS } from "../../../src/messages/limits";
import { el } from "../dom";

const TYPING_EVERY_MS = 3000;

export type Composer = { element: HTMLFormElement; input: HTMLTextAreaElement; setEnabled(enabled: boolean): void };

/** `send` gets the text as typed; `typing` returns false when it could not be told (offline). */
export function composer(send: (body: string) => void, typing: () => boolean): Composer {
  let lastTyping = 0;
  // No maxlength: a pasted text longer than the limit must not be cut silently; the counter says so instead.
  const input = el("textarea", { id: "composer", name: "message", rows: 1, placeholder: "Message", autocomplete: "off", enterkeyhint: "send", "aria-describedby": "composer-count" });
  const button = el("button", { type: "submit", class: "primary" }, "Send");
  const counter = el("span", { id: "composer-count", class: "counter", "aria-live": "polite" });
  const form = el("form", { class: "composer", "aria-label": "Send a message" }, el("label", { for: "composer", class: "visually-hidden" }, "Message"), input, counter, button);
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

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim() || count()) return;
    input.value = "";
    input.style.height = "";
    count();
    send(body);
  });
  input.addEventListener("keydown", (event) => {
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
    if (typing()) lastTyping = Date.now();
  });

  return {
    element: form,
    input,
    setEnabled(next) {
      enabled = next;
      input.disabled = !next;
      count();
    },
  };
}
