// Reactions on a message: each emoji with its count as a toggle (pressed when one of them is the user's),
// and a picker of a few common emoji to add one.
import { el } from "../dom";
import type { Reaction } from "../types";

/** What the picker offers; other emoji, from other clients, show and toggle all the same. */
export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

type Toggle = (emoji: string, on: boolean) => void;

/** The reactions so far, or null when there are none. */
export function reactionChips(reactions: readonly Reaction[], toggle: Toggle): HTMLElement | null {
  if (reactions.length === 0) return null;
  return el(
    "div",
    { class: "reactions" },
    ...reactions.map((r) =>
      el(
        "button",
        {
          type: "button",
          class: "reaction",
          "aria-pressed": String(r.me),
          "aria-label": `${r.emoji} ${r.count}${r.me ? ", yours included" : ""}`,
          title: r.me ? "Take back your reaction" : "React with this too",
          onclick: () => toggle(r.emoji, !r.me),
        },
        `${r.emoji} ${r.count}`,
      ),
    ),
  );
}

/** A "React" button that opens the common emoji; `label` says which message it is for. */
export function reactionPicker(label: string, toggle: Toggle): HTMLElement {
  const choices = el(
    "div",
    { class: "reaction-picker", role: "group", "aria-label": "Reactions", hidden: true },
    ...COMMON_EMOJI.map((emoji) =>
      el("button", {
        type: "button",
        "aria-label": `React with ${emoji}`,
        onclick: () => {
          close();
          toggle(emoji, true);
        },
      }, emoji),
    ),
  );
  const open = el("button", { type: "button", "aria-label": `React to message: ${label}`, "aria-expanded": "false" }, "React");
  const close = () => {
    choices.hidden = true;
    open.setAttribute("aria-expanded", "false");
  };
  open.addEventListener("click", () => {
    choices.hidden = !choices.hidden;
    open.setAttribute("aria-expanded", String(!choices.hidden));
    if (!choices.hidden) choices.querySelector("button")!.focus();
  });
  const wrap = el("span", { class: "react" }, open, choices);
  wrap.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !choices.hidden) {
      close();
      open.focus();
    }
  });
  // Leaving the picker (a click or Tab elsewhere) closes it.
  wrap.addEventListener("focusout", (event) => {
    if (!wrap.contains(event.relatedTarget as Node | null)) close();
  });
  return wrap;
}
