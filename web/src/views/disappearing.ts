// Disappearing messages: the conversation's owner picks how long messages sent from then on last (the
// server deletes each that long after it was sent). Everyone sees the setting; only the owner changes it.
import { setMessageTtl } from "../api";
import { el } from "../dom";
import type { ConversationResource } from "../types";

const HOUR = 3600;
const DAY = 24 * HOUR;
const CHOICES: [label: string, seconds: number | null][] = [
  ["Off", null],
  ["1 hour", HOUR],
  ["1 day", DAY],
  ["1 week", 7 * DAY],
  ["30 days", 30 * DAY],
  ["1 year", 365 * DAY],
];

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** "1 day", or for a time another client set that is not one of the choices, "36 hours" and the like. */
export function ttlText(seconds: number): string {
  const choice = CHOICES.find(([, s]) => s === seconds);
  if (choice) return choice[0];
  if (seconds % DAY === 0) return plural(seconds / DAY, "day");
  if (seconds % HOUR === 0) return plural(seconds / HOUR, "hour");
  return plural(Math.round(seconds / 60), "minute");
}

/** The timeline's line for a change (the event does not say who made it, so no name). */
export const ttlChangeText = (seconds: number | null) => (seconds === null ? "Disappearing messages: off" : `Disappearing messages: on, ${ttlText(seconds)}`);

export type DisappearingState = {
  /** Saved: the answer is the conversation as it now is. */
  saved(conversation: ConversationResource): void;
  /** Saving failed, with the API's reason. */
  failed(message: string): void;
};

/**
 * A "⏱" button with a menu of how long (the owner's), and a mark for the header's second line while it is
 * on. `render` shows a conversation's setting, and whether this user may change it.
 */
export function disappearingControl(id: number, state: DisappearingState): { element: HTMLElement; mark: HTMLElement; render(conversation: ConversationResource, me: number): void } {
  const menu = el("div", { class: "ttl-menu", id: `ttl-menu-${id}`, popover: "auto", role: "group", "aria-label": "Disappearing messages" });
  const button = el("button", { type: "button", class: "ttl-button", "aria-label": "Disappearing messages", disabled: true }, "⏱");
  const mark = el("span", { class: "ttl-mark", hidden: true });
  const options = new Map<number | null, HTMLButtonElement>();
  let owner = false;

  async function save(seconds: number | null): Promise<void> {
    menu.hidePopover();
    button.disabled = true;
    try {
      state.saved(await setMessageTtl(id, seconds));
    } catch (error) {
      state.failed(error instanceof Error ? error.message : String(error));
    } finally {
      button.disabled = !owner;
    }
  }

  for (const [label, seconds] of CHOICES) {
    const option = el("button", { type: "button", "aria-pressed": "false", onclick: () => void save(seconds) }, label);
    options.set(seconds, option);
    menu.append(option);
  }
  // Placed as the mute menu is: under the button, right-aligned with it, each time it opens.
  menu.addEventListener("beforetoggle", (event) => {
    if ((event as ToggleEvent).newState !== "open") return;
    const box = button.getBoundingClientRect();
    menu.style.top = `${box.bottom + 4}px`;
    menu.style.right = `${Math.max(4, document.documentElement.clientWidth - box.right)}px`;
  });
  button.popoverTargetElement = menu;

  function render(conversation: ConversationResource, me: number): void {
    const seconds = conversation.message_ttl_seconds;
    const setting = seconds === null ? "off" : ttlText(seconds);
    owner = conversation.owner === me;
    // Disabled rather than hidden for the others: they still see (and hover for) what the setting is.
    button.disabled = !owner;
    button.classList.toggle("locked", !owner);
    button.title = owner ? `Disappearing messages: ${setting}` : `Disappearing messages: ${setting}. Only the owner can change this.`;
    for (const [value, option] of options) option.setAttribute("aria-pressed", String(value === seconds));
    mark.hidden = seconds === null;
    mark.textContent = seconds === null ? "" : `⏱ ${setting}`;
    mark.title = seconds === null ? "" : `Disappearing messages: messages sent now are deleted ${setting} after they are sent`;
    if (!owner && menu.matches(":popover-open")) menu.hidePopover();
  }

  return { element: el("div", { class: "ttl" }, button, menu), mark, render };
}
