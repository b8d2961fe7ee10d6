// Muting a conversation: no push notifications from it until a chosen time (a mention of the user still
// comes through). The setting is the user's own; the chat list marks muted chats.
import { muteConversation } from "../api";
import { el } from "../dom";
import { mutedText } from "./chat-list";

const HOUR_MS = 3_600_000;
/** "Until I unmute": the API takes a time, and this one is far enough away. */
const FOREVER = "9999-12-31T00:00:00.000Z";
const CHOICES: [label: string, ms: number | null][] = [
  ["For 1 hour", HOUR_MS],
  ["For 8 hours", 8 * HOUR_MS],
  ["For 1 week", 7 * 24 * HOUR_MS],
  ["Until I unmute", null],
];

export type MuteState = {
  /** The user's mute of this conversation (an ISO time, maybe past), or null. */
  until(): string | null;
  /** Saved: the chat list shows it. */
  set(until: string | null): void;
  /** Saving failed, with the API's reason. */
  failed(message: string): void;
};

/** A Mute button with a menu of how long, or Unmute while muted. */
export function muteControl(id: number, state: MuteState): { element: HTMLElement; render(): void } {
  const menu = el("div", { class: "mute-menu", id: `mute-menu-${id}`, popover: "auto", role: "group", "aria-label": "Mute notifications" });
  const button = el("button", { type: "button", class: "mute-button" });
  let muted = false;
  /** What this control saved last: the chat list does not hold a chat past its loaded pages. */
  let saved: string | null | undefined;

  async function save(until: string | null): Promise<void> {
    menu.hidePopover();
    button.disabled = true;
    try {
      await muteConversation(id, until);
      saved = until;
      state.set(until);
    } catch (error) {
      state.failed(error instanceof Error ? error.message : String(error));
    } finally {
      button.disabled = false;
      render();
    }
  }

  for (const [label, ms] of CHOICES) {
    menu.append(el("button", { type: "button", onclick: () => void save(ms === null ? FOREVER : new Date(Date.now() + ms).toISOString()) }, label));
  }
  // A popover in the top layer: placed under the button, right-aligned with it, each time it opens.
  menu.addEventListener("beforetoggle", (event) => {
    if ((event as ToggleEvent).newState !== "open") return;
    const box = button.getBoundingClientRect();
    menu.style.top = `${box.bottom + 4}px`;
    menu.style.right = `${Math.max(4, document.documentElement.clientWidth - box.right)}px`;
  });
  button.addEventListener("click", () => {
    if (muted) void save(null);
  });

  function render(): void {
    const end = Date.parse((saved === undefined ? state.until() : saved) ?? "");
    muted = end > Date.now();
    button.textContent = muted ? "Unmute" : "Mute";
    button.title = muted ? mutedText(end) : "Mute notifications from this conversation";
    // While muted the button unmutes at once; otherwise it opens the menu.
    button.popoverTargetElement = muted ? null : menu;
  }

  render();
  return { element: el("div", { class: "mute" }, button, menu), render };
}
