// A conversation: messages in seq order with history loaded backwards as you scroll up, a composer
// that sends over the WebSocket (pending until the ack), ticks, typing, edits and deletes, replies and
// their threads, reactions, mentions and pins, attachments (uploaded first, then named in the send),
// muting its notifications, disappearing messages (the owner's setting), and placeholders for the messages
// of people the user blocked.
import { conversation as fetchConversation, deleteMessage, editMessage, pin, react } from "../api";
import type { BlockChange, Blocks } from "../blocks";
import { el, nameOf } from "../dom";
import { conversationSocket } from "../conversation-socket";
import type { SocketState } from "../live-socket";
import { quoteOf, ReplyCounts, withReaction } from "../message-changes";
import { Pacer } from "../pacer";
import type { Presence } from "../presence";
import { sendFrame, Timeline, type PendingSend } from "../timeline";
import { BASE, type ConversationResource, type MessageResource, type ServerEvent, type UserResource } from "../types";
import { uploadAttachment } from "../upload";
import { dropZone } from "./attachment-tray";
import { titleOf } from "./chat-list";
import { composer } from "./composer";
import { disappearingControl, ttlChangeText } from "./disappearing";
import { messageItem, pendingItem, setStatus, type ItemOptions } from "./message-item";
import { MessageLog, PAGE } from "./message-log";
import { muteControl } from "./mute";
import type { Names } from "./message-text";
import { peopleDialog } from "./people";
import { pinsPanel } from "./pins";
import { partnerOf, presenceDot, showPresence } from "./presence-dot";
import { PanelSlot } from "./side-panel";
import { threadPanel } from "./thread";
import { typingLine } from "./typing-line";

/** A screen with room for the chat list beside the conversation (and the keyboard not in the way). */
const wide = () => matchMedia("(min-width: 720px)").matches;

export type ConversationContext = {
  me: UserResource;
  presence: Presence;
  /** The people the user blocked. */
  blocks: Blocks;
  go(path: string): void;
  setOffline(offline: boolean): void;
  /** The user's mute of this conversation as the chat list holds it (an ISO time, maybe past), or null. */
  mutedUntil(): string | null;
  /** The user muted or unmuted it here. */
  setMuted(until: string | null): void;
};

export function conversationView(id: number, ctx: ConversationContext): { element: HTMLElement; chatsChanged(): void; stop(): void } {
  const me = ctx.me.id;
  const timeline = new Timeline(me);
  let detail: ConversationResource | null = null;
  /** Bumped whenever a copy of the conversation is taken, so a fetch overtaken by a newer copy is dropped. */
  let detailVersion = 0;
  /** Whether the socket was ready before: a later `ready` is a reconnect, which replays messages only. */
  let wasReady = false;
  let lastChange: number | null = null;
  let sentRead = 0;
  let readTimer: number | undefined;
  const pacer = new Pacer();
  const replyCounts = new ReplyCounts();
  /** Everyone who wrote here, so a mention of someone who has left still shows their name. */
  const senders = new Map<number, MessageResource["sender"]>();
  const names: Names = (user) => detail?.participants.find((p) => p.id === user) ?? senders.get(user);

  const heading = el("h2", { class: "conversation-title", tabindex: -1 }, "Loading…");
  const state = el("p", { class: "conversation-state", role: "status" });
  const dot = presenceDot();
  const renderPresence = () => showPresence(dot, ctx.presence, detail && partnerOf(detail, me));
  /** In a two-person conversation, whether the user blocked the other person. */
  const blockedMark = el("span", { class: "blocked-mark", hidden: true }, "Blocked");
  const renderBlockedMark = () => {
    const partner = detail && partnerOf(detail, me);
    blockedMark.hidden = !partner || !ctx.blocks.has(partner);
  };
  const peopleButton = el("button", { type: "button", class: "people-button", disabled: true }, "People");
  const pinsButton = el("button", { type: "button", class: "pins-button", disabled: true }, "Pins");
  const mute = muteControl(id, {
    until: ctx.mutedUntil,
    set: ctx.setMuted,
    failed: (message) => (state.textContent = message),
  });
  const disappearing = disappearingControl(id, {
    saved: (conversation) => takeDetail(conversation),
    failed: (message) => (state.textContent = message),
  });
  const header = el(
    "header",
    { class: "conversation-header" },
    el("a", { href: BASE, class: "back", "aria-label": "Back to chats" }, "‹ Chats"),
    el("div", {}, el("div", { class: "title-row" }, heading, dot, blockedMark), el("div", { class: "subtitle-row" }, state, disappearing.mark)),
    mute.element,
    disappearing.element,
    pinsButton,
    peopleButton,
  );

  const log = new MessageLog(id, timeline, { show: (m) => shown(timeline.take(m, 0)), offline: () => ctx.setOffline(true) });
  const typing = typingLine((user) => {
    const person = names(user);
    return person ? nameOf(person) : "Someone";
  });
  const panel = new PanelSlot();
  const box = composer({
    send(body, replyTo, attachments) {
      const send = timeline.addPending(body, replyTo, attachments);
      renderPending();
      log.toBottom();
      sendPending(send);
    },
    upload: (file, progress) => uploadAttachment(id, file, progress),
    typing: () => socket.send({ type: "typing" }),
    people: () => detail?.participants.filter((p) => p.id !== me) ?? [],
    names,
  });
  const main = el("div", { class: "conversation-main" }, log.element, typing.element, box.element);
  dropZone(main, box.addFiles);
  const element = el("section", { class: "conversation", "aria-labelledby": "conversation-title" }, header, el("div", { class: "conversation-body" }, main, panel.element));
  heading.id = "conversation-title";

  function options(m: MessageResource): ItemOptions {
    return {
      me,
      mine: m.sender.id === me,
      showAuthor: (detail?.participants.length ?? 2) > 2,
      canDelete: m.sender.id === me || detail?.owner === me,
      names,
      blockedUser: (user) => ctx.blocks.has(user),
      onEdit: async (message, body) => apply(await editMessage(id, message.id, body)),
      onDelete: async (message) => {
        await deleteMessage(id, message.id);
        apply({ ...message, deleted: true, deleted_by: message.sender.id === me ? "sender" : "owner", message_body: "" });
      },
      onReply: replyTo,
      onThread: (message) => panel.open(threadPanel(id, message, { names, me, close: closePanel, reply: replyInThread })),
      onReact: async (message, emoji, on) => apply(await react(id, message.id, emoji, on)),
      onPin: setPinned,
    };
  }

  function replyTo(message: MessageResource): void {
    box.replyTo(quoteOf(message));
    box.input.focus();
  }

  /** On a phone the panel covers the box: it closes so the reply can be written. */
  function replyInThread(message: MessageResource): void {
    if (!wide()) panel.close();
    replyTo(message);
  }

  async function setPinned(message: MessageResource, on: boolean): Promise<void> {
    apply(await pin(id, message.id, on));
  }

  function closePanel(): void {
    panel.close();
    (wide() ? box.input : heading).focus();
  }

  /** Takes a copy of a message from the socket or an answer of the API. */
  function apply(m: MessageResource): void {
    const changed = timeline.take(m, replyCounts.delta(timeline.bySeq.get(m.seq), m));
    log.keepingBottom(() => {
      shown(changed);
      renderPending();
    });
    // Someone else's message moved their watermarks past it, and maybe past some of mine.
    if (m.sender.id !== me) refreshTicks();
  }

  /** Shows messages that changed, in the log and in the open panel. */
  function shown(changed: MessageResource[]): void {
    for (const m of changed) {
      senders.set(m.sender.id, m.sender);
      log.put(m.seq, messageItem(m, timeline.statusOf(m), options(m)));
      panel.apply(m);
    }
  }

  function renderPending(): void {
    log.pendingList.replaceChildren(...[...timeline.pending.values()].map((send) => pendingItem(send, names, retry)));
  }

  function refreshTicks(): void {
    for (const [seq, item] of log.items) {
      const m = timeline.bySeq.get(seq)!;
      if (m.sender.id === me) setStatus(item, timeline.statusOf(m));
    }
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
    const frame = sendFrame(send);
    pacer.push(() => !timeline.pending.has(send.cid) || socket.send(frame));
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
        typing.stopped(event.message.sender.id);
        apply(event.message);
        return scheduleRead();
      case "message.updated":
      case "message.deleted":
      case "message.pinned":
      case "message.unpinned":
      case "ack":
        return apply(event.message);
      case "reaction.added":
      case "reaction.removed": {
        const known = timeline.bySeq.get(event.seq);
        if (known?.id === event.message_id) log.keepingBottom(() => shown(timeline.take(withReaction(known, event, me), 0)));
        return;
      }
      case "status":
        timeline.setProgress(event);
        return refreshTicks();
      case "typing":
        if (event.user !== me && !ctx.blocks.has(event.user)) typing.typing(event.user, event.until);
        return;
      case "ready":
        // Changes to the conversation are not replayed: one made while this socket was away is fetched.
        if (wasReady) void loadDetail().catch(() => {});
        wasReady = true;
        replyCounts.live();
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
        return void log.restart(event.last_seq);
      case "conversation.updated":
        return takeDetail(event.conversation);
      case "participant.added":
      case "participant.removed":
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
    if (next === "connecting") replyCounts.connecting();
    ctx.setOffline(next === "offline");
    state.textContent = { connecting: "Connecting…", live: participantsLine(), offline: "Offline — reconnecting…", gone: message ?? "" }[next];
    if (next === "gone") {
      log.end();
      box.setEnabled(false);
      peopleButton.disabled = true;
      pinsButton.disabled = true;
      ctx.setOffline(false);
    }
  }

  const participantsLine = () => (detail ? (detail.participants.length === 1 ? "Just you" : `${detail.participants.length} people`) : "");

  const socket = conversationSocket(id, { resumeFrom: () => ({ afterSeq: timeline.streamSeq, afterChange: lastChange }), onEvent, onState });

  async function loadDetail(): Promise<void> {
    const version = ++detailVersion;
    const fetched = await fetchConversation(id);
    if (version === detailVersion) takeDetail(fetched);
  }

  /** Shows a copy of the conversation (fetched, from the socket, or the answer to a change). */
  function takeDetail(next: ConversationResource): void {
    detailVersion++;
    const before = detail?.message_ttl_seconds;
    detail = next;
    if (before !== undefined && before !== next.message_ttl_seconds) noteTtlChange(next.message_ttl_seconds);
    disappearing.render(next, me);
    heading.textContent = titleOf(detail, me);
    document.title = `${heading.textContent} · Hey`;
    renderPresence();
    renderBlockedMark();
    peopleButton.disabled = false;
    pinsButton.disabled = false;
    if (socket.live) state.textContent = participantsLine();
  }

  /**
   * A line in the timeline where the change became known here, after the newest message then. It is not a
   * message, and the API keeps no record of it: it is gone after a reload (the header still shows the setting).
   */
  function noteTtlChange(seconds: number | null): void {
    const after = Math.max(timeline.streamSeq, timeline.newestSeq());
    log.keepingBottom(() => log.note(after, el("li", { class: "system-line" }, ttlChangeText(seconds))));
  }

  peopleButton.addEventListener("click", () => {
    if (!detail) return;
    peopleDialog(detail, me, ctx.blocks, {
      changed: () => loadDetail().catch(() => {}),
      left: () => ctx.go(BASE),
    });
  });
  pinsButton.addEventListener("click", () => panel.open(pinsPanel(id, { names, me, close: closePanel, unpin: (m) => setPinned(m, false) })));
  const onVisible = () => scheduleRead();
  document.addEventListener("visibilitychange", onVisible);
  const unsubscribePresence = ctx.presence.subscribe(renderPresence);
  const unsubscribeBlocks = ctx.blocks.subscribe(blocksChanged);

  /**
   * Someone was blocked, or the list loaded: their messages and quotes here become placeholders at once. An
   * unblock needs what the server held back: the newest page loads again (older ones as the reader scrolls).
   */
  function blocksChanged(change: BlockChange): void {
    renderBlockedMark();
    if (change) typing.stopped(change.user);
    const about = (user: number | undefined) => user !== undefined && user !== me && (change ? user === change.user : ctx.blocks.has(user));
    const concerns = (m: MessageResource) => about(m.sender.id) || about(m.reply_to?.sender.id);
    if (change && !change.blocked) {
      if ([...timeline.bySeq.values()].some(concerns)) void log.restart(Math.max(timeline.streamSeq, timeline.newestSeq()));
      return;
    }
    log.keepingBottom(() => {
      for (const [seq] of log.items) {
        const m = timeline.bySeq.get(seq);
        if (m && concerns(m)) log.put(seq, messageItem(m, timeline.statusOf(m), options(m)));
      }
    });
  }

  void (async () => {
    try {
      await loadDetail();
    } catch (error) {
      heading.textContent = "Conversation not found";
      state.textContent = error instanceof Error ? error.message : String(error);
      log.end();
      box.setEnabled(false);
      return;
    }
    const last = detail!.last_seq;
    // Resume a little before the end: the socket's replay then also refreshes the newest page's edits.
    timeline.streamSeq = Math.max(0, last - PAGE);
    socket.start();
    await log.load(last + 1);
    log.toBottom();
    (wide() ? box.input : heading).focus();
  })();

  return {
    element,
    // The chat list may learn of the mute after the header was drawn (its snapshot comes over the stream).
    chatsChanged: mute.render,
    stop() {
      pacer.clear();
      box.stop();
      socket.stop();
      log.stop();
      typing.stop();
      document.removeEventListener("visibilitychange", onVisible);
      unsubscribePresence();
      unsubscribeBlocks();
      window.clearTimeout(readTimer);
    },
  };
}
