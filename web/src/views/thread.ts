// A thread: the message and its replies (GET .../replies/), oldest first, kept current by the
// conversation's events; "Reply in thread" answers the message from the main box.
import { replies as fetchReplies } from "../api";
import { el } from "../dom";
import type { MessageResource } from "../types";
import type { Names } from "./message-text";
import { panelFrame, panelMessage, type SidePanel } from "./side-panel";

type Context = { names: Names; me: number; close(): void; reply(message: MessageResource): void };

export function threadPanel(conversationId: number, parent: MessageResource, ctx: Context): SidePanel {
  let head = parent;
  /** Replies by seq. */
  const replies = new Map<number, MessageResource>();
  /** Replies the socket brought while the thread loaded: their copies are newer than the page's. */
  const live = new Set<number>();
  let loaded = false;

  const headSlot = el("div", { class: "thread-parent" });
  const status = el("p", { class: "panel-status", role: "status" }, "Loading replies…");
  const list = el("ol", { class: "panel-list", "aria-label": "Replies" });
  const replyButton = el("button", { type: "button", onclick: () => ctx.reply(head) }, "Reply in thread");

  function render(): void {
    headSlot.replaceChildren(panelMessage(head, ctx.names, ctx.me));
    replyButton.hidden = head.deleted;
    const shown = [...replies.values()].filter((m) => !m.deleted).sort((a, b) => a.seq - b.seq);
    list.replaceChildren(...shown.map((m) => el("li", {}, panelMessage(m, ctx.names, ctx.me))));
    if (loaded) status.textContent = shown.length ? "" : "No replies yet.";
  }

  async function load(): Promise<void> {
    let after = 0;
    for (;;) {
      const page = await fetchReplies(conversationId, parent.id, after);
      for (const m of page.results) if (!live.has(m.seq)) replies.set(m.seq, m);
      if (!page.next || page.results.length === 0) break;
      after = page.results.at(-1)!.seq;
    }
    loaded = true;
    render();
  }

  render();
  load().catch((error: Error) => (status.textContent = `The replies could not be loaded: ${error.message}`));
  return {
    element: panelFrame("Thread", ctx.close, headSlot, replyButton, status, list),
    apply(m) {
      if (m.id === head.id) head = m;
      else if (m.reply_to?.id === head.id) {
        replies.set(m.seq, m);
        if (!loaded) live.add(m.seq);
      } else return;
      render();
    },
  };
}
