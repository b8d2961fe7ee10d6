// A presence dot: green or grey, with "online"/"offline" as text for screen readers (the colour alone
// would tell them nothing). Only two-person conversations have one: a group has no single "other person".
import { el } from "../dom";
import type { Presence } from "../presence";
import type { ConversationResource } from "../types";

/** The other person in a two-person conversation; null for a group (or a conversation left alone). */
export function partnerOf(conversation: ConversationResource, me: number): number | null {
  if (conversation.participants.length !== 2) return null;
  return conversation.participants.find((p) => p.id !== me)?.id ?? null;
}

export function presenceDot(): HTMLSpanElement {
  return el("span", { class: "presence", hidden: true }, el("span", { class: "visually-hidden" }));
}

/** Shows `user`'s presence on `dot`, or hides the dot when there is nobody to show (null). */
export function showPresence(dot: HTMLElement, presence: Presence, user: number | null): void {
  dot.hidden = user === null;
  if (user === null) return;
  const online = presence.isOnline(user);
  dot.dataset.online = String(online);
  dot.firstElementChild!.textContent = online ? "online" : "offline";
}
