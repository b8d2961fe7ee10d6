// A conversation's pinned messages (GET .../pins/), most recently pinned first, kept current by the
// conversation's events; any participant may unpin one here.
import { pins as fetchPins } from "../api";
import { el } from "../dom";
import type { MessageResource } from "../types";
import type { Names } from "./message-text";
import { panelFrame, panelMessage, type SidePanel } from "./side-panel";

type Context = { names: Names; me: number; close(): void; unpin(message: MessageResource): Promise<void> };

export function pinsPanel(conversationId: number, ctx: Context): SidePanel {
  /** Pinned messages by id. */
  const pinned = new Map<number, MessageResource>();
  /** Messages the socket changed while the list loaded: their copies are newer than the list's. */
  const live = new Set<number>();
  let loaded = false;

  const status = el("p", { class: "panel-status", role: "status" }, "Loading pins…");
  const list = el("ol", { class: "panel-list", "aria-label": "Pinned messages" });

  function render(): void {
    const shown = [...pinned.values()].sort((a, b) => (b.pinned_at ?? "").localeCompare(a.pinned_at ?? ""));
    list.replaceChildren(
      ...shown.map((m) => {
        const unpin = el("button", { type: "button", "aria-label": `Unpin message: ${m.message_body.slice(0, 40)}` }, "Unpin");
        unpin.addEventListener("click", () => {
          unpin.disabled = true;
          ctx.unpin(m).catch((error: Error) => {
            unpin.disabled = false;
            status.textContent = error.message;
          });
        });
        return el("li", {}, panelMessage(m, ctx.names, ctx.me, unpin));
      }),
    );
    if (loaded) status.textContent = shown.length ? "" : "Nothing is pinned. Pin a message to keep it here.";
  }

  function keep(m: MessageResource): void {
    if (m.pinned_at && !m.deleted) pinned.set(m.id, m);
    else pinned.delete(m.id);
  }

  fetchPins(conversationId)
    .then((messages) => {
      for (const m of messages) if (!live.has(m.id)) keep(m);
      loaded = true;
      render();
    })
    .catch((error: Error) => (status.textContent = `The pins could not be loaded: ${error.message}`));
  return {
    element: panelFrame("Pinned messages", ctx.close, status, list),
    apply(m) {
      if (!loaded) live.add(m.id);
      // Only a message pinned, or one that was: other changes leave the list as it is.
      if (!m.pinned_at && !pinned.has(m.id)) return;
      keep(m);
      render();
    },
  };
}
