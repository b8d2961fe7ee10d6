// The chat list: each conversation's last message, unread badge (and an "@" when unread messages mention
// the user), a mark on chats the user muted, and for two-person chats whether the other person is online,
// newest activity first; a last message from someone the user blocked says only that. It renders from the user stream (its snapshot, then its events); chats past the
// snapshot's first page load when asked for.
import { ApiError, chats, findUserByEmail, markDelivered, startConversation } from "../api";
import type { Blocks } from "../blocks";
import { ChatEntries, mentionsOf, muteEnds, unreadOf, type Entry } from "../chat-entries";
import { el, field, nameOf, setFieldError, shortTime } from "../dom";
import type { Presence } from "../presence";
import { BASE, type ConversationResource, type StreamEvent } from "../types";
import { BLOCKED_MESSAGE } from "./blocking";
import { ATTACHMENT_ONLY, mentionText } from "./message-text";
import { partnerOf, presenceDot, showPresence } from "./presence-dot";

/** Chats per page of /api/chats/: the stream's snapshot is the first page of this size. */
const PAGE = 50;
/** Delivery acknowledgements wait this long, so a burst of messages costs one request per chat (and another tab may answer first). */
const ACK_DELAY_MS = 500;

export type ChatList = {
  element: HTMLElement;
  /** An event from the user stream. */
  apply(event: StreamEvent): void;
  /** Says why live updates stopped; empty while they run. */
  setNotice(text: string): void;
  setActive(conversationId: number | null): void;
  /** A conversation the list holds. */
  conversation(id: number): ConversationResource | undefined;
  /** The user's mute of a chat the list holds (an ISO time, maybe past), or null. */
  mutedUntil(id: number): string | null;
  /** The user muted (until an ISO time) or unmuted (null) a chat. */
  setMuted(id: number, until: string | null): void;
  stop(): void;
};

/** Longer than this, setTimeout fires at once (its delay is a signed 32-bit count of ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** Mutes ending later than this are "until you unmute" (the app sets those to the year 9999). */
const FOREVER_MS = 10 * 365 * 86_400_000;

/** "Muted until 14:05", "Muted until Mon", or "Muted until you unmute". */
export function mutedText(end: number, now = Date.now()): string {
  if (end - now > FOREVER_MS) return "Muted until you unmute";
  const d = new Date(end);
  const when = end - now < 86_400_000 ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });
  return `Muted until ${when}`;
}

/** The conversation's title, or the other participants' names. */
export function titleOf(conversation: ConversationResource, me: number): string {
  if (conversation.title) return conversation.title;
  const others = conversation.participants.filter((p) => p.id !== me);
  return others.length ? others.map(nameOf).join(", ") : "Just you";
}

export function createChatList(me: number, go: (path: string) => void, presence: Presence, blocks: Blocks): ChatList {
  const entries = new ChatEntries();
  const items = new Map<number, HTMLLIElement>();
  /** Per conversation, the seq this device has said it holds (the request may still be in flight). */
  const acknowledged = new Map<number, number>();
  const due = new Set<number>();
  let ackTimer: number | undefined;
  let unmuteTimer: number | undefined;
  let active: number | null = null;
  let loaded = false;
  let pagesLoaded = 1;
  let topLoad: Promise<void> | null = null;
  let topAgain = false;

  const list = el("ul", { class: "chats", "aria-label": "Conversations" });
  const empty = el("p", { class: "empty", hidden: true }, "No conversations yet. Start one with someone's email.");
  const notice = el("p", { class: "notice", role: "status" });
  const more = el("button", { type: "button", class: "more", hidden: true, onclick: () => void loadMore() }, "Show older chats");
  const email = el("input", { type: "email", name: "email", autocomplete: "off", required: true, placeholder: "name@example.com" });
  const startButton = el("button", { type: "submit" }, "Start");
  const form = el("form", { class: "new-chat", "aria-label": "Start a conversation" }, field("Start a chat by email", email), startButton);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(email, "");
    if (!email.value.trim()) return setFieldError(email, "Enter an email address.");
    startButton.disabled = true;
    try {
      const user = await findUserByEmail(email.value);
      if (!user) return setFieldError(email, "Nobody on Hey has that email.");
      if (user.id === me) return setFieldError(email, "That is you. Enter someone else's email.");
      const conversation = await startConversation(user.id);
      email.value = "";
      go(`${BASE}c/${conversation.id}`);
    } catch (error) {
      setFieldError(email, error instanceof ApiError ? error.message : String(error));
    } finally {
      startButton.disabled = false;
    }
  });

  function preview(entry: Entry): string {
    const m = entry.last;
    if (!m) return "No messages yet";
    if (!m.deleted && m.sender.id !== me && (m.blocked || blocks.has(m.sender.id))) return BLOCKED_MESSAGE;
    const participants = entry.conversation.participants;
    const who = m.sender.id === me ? "You: " : participants.length > 2 ? `${m.sender.first_name || "Someone"}: ` : "";
    return who + (m.deleted ? "Message deleted" : mentionText(m.preview, (id) => participants.find((p) => p.id === id)).trim() || ATTACHMENT_ONLY);
  }

  /** Updates an entry in place: replacing it would drop keyboard focus on every event. */
  function update(entry: Entry): void {
    const id = entry.conversation.id;
    let li = items.get(id);
    if (!li) {
      const muted = el("span", { class: "muted-mark", role: "img", "aria-label": "Muted" }, "🔕");
      const title = el("span", { class: "chat-title" }, el("span", { class: "chat-name" }), " ", presenceDot(), muted);
      const link = el("a", { href: `${BASE}c/${id}`, class: "chat-link", "data-conversation": id });
      const badges = el("span", { class: "badges" }, el("span", { class: "mention-badge", "aria-label": "You were mentioned", title: "You were mentioned" }, "@"), el("span", { class: "badge" }));
      link.append(title, el("time", { class: "chat-time" }), el("span", { class: "chat-preview" }), badges);
      li = el("li", { class: "chat" }, link);
      items.set(id, li);
    }
    const link = li.firstElementChild!;
    const [title, time, text, badges] = [...link.children] as [HTMLElement, HTMLTimeElement, HTMLElement, HTMLElement];
    const [name, dot, muted] = [...title.children] as [HTMLElement, HTMLElement, HTMLElement];
    const [mention, badge] = [...badges.children] as [HTMLElement, HTMLElement];
    const unread = id === active ? 0 : unreadOf(entry);
    mention.hidden = id === active || mentionsOf(entry) === 0;
    const when = entry.last?.sent_at ?? entry.conversation.created_at;
    name.textContent = titleOf(entry.conversation, me);
    showPresence(dot, presence, partnerOf(entry.conversation, me));
    const muteEnd = muteEnds(entry);
    muted.hidden = muteEnd === null;
    muted.title = muteEnd === null ? "" : mutedText(muteEnd);
    link.classList.toggle("muted", muteEnd !== null);
    time.dateTime = when;
    time.textContent = shortTime(when);
    text.textContent = preview(entry);
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    badge.setAttribute("aria-label", `${unread} unread`);
    if (id === active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }

  function render(): void {
    const ordered = entries.ordered();
    for (const entry of ordered) update(entry);
    // Reorder only when the order changed, so keyboard focus inside the list is not lost every event.
    const current = [...list.children];
    if (ordered.some((entry, i) => current[i] !== items.get(entry.conversation.id)) || current.length !== ordered.length) {
      list.replaceChildren(...ordered.map((entry) => items.get(entry.conversation.id)!));
    }
    for (const id of items.keys()) if (!entries.get(id)) items.delete(id);
    empty.hidden = !loaded || entries.size > 0;
    more.hidden = entries.size >= entries.total;
    for (const entry of ordered) acknowledge(entry);
    // The mark goes when the soonest mute ends, even if nothing else happens by then.
    window.clearTimeout(unmuteTimer);
    const ends = ordered.map((entry) => muteEnds(entry) ?? Infinity);
    const soonest = Math.min(...ends) - Date.now();
    if (soonest < MAX_TIMEOUT_MS) unmuteTimer = window.setTimeout(render, soonest + 100);
  }

  /** Tells the server this device has the newest messages (delivered ticks for their senders). */
  function acknowledge(entry: Entry): void {
    const id = entry.conversation.id;
    const m = entry.last;
    if (!m || m.sender.id === me || id === active || m.seq <= Math.max(entry.deliveredSeq, acknowledged.get(id) ?? 0)) return;
    acknowledged.set(id, m.seq);
    due.add(id);
    ackTimer ??= window.setTimeout(sendAcknowledgements, ACK_DELAY_MS);
  }

  function sendAcknowledgements(): void {
    ackTimer = undefined;
    for (const id of due) {
      const seq = acknowledged.get(id)!;
      if (seq <= (entries.get(id)?.deliveredSeq ?? seq)) continue; // Another tab said so, or the chat is gone.
      void markDelivered(id, seq).catch(() => {
        // Said again at the next render.
        if (acknowledged.get(id) === seq) acknowledged.delete(id);
      });
    }
    due.clear();
  }

  /** The first page again: a chat the list does not hold has become one of the newest. */
  function loadTop(): void {
    if (topLoad) return void (topAgain = true);
    topLoad = chats(1, PAGE)
      .then((page) => entries.addPage(page.results, page.count))
      .catch(() => {}) // The next event for that chat tries again.
      .finally(() => {
        topLoad = null;
        render();
        if (topAgain) {
          topAgain = false;
          loadTop();
        }
      });
  }

  async function loadMore(): Promise<void> {
    more.disabled = true;
    try {
      const page = await chats(pagesLoaded + 1, PAGE);
      pagesLoaded++;
      entries.addPage(page.results, page.count);
    } catch (error) {
      // Past the end: chats were removed since the count was taken.
      if (error instanceof ApiError && error.status === 404) entries.total = entries.size;
    } finally {
      more.disabled = false;
      render();
    }
  }

  const unsubscribe = presence.subscribe(render);
  // An unblock shows their last messages again: the first page is read again to get them.
  const unsubscribeBlocks = blocks.subscribe((change) => (change && !change.blocked ? loadTop() : render()));
  return {
    element: el("div", { class: "chat-list" }, el("h2", { class: "visually-hidden" }, "Chats"), form, notice, list, empty, more),
    apply(event) {
      if (event.type === "ready" && !event.resumed) {
        loaded = true;
        pagesLoaded = 1;
      }
      if (!entries.apply(event)) loadTop();
      render();
    },
    setNotice(text) {
      notice.textContent = text;
    },
    setActive(id) {
      active = id;
      render();
    },
    conversation: (id) => entries.get(id)?.conversation,
    mutedUntil: (id) => entries.get(id)?.mutedUntil ?? null,
    setMuted(id, until) {
      entries.mute(id, until);
      render();
    },
    stop() {
      unsubscribe();
      unsubscribeBlocks();
      window.clearTimeout(ackTimer);
      window.clearTimeout(unmuteTimer);
    },
  };
}
