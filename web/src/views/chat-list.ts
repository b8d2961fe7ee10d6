// The chat list from /api/chats/: last message and unread badge per conversation, newest first.
// The open conversation's socket patches it at once; the rest is polled while the tab is visible,
// since the API has no per-user event stream (a new conversation appears on the next poll).
import { ApiError, chats, findUserByEmail, markDelivered, startConversation } from "../api";
import { el, field, nameOf, setFieldError, shortTime } from "../dom";
import { BASE, type Chat, type ConversationResource, type MessageResource } from "../types";

const POLL_MS = 4000;

export type ChatList = {
  element: HTMLElement;
  /** A message event from the open conversation. */
  noteMessage(message: MessageResource): void;
  /** The user has read everything in this conversation. */
  markRead(conversationId: number): void;
  setActive(conversationId: number | null): void;
  refresh(): Promise<void>;
  stop(): void;
};

/** The conversation's title, or the other participants' names. */
export function titleOf(conversation: ConversationResource, me: number): string {
  if (conversation.title) return conversation.title;
  const others = conversation.participants.filter((p) => p.id !== me);
  return others.length ? others.map(nameOf).join(", ") : "Just you";
}

export function createChatList(me: number, go: (path: string) => void, onConnectivity: (ok: boolean) => void): ChatList {
  const entries = new Map<number, Chat>();
  const items = new Map<number, HTMLLIElement>();
  const acknowledged = new Map<number, number>();
  let active: number | null = null;
  let timer: number | undefined;
  let stopped = false;

  const list = el("ul", { class: "chats", "aria-label": "Conversations" });
  const empty = el("p", { class: "empty", hidden: true }, "No conversations yet. Start one with someone's email.");
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
      void refresh();
      go(`${BASE}c/${conversation.id}`);
    } catch (error) {
      setFieldError(email, error instanceof ApiError ? error.message : String(error));
    } finally {
      startButton.disabled = false;
    }
  });

  function preview(chat: Chat): string {
    const m = chat.last_message;
    if (!m) return "No messages yet";
    const who = m.sender.id === me ? "You: " : chat.conversation.participants.length > 2 ? `${m.sender.first_name || "Someone"}: ` : "";
    return who + (m.deleted ? "Message deleted" : m.message_body);
  }

  /** Updates an entry in place: replacing it would drop keyboard focus on every poll. */
  function update(chat: Chat): void {
    const id = chat.conversation.id;
    let li = items.get(id);
    if (!li) {
      const link = el("a", { href: `${BASE}c/${id}`, class: "chat-link", "data-conversation": id });
      link.append(el("span", { class: "chat-title" }), el("time", { class: "chat-time" }), el("span", { class: "chat-preview" }), el("span", { class: "badge" }));
      li = el("li", { class: "chat" }, link);
      items.set(id, li);
    }
    const [title, time, text, badge] = [...li.firstElementChild!.children] as [HTMLElement, HTMLTimeElement, HTMLElement, HTMLElement];
    const unread = id === active ? 0 : chat.unread_count;
    const when = chat.last_message?.sent_at ?? chat.conversation.created_at;
    title.textContent = titleOf(chat.conversation, me);
    time.dateTime = when;
    time.textContent = shortTime(when);
    text.textContent = preview(chat);
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    badge.setAttribute("aria-label", `${unread} unread`);
    if (id === active) li.firstElementChild!.setAttribute("aria-current", "page");
    else li.firstElementChild!.removeAttribute("aria-current");
  }

  function render(): void {
    const ordered = [...entries.values()].sort(
      (a, b) => (b.conversation.last_message_at ?? b.conversation.created_at).localeCompare(a.conversation.last_message_at ?? a.conversation.created_at) || b.conversation.id - a.conversation.id,
    );
    for (const chat of ordered) update(chat);
    // Reorder only when the order changed, so keyboard focus inside the list is not lost every poll.
    const current = [...list.children];
    if (ordered.some((chat, i) => current[i] !== items.get(chat.conversation.id)) || current.length !== ordered.length) {
      list.replaceChildren(...ordered.map((chat) => items.get(chat.conversation.id)!));
    }
    empty.hidden = entries.size > 0;
  }

  /** Tells the server this device has the newest messages (delivered ticks for their senders). */
  function acknowledge(chat: Chat): void {
    const m = chat.last_message;
    if (!m || m.sender.id === me || m.status !== "sent" || chat.conversation.id === active) return;
    if ((acknowledged.get(chat.conversation.id) ?? 0) >= m.seq) return;
    acknowledged.set(chat.conversation.id, m.seq);
    void markDelivered(chat.conversation.id, m.seq).catch(() => acknowledged.delete(chat.conversation.id));
  }

  async function refresh(): Promise<void> {
    window.clearTimeout(timer);
    try {
      const page = await chats();
      entries.clear();
      for (const chat of page.results) entries.set(chat.conversation.id, chat);
      for (const chat of page.results) acknowledge(chat);
      render();
      onConnectivity(true);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) onConnectivity(false);
    } finally {
      if (!stopped && document.visibilityState === "visible") timer = window.setTimeout(() => void refresh(), POLL_MS);
    }
  }

  const onVisible = () => document.visibilityState === "visible" && void refresh();
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("online", onVisible);

  void refresh();
  return {
    element: el("div", { class: "chat-list" }, el("h2", { class: "visually-hidden" }, "Chats"), form, list, empty),
    noteMessage(message) {
      const chat = entries.get(message.conversation);
      if (!chat) return void refresh();
      if (!chat.last_message || message.seq >= chat.last_message.seq) {
        chat.last_message = message;
        chat.conversation.last_message_at = message.sent_at > (chat.conversation.last_message_at ?? "") ? message.sent_at : chat.conversation.last_message_at;
      }
      render();
    },
    markRead(id) {
      const chat = entries.get(id);
      if (chat && chat.unread_count) {
        chat.unread_count = 0;
        render();
      }
    },
    setActive(id) {
      active = id;
      render();
    },
    refresh,
    stop() {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("online", onVisible);
    },
  };
}
