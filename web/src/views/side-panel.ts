// The panel beside a conversation's messages (over them on a phone) that shows a thread or the pins, one at
// a time. Each keeps its own copy of the messages it lists and takes every change the conversation sees.
import { el, nameOf, shortTime } from "../dom";
import type { MessageResource } from "../types";
import { attachmentList } from "./attachments";
import { BLOCKED_MESSAGE } from "./blocking";
import { bodyNodes, type Names } from "./message-text";
import { tombstone } from "./report";

export type SidePanel = {
  element: HTMLElement;
  /** A message the conversation received or changed: the panel keeps what concerns it. */
  apply(message: MessageResource): void;
};

/** The place of the one panel open (empty when none is). */
export class PanelSlot {
  readonly element = el("div", { class: "panel-slot" });
  #panel: SidePanel | null = null;

  open(panel: SidePanel): void {
    this.#panel = panel;
    this.element.replaceChildren(panel.element);
  }

  close(): void {
    this.#panel = null;
    this.element.replaceChildren();
  }

  apply(message: MessageResource): void {
    this.#panel?.apply(message);
  }
}

/** The panel's frame: a heading, a close button, and its content. */
export function panelFrame(title: string, close: () => void, ...content: HTMLElement[]): HTMLElement {
  const heading = el("h3", { class: "panel-title", tabindex: -1 }, title);
  queueMicrotask(() => heading.focus());
  return el(
    "aside",
    { class: "side-panel", role: "complementary", "aria-label": title },
    el("header", { class: "panel-header" }, heading, el("button", { type: "button", "aria-label": `Close ${title.toLowerCase()}`, onclick: close }, "×")),
    ...content,
  );
}

/** A message as a panel lists it: who, when, the text, and any buttons the panel adds. */
export function panelMessage(message: MessageResource, names: Names, me: number, ...buttons: HTMLElement[]): HTMLElement {
  return el(
    "article",
    { class: "panel-msg", "data-seq": message.seq },
    el(
      "p",
      { class: "panel-meta" },
      el("strong", {}, message.sender.id === me ? "You" : nameOf(message.sender)),
      " ",
      el("time", { datetime: message.sent_at, title: new Date(message.sent_at).toLocaleString() }, shortTime(message.sent_at)),
    ),
    message.deleted
      ? el("p", { class: "panel-body deleted" }, tombstone(message))
      : message.blocked
        ? el("p", { class: "panel-body blocked" }, BLOCKED_MESSAGE)
        : el("p", { class: "panel-body", hidden: message.message_body.trim() === "" }, ...bodyNodes(message.message_body, message.mentions, names, me)),
    message.deleted || message.blocked ? null : attachmentList(message.attachments),
    buttons.length ? el("div", { class: "row" }, ...buttons) : null,
  );
}
