// The message box: Enter sends, Shift+Enter starts a new line, it grows with its text, and typing is
// announced at most every few seconds (the server shows it to the others for TYPING_SECONDS = 5). It
// completes @-mentions of the participants, and a reply shows the quote it will carry above it. Files
// come by the attach button, a paste or a drop (attachment-tray.ts uploads them); a message may be files only.
import { bodyLength, MAX_BODY_CODE_POINTS } from "../../../src/messages/limits";
import { el } from "../dom";
import type { Attachment, Quote } from "../types";
import type { Upload } from "../upload";
import { attachmentTray } from "./attachment-tray";
import { mentionPicker } from "./mention-picker";
import { quoteView, type Names } from "./message-text";

const TYPING_EVERY_MS = 3000;

export type Composer = {
  element: HTMLElement;
  input: HTMLTextAreaElement;
  setEnabled(enabled: boolean): void;
  replyTo(quote: Quote | null): void;
  /** Uploads files for the next message (ignored while the box is disabled). */
  addFiles(files: Iterable<File>): void;
  /** Stops the uploads in flight: the conversation closed. */
  stop(): void;
};

type Person = { id: number; first_name: string; last_name: string };
type Handlers = {
  /** Gets the text as typed, the message it replies to and the files it carries. */
  send(body: string, replyTo: Quote | null, attachments: Attachment[]): void;
  /** Starts uploading a file to the conversation. */
  upload(file: File, progress: (fraction: number) => void): Upload;
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
  const picker = el("input", { type: "file", multiple: true, hidden: true, tabindex: -1 });
  const attach = el("button", { type: "button", class: "attach", "aria-label": "Attach files", title: "Attach files", onclick: () => picker.click() }, "+");
  const form = el("form", { class: "composer", "aria-label": "Send a message" }, attach, picker, el("label", { for: "composer", class: "visually-hidden" }, "Message"), input, counter, button);
  const replyBar = el("div", { class: "reply-bar", hidden: true });
  const tray = attachmentTray(handlers.upload, () => count());
  let enabled = true;

  /** Shows the count near and over the limit; over it, the message cannot be sent. */
  const count = () => {
    const n = bodyLength(input.value);
    const over = n > MAX_BODY_CODE_POINTS;
    counter.textContent = n > MAX_BODY_CODE_POINTS * 0.9 ? `${n.toLocaleString("en")} / ${MAX_BODY_CODE_POINTS.toLocaleString("en")}${over ? " — too long to send" : ""}` : "";
    counter.classList.toggle("over", over);
    input.setAttribute("aria-invalid", String(over));
    // A message waits for its files: sent without them, it would not be the message written.
    button.disabled = !enabled || over || tray.busy();
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
    const files = tray.ready();
    if ((!body.trim() && files.length === 0) || count() || tray.busy()) return;
    input.value = "";
    input.style.height = "";
    tray.clear();
    handlers.send(body, replying, files);
    replyTo(null);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && replying) replyTo(null);
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  picker.addEventListener("change", () => {
    if (picker.files) addFiles(picker.files);
    // The same file picked again must fire `change` again.
    picker.value = "";
  });
  input.addEventListener("paste", (event) => {
    const files = event.clipboardData?.files;
    if (!files?.length) return;
    // A copied image or file also comes with its name or markup as text: the file is what was meant.
    event.preventDefault();
    addFiles(files);
  });
  input.addEventListener("input", () => {
    count();
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
    if (!input.value.trim() || Date.now() - lastTyping < TYPING_EVERY_MS) return;
    if (handlers.typing()) lastTyping = Date.now();
  });

  function addFiles(files: Iterable<File>): void {
    if (enabled) tray.add(files);
  }

  return {
    element: el("div", { class: "composer-area" }, replyBar, mentions, tray.element, form),
    input,
    setEnabled(next) {
      enabled = next;
      input.disabled = !next;
      attach.disabled = !next;
      count();
    },
    replyTo,
    addFiles,
    stop: () => tray.clear(),
  };
}
