// One message in the timeline: its bubble (with the quote it replies to, mentions, attachments, reactions
// and its thread's size), time, ticks, and its actions: reply, react, pin, report (others' messages), and for
// its sender edit and delete. A message from someone the user blocked is a muted line with none of these.
import { el, nameOf, shortTime } from "../dom";
import type { PendingSend, Status } from "../timeline";
import type { MessageResource } from "../types";
import { attachmentList, pendingAttachments } from "./attachments";
import { BLOCKED_MESSAGE } from "./blocking";
import { bodyNodes, mentionText, quoteView, type Names } from "./message-text";
import { reactionChips, reactionPicker } from "./reactions";
import { reportButton, tombstone } from "./report";

const TICKS: Record<Status, [glyph: string, label: string]> = {
  pending: ["◷", "Sending"],
  failed: ["!", "Not sent"],
  sent: ["✓", "Sent"],
  delivered: ["✓✓", "Delivered"],
  read: ["✓✓", "Read"],
};

export type ItemOptions = {
  me: number;
  mine: boolean;
  showAuthor: boolean;
  canDelete: boolean;
  names: Names;
  /** Whether the user blocked this person (their quotes are hidden; their messages too, should one come unhidden). */
  blockedUser(id: number): boolean;
  onEdit(message: MessageResource, body: string): Promise<void>;
  onDelete(message: MessageResource): Promise<void>;
  onReply(message: MessageResource): void;
  onThread(message: MessageResource): void;
  onReact(message: MessageResource, emoji: string, on: boolean): Promise<void>;
  onPin(message: MessageResource, on: boolean): Promise<void>;
};

/** Runs an action whose failure the user must hear of (the item has no room for an error line). */
const reporting = (action: Promise<void>) => void action.catch((e: Error) => alert(e.message));

function tick(status: Status): HTMLElement {
  const [glyph, label] = TICKS[status];
  return el("span", { class: "tick", "data-status": status, role: "img", "aria-label": label, title: label }, glyph);
}

/** A disappearing message's mark: when the server will delete it, in the reader's own time. */
function expiresMark(at: string): HTMLElement {
  const label = `Disappears at ${new Date(at).toLocaleString()}`;
  return el("span", { class: "expires", role: "img", "aria-label": label, title: label }, "⏱ ");
}

/** Updates the ticks of an own message in place. */
export function setStatus(item: HTMLElement, status: Status): void {
  const current = item.querySelector<HTMLElement>(".tick");
  if (current && current.dataset.status !== status) current.replaceWith(tick(status));
}

function editForm(message: MessageResource, item: HTMLElement, options: ItemOptions, restore: () => void): HTMLFormElement {
  const input = el("textarea", { class: "edit-input", rows: 2, "aria-label": "Edit message", maxlength: 4000 });
  input.value = message.message_body;
  const error = el("p", { class: "field-error", role: "alert" });
  const form = el(
    "form",
    { class: "edit-form" },
    input,
    error,
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save"), el("button", { type: "button", onclick: restore }, "Cancel")),
  );
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") restore();
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return void (error.textContent = "A message cannot be empty; delete it instead.");
    try {
      await options.onEdit(message, input.value);
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
    }
  });
  queueMicrotask(() => {
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    item.scrollIntoView({ block: "nearest" });
  });
  return form;
}

/** A stored message. */
export function messageItem(message: MessageResource, status: Status, options: ItemOptions): HTMLLIElement {
  const author = options.mine ? "You" : nameOf(message.sender);
  // The server sends it with no body; one sent before it learned of the block is hidden here all the same.
  const blocked = !message.deleted && !options.mine && (message.blocked || options.blockedUser(message.sender.id));
  const body = message.deleted
    ? el("p", { class: "body deleted" }, tombstone(message))
    : blocked
      ? el("p", { class: "body blocked" }, BLOCKED_MESSAGE)
      : el("p", { class: "body", hidden: message.message_body.trim() === "" }, ...bodyNodes(message.message_body, message.mentions, options.names, options.me));
  const replies = message.reply_count;
  const meta = el(
    "p",
    { class: "meta" },
    message.pinned_at && !message.deleted ? el("span", { class: "pinned", role: "img", "aria-label": "Pinned", title: "Pinned" }, "📌 ") : null,
    message.edited_at && !message.deleted && !blocked ? el("span", { class: "edited" }, "edited ") : null,
    message.expires_at && !message.deleted ? expiresMark(message.expires_at) : null,
    el("time", { datetime: message.sent_at, title: new Date(message.sent_at).toLocaleString() }, shortTime(message.sent_at)),
    options.mine ? tick(status) : null,
  );
  const bubble = el(
    "div",
    { class: "bubble" },
    el("span", { class: "visually-hidden" }, `${author}: `),
    options.showAuthor && !options.mine ? el("p", { class: "author", "aria-hidden": "true" }, author) : null,
    message.reply_to ? quoteView(message.reply_to, options.names, options.blockedUser(message.reply_to.sender.id)) : null,
    body,
    message.deleted || blocked ? null : attachmentList(message.attachments),
    meta,
    message.deleted || blocked ? null : reactionChips(message.reactions, (emoji, on) => reporting(options.onReact(message, emoji, on))),
    replies > 0
      ? el("button", { type: "button", class: "replies-link", onclick: () => options.onThread(message) }, `${replies} ${replies === 1 ? "reply" : "replies"}`)
      : null,
  );
  const item = el("li", { class: `msg${options.mine ? " mine" : ""}${blocked ? " blocked" : ""}`, "data-seq": message.seq, "data-id": message.id }, bubble);
  if (message.deleted || blocked) return item;

  const label = (message.message_body || message.attachments.map((a) => a.name).join(", ")).slice(0, 40);
  const pinned = message.pinned_at !== null;
  const actions = el(
    "div",
    { class: "actions" },
    el("button", { type: "button", "aria-label": `Reply to message: ${label}`, onclick: () => options.onReply(message) }, "Reply"),
    reactionPicker(label, (emoji, on) => reporting(options.onReact(message, emoji, on))),
    el("button", { type: "button", "aria-label": `${pinned ? "Unpin" : "Pin"} message: ${label}`, onclick: () => reporting(options.onPin(message, !pinned)) }, pinned ? "Unpin" : "Pin"),
  );
  if (!options.mine) actions.append(reportButton(message, label));
  if (options.mine) {
    const edit = el("button", {
      type: "button",
      "aria-label": `Edit message: ${label}`,
      onclick: () => {
        const restore = () => {
          form.replaceWith(body);
          actions.hidden = false;
          edit.focus();
        };
        const form = editForm(message, item, options, restore);
        body.replaceWith(form);
        actions.hidden = true;
      },
    }, "Edit");
    actions.append(edit);
  }
  if (options.canDelete) {
    actions.append(
      el("button", {
        type: "button",
        "aria-label": `Delete message: ${label}`,
        onclick: () => {
          if (confirm("Delete this message for everyone?")) reporting(options.onDelete(message));
        },
      }, "Delete"),
    );
  }
  item.append(actions);
  // Focusable by a tap (not by Tab): on touch screens, tapping the bubble shows its actions.
  bubble.tabIndex = -1;
  return item;
}

/** A send still waiting for its ack (or failed, with a retry). */
export function pendingItem(send: PendingSend, names: Names, retry: (send: PendingSend) => void): HTMLLIElement {
  const status: Status = send.error ? "failed" : "pending";
  return el(
    "li",
    { class: "msg mine pending", "data-cid": send.cid },
    el(
      "div",
      { class: "bubble" },
      el("span", { class: "visually-hidden" }, "You: "),
      send.replyTo ? quoteView(send.replyTo, names) : null,
      el("p", { class: "body", hidden: send.body.trim() === "" }, mentionText(send.body, names)),
      pendingAttachments(send.attachments),
      el("p", { class: "meta" }, send.error ? el("span", { class: "send-error" }, `${send.error} `) : null, tick(status)),
    ),
    send.error ? el("div", { class: "actions" }, el("button", { type: "button", onclick: () => retry(send) }, "Retry")) : null,
  );
}
