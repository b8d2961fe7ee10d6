// The message box: Enter sends, Shift+Enter starts a new line, it grows with its text, and typing is
// announced at most every few seconds (the server shows it to the others for TYPING_SECONDS = 5).
import { el } from "../dom";

const TYPING_EVERY_MS = 3000;

export type Composer = { element: HTMLFormElement; input: HTMLTextAreaElement; setEnabled(enabled: boolean): void };

/** `send` gets the text as typed; `typing` returns false when it could not be told (offline). */
export function composer(send: (body: string) => void, typing: () => boolean): Composer {
  let lastTyping = 0;
  const input = el("textarea", { id: "composer", name: "message", rows: 1, maxlength: 4000, placeholder: "Message", autocomplete: "off", enterkeyhint: "send" });
  const button = el("button", { type: "submit", class: "primary" }, "Send");
  const form = el("form", { class: "composer", "aria-label": "Send a message" }, el("label", { for: "composer", class: "visually-hidden" }, "Message"), input, button);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim()) return;
    input.value = "";
    input.style.height = "";
    send(body);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
    if (!input.value.trim() || Date.now() - lastTyping < TYPING_EVERY_MS) return;
    if (typing()) lastTyping = Date.now();
  });

  return {
    element: form,
    input,
    setEnabled(enabled) {
      input.disabled = button.disabled = !enabled;
    },
  };
}
