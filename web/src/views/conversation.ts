// A conversation: messages in seq order with history loaded backwards as you scroll up, a composer
// that sends over the WebSocket (pending until the ack), ticks, typing, edits and deletes.
import { ApiError, conversation as fetchConversation, deleteMessage, editMessage, messagesBefore } from "../api";
import { el, nameOf } from "../dom";
import { conversationSocket } from "../conversation-socket";
import type { SocketState } from "../live-socket";
import { Pacer } from "../pacer";
import type { Presence } from "../presence";
import { Timeline, type PendingSend } from "../timeline";
import { BASE, type ConversationResource, type MessageResource, type ServerEvent, type UserResource } from "../types";
import { titleOf } from "./chat-list";
import { composer } from "./composer";
import { messageItem, pendingItem, setStatus } from "./message-item";
import { peopleDialog } from "./people";
import { partnerOf, presenceDot, showPresence } from "./presence-dot";

export type ConversationContext = { me: UserResource; presence: Presence; go(path: string): void; setOffline(offline: boolean): void };

const PAGE = 50;

export function conversationView(id: number, ctx: ConversationContext): { element: HTMLElement; stop(): void } {
  const me = ctx.me.id;
  const timeline = new Timeline(me);
  const items = new Map<number, HTMLLIElement>();
  const typing = new Map<number, number>();
  let detail: ConversationResource | null = null;
  let lastChange: number | null = null;
  let loadingOlder = false;
  let historyLoad: Promise<void> = Promise.resolve();
  /** Bumped by a resync, so a history page fetched before it is dropped. */
  let generation = 0;
  let reachedStart = false;
  let sentRead = 0;
  let readTimer: number | undefined;
  let typingTimer: number | undefined;
  const pacer = new Pacer();

  const heading = el("h2", { class: "conversation-title", tabindex: -1 }, "Loading…");
  const state = el("p", { class: "conversation-state", role: "status" });
  const dot = presenceDot();
  const renderPresence = () => showPresence(dot, ctx.presence, detail && partnerOf(detail, me));
  const peopleButton = el("button", { type: "button", class: "people-button", disabled: true }, "People");
  const header = el("header", { class: "conversation-header" }, el("a", { href: BASE, class: "back", "aria-label": "Back to chats" }, "‹ Chats"), el("div", {}, el("div", { class: "title-row" }, heading, dot), state), peopleButton);

  const older = el("button", { type: "button", class: "older", onclick: () => void loadOlder() }, "Load earlier messages");
  const start = el("p", { class: "start", hidden: true }, "This is the start of the conversation.");
  const list = el("ol", { class: "timeline" });
  const pendingList = el("ol", { class: "timeline pending-list" });
  const scroller = el("div", { class: "messages", role: "log", "aria-label": "Messages", tabindex: 0 }, older, start, list, pendingList);
  const typingLine = el("p", { class: "typing", "aria-live": "polite" });

  const box = composer(
    (body) => {
      const send = timeline.addPending(body);
      renderPending();
      scroller.scrollTop = scroller.scrollHeight;
      sendPending(send);
    },
    () => socket.send({ type: "typing" }),
  );
  const element = el("section", { class: "conversation", "aria-labelledby": "conversation-title" }, header, scroller, typingLine, box.element);
  heading.id = "conversation-title";

  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  /** Runs a DOM change, keeping the view pinned to the newest message if it was there. */
  const keepingBottom = (change: () => void) => {
    const stick = atBottom();
    change();
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  };

  function options(m: MessageResource) {
    return {
      mine: m.sender.id === me,
      showAuthor: (detail?.participants.length ?? 2) > 2,
      canDelete: m.sender.id === me || detail?.owner === me,
      onEdit: async (message: MessageResource, body: string) => void apply(await editMessage(id, message.id, body)),
      onDelete: async (message: MessageResource) => {
        await deleteMessage(id, message.id);
        apply({ ...message, deleted: true, message_body: "" });
      },
    };
  }

  /** Puts a message in its place by seq (or replaces the element showing it). */
  function render(m: MessageResource): void {
    const shown = timeline.bySeq.get(m.seq)!;
    const item = messageItem(shown, timeline.statusOf(shown), options(shown));
    const old = items.get(m.seq);
    items.set(m.seq, item);
    if (old) return old.replaceWith(item);
    // The element of the smallest seq above this one, if any: new messages land at the end, history at the top.
    let next: number | undefined;
    for (const seq of items.keys()) if (seq > m.seq && (next === undefined || seq < next)) next = seq;
    list.insertBefore(item, next === undefined ? null : items.get(next)!);
  }

  function apply(m: MessageResource): void {
    const changed = timeline.upsert(m);
    keepingBottom(() => {
      if (changed) render(m);
      renderPending();
    });
    // Someone else's message moved their watermarks past it, and maybe past some of mine.
    if (m.sender.id !== me) refreshTicks();
  }

  function renderPending(): void {
    pendingList.replaceChildren(...[...timeline.pending.values()].map((send) => pendingItem(send, retry)));
  }

  function refreshTicks(): void {
    for (const [seq, item] of items) {
      const m = timeline.bySeq.get(seq)!;
      if (m.sender.id === me) setStatus(item, timeline.statusOf(m));
    }
  }

  function renderTyping(): void {
    const now = Date.now();
    for (const [user, until] of typing) if (until <= now) typing.delete(user);
    const names = [...typing.keys()].map((u) => detail?.participants.find((p) => p.id === u)).map((p) => (p ? nameOf(p) : "Someone"));
    typingLine.textContent = names.length === 0 ? "" : `${names.join(" and ")} ${names.length > 1 ? "are" : "is"} typing…`;
    window.clearTimeout(typingTimer);
    if (typing.size) typingTimer = window.setTimeout(renderTyping, Math.min(...typing.values()) - now + 50);
  }

  /** Read receipts: everything shown while the tab is visible counts as read. */
  function scheduleRead(): void {
    window.clearTimeout(readTimer);
    readTimer = window.setTimeout(() => {
      const newest = timeline.newestFromOthers();
      if (document.visibilityState !== "visible" || newest <= Math.max(sentRead, timeline.myRead())) return;
      if (socket.send({ type: "receipt", read_up_to: newest })) sentRead = newest;
    }, 200);
  }

  /** Sends go through the pacer, in order, under the server's frame budget. */
  function sendPending(send: PendingSend): void {
    pacer.push(() => !timeline.pending.has(send.cid) || socket.send({ type: "send", message_body: send.body, client_message_id: send.cid }));
  }

  function retry(send: PendingSend): void {
    send.error = null;
    renderPending();
    sendPending(send);
  }

  function onEvent(event: ServerEvent): void {
    switch (event.type) {
      case "message.created":
        timeline.streamSeq = Math.max(timeline.streamSeq, event.message.seq);
        typing.delete(event.message.sender.id);
        renderTyping();
        apply(event.message);
        return scheduleRead();
      case "message.updated":
      case "message.deleted":
      case "ack":
        return apply(event.message);
      case "status":
        timeline.setProgress(event);
        return refreshTicks();
      case "typing":
        if (event.user !== me) typing.set(event.user, Date.parse(event.until));
        return renderTyping();
      case "ready":
        lastChange = event.change_seq;
        timeline.streamSeq = Math.max(timeline.streamSeq, event.last_seq);
        timeline.setProgress(event);
        timeline.setMyRead(event.read_seq);
        refreshTicks();
        // Unacknowledged sends go again, paced: their client_message_id makes a duplicate impossible.
        pacer.clear();
        for (const send of timeline.pending.values()) if (!send.error) sendPending(send);
        return scheduleRead();
      case "resync":
        // Too far behind to replay: start over from the newest page.
        generation++;
        timeline.bySeq.clear();
        items.clear();
        list.replaceChildren();
        timeline.streamSeq = event.last_seq;
        showStart(false);
        return void loadOlder(event.last_seq + 1);
      case "participant.added":
      case "participant.removed":
      case "conversation.updated":
        return void loadDetail();
      case "error":
        if (event.client_message_id) {
          const send = timeline.pending.get(event.client_message_id);
          // Dropped for going too fast: it goes again once the server said it may (still in order behind it).
          if (send && event.code === "rate_limited") {
            pacer.pause(event.retry_after ?? 1);
            return sendPending(send);
          }
          if (send) send.error = event.detail;
          return renderPending();
        }
        return console.warn(`hey: ${event.code}: ${event.detail}`);
    }
  }

  function onState(next: SocketState, message?: string): void {
    ctx.setOffline(next === "offline");
    state.textContent = { connecting: "Connecting…", live: participantsLine(), offline: "Offline — reconnecting…", gone: message ?? "" }[next];
    if (next === "gone") {
      // Nothing to page back through in a conversation that is not (or no longer) yours.
      older.hidden = true;
      box.setEnabled(false);
      peopleButton.disabled = true;
      ctx.setOffline(false);
    }
  }

  const participantsLine = () => (detail ? `${detail.participants.length} people` : "");

  const socket = conversationSocket(id, { resumeFrom: () => ({ afterSeq: timeline.streamSeq, afterChange: lastChange }), onEvent, onState });

  async function loadDetail(): Promise<void> {
    detail = await fetchConversation(id);
    heading.textContent = titleOf(detail, me);
    document.title = `${heading.textContent} · Hey`;
    renderPresence();
    peopleButton.disabled = false;
    if (socket.live) state.textContent = participantsLine();
  }

  function showStart(reached: boolean): void {
    reachedStart = reached;
    older.hidden = reached;
    start.hidden = !reached;
  }

  /**
   * Loads the page before `before` (by default the oldest shown). Explicit calls queue behind any load in
   * flight; the scroll-triggered ones are dropped while one runs.
   */
  function loadOlder(before?: number): Promise<void> {
    if (before === undefined && (loadingOlder || reachedStart)) return historyLoad;
    loadingOlder = true;
    const current = generation;
    historyLoad = historyLoad.then(() => fetchOlder(before ?? timeline.oldestSeq() ?? timeline.streamSeq + 1, current)).finally(() => (loadingOlder = false));
    return historyLoad;
  }

  async function fetchOlder(before: number, current: number): Promise<void> {
    if (before <= 1) return showStart(true);
    older.textContent = "Loading…";
    try {
      const page = await messagesBefore(id, before, PAGE);
      if (current !== generation) return; // A resync started over meanwhile.
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      for (const m of page.results) if (timeline.upsert(m)) render(m);
      // Older messages go above: keep what the reader was looking at where it was.
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
      showStart(page.previous === null);
      // Still room above (a tall screen): keep filling until it scrolls or history ends.
      if (!reachedStart && older.getBoundingClientRect().bottom > scroller.getBoundingClientRect().top) setTimeout(() => void loadOlder(), 0);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) ctx.setOffline(true);
    } finally {
      older.textContent = "Load earlier messages";
    }
  }

  peopleButton.addEventListener("click", () => {
    if (!detail) return;
    peopleDialog(detail, me, {
      changed: () => loadDetail().catch(() => {}),
      left: () => ctx.go(BASE),
    });
  });
  const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && timeline.bySeq.size > 0 && void loadOlder(), { root: scroller });
  observer.observe(older);
  const onVisible = () => scheduleRead();
  document.addEventListener("visibilitychange", onVisible);
  const unsubscribePresence = ctx.presence.subscribe(renderPresence);

  void (async () => {
    try {
      await loadDetail();
    } catch (error) {
      heading.textContent = "Conversation not found";
      state.textContent = error instanceof Error ? error.message : String(error);
      older.hidden = true;
      box.setEnabled(false);
      return;
    }
    const last = detail!.last_seq;
    // Resume a little before the end: the socket's replay then also refreshes the newest page's edits.
    timeline.streamSeq = Math.max(0, last - PAGE);
    socket.start();
    await loadOlder(last + 1);
    scroller.scrollTop = scroller.scrollHeight;
    if (matchMedia("(min-width: 720px)").matches) box.input.focus();
    else heading.focus();
  })();

  return {
    element,
    stop() {
      pacer.clear();
      socket.stop();
      observer.disconnect();
      document.removeEventListener("visibilitychange", onVisible);
      unsubscribePresence();
      window.clearTimeout(readTimer);
      window.clearTimeout(typingTimer);
    },
  };
}
