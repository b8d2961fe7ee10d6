// Hey's web client: boot, the signed-in shell, and client-side routes under /app/.
//   /app/           the chat list (and, on wide screens, an empty conversation pane)
//   /app/c/{id}     a conversation
//   /app/callback   the OAuth redirect URI
//   /app/moderation the reports and the moderation log (staff only)
import "./styles.css";
import { ApiError, deleteMe, me as fetchMe, user } from "./api";
import { completeSignIn, joinSignIn, onAuthChange, signedIn, signOut } from "./auth";
import { Blocks } from "./blocks";
import { el, nameOf } from "./dom";
import type { LiveSocket } from "./live-socket";
import { Presence } from "./presence";
import { disablePush, followNotificationClicks } from "./push";
import { BASE, type StreamEvent, type UserResource } from "./types";
import { userStream } from "./user-stream";
import { accountButton } from "./views/account-settings";
import { blockedPeopleButton } from "./views/blocking";
import { createChatList, type ChatList } from "./views/chat-list";
import { conversationView } from "./views/conversation";
import { MODERATION_PATH, moderationView } from "./views/moderation";
import { notificationsButton } from "./views/notification-settings";
import { presenceSetting } from "./views/presence-setting";
import { searchBox } from "./views/search";
import { welcomeView } from "./views/welcome";

const root = document.getElementById("app")!;

type Session = { me: UserResource; chatList: ChatList; presence: Presence; blocks: Blocks; stream: LiveSocket<StreamEvent>; pane: HTMLElement; layout: HTMLElement; banner: HTMLElement };
let session: Session | null = null;
let open: { id: number; chatsChanged(): void; stop(): void } | null = null;
const offline = { socket: false, stream: false };
/** While this tab signs out, the welcome screen waits until the Hey sign-in has ended too. */
let signingOut = false;

function showWelcome(notice?: string): void {
  endSession();
  document.title = "Hey";
  root.replaceChildren(welcomeView(notice));
}

/**
 * Signs this tab out and shows the welcome screen with `notice`. `first` runs before (deleting the account):
 * the tokens it ends are not taken for a sign-out from elsewhere meanwhile, and if it throws, the tab stays
 * signed in.
 */
async function leave(notice: string, first?: () => Promise<unknown>): Promise<void> {
  signingOut = true;
  try {
    await first?.();
  } catch (error) {
    signingOut = false;
    // It may have ended the sign-in all the same (its answer lost on the way back).
    if (!signedIn()) showWelcome("You have been signed out.");
    throw error;
  }
  // This browser stops ringing for the account first: whoever signs in next must not get its notifications.
  await disablePush().catch(() => {});
  // Signing in again before the sign-out reached the server would skip the password. The tokens may be
  // dead already (a deleted account's are): failing to revoke them is no reason to stay.
  await signOut()
    .catch(() => {})
    .finally(() => (signingOut = false));
  showWelcome(notice);
}

function endSession(): void {
  open?.stop();
  open = null;
  session?.stream.stop();
  session?.chatList.stop();
  session = null;
  offline.stream = false;
}

function renderOffline(): void {
  if (session) session.banner.hidden = navigator.onLine && !offline.socket && !offline.stream;
}

/** Client-side navigation within the app. */
export function go(path: string, replace = false): void {
  if (path !== location.pathname) history[replace ? "replaceState" : "pushState"](null, "", path);
  route();
}

function route(): void {
  if (!session) return;
  if (session.me.is_staff && location.pathname.replace(/\/$/, "") === MODERATION_PATH) return showModeration(session);
  const match = new RegExp(`^${BASE}c/(\\d+)/?$`).exec(location.pathname);
  const id = match ? Number(match[1]) : null;
  if (id === null && location.pathname !== BASE) return go(BASE, true);
  session.chatList.setActive(id);
  session.layout.classList.toggle("show-conversation", id !== null);
  if (open?.id === id) return;
  open?.stop();
  open = null;
  offline.socket = false;
  renderOffline();
  if (id === null) {
    document.title = "Hey";
    session.pane.replaceChildren(el("p", { class: "placeholder" }, "Choose a conversation, or start one with someone's email."));
    return;
  }
  const view = conversationView(id, {
    me: session.me,
    presence: session.presence,
    blocks: session.blocks,
    go,
    setOffline: (value) => {
      offline.socket = value;
      renderOffline();
    },
    mutedUntil: () => session?.chatList.mutedUntil(id) ?? null,
    setMuted: (until) => session?.chatList.setMuted(id, until),
  });
  open = { id, chatsChanged: view.chatsChanged, stop: view.stop };
  session.pane.replaceChildren(view.element);
}

function showModeration(current: Session): void {
  open?.stop();
  open = null;
  offline.socket = false;
  renderOffline();
  current.chatList.setActive(null);
  // On a phone the page takes the screen, as a conversation does.
  current.layout.classList.add("show-conversation");
  current.pane.replaceChildren(moderationView(current.me));
}

async function startSession(): Promise<void> {
  let me: UserResource;
  try {
    me = await fetchMe();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showWelcome("Your session has ended. Sign in again.");
    root.replaceChildren(el("main", { class: "welcome" }, el("h1", {}, "Hey"), el("p", { role: "alert" }, "Hey cannot be reached. "), el("button", { type: "button", onclick: () => location.reload() }, "Try again")));
    return;
  }
  const presence = new Presence(me.id, user);
  // Read once per session; the app's own blocks and unblocks keep it current.
  const blocks = new Blocks();
  void blocks.load();
  const chatList = createChatList(me.id, go, presence, blocks);
  const stream = userStream({
    onEvent(event) {
      presence.apply(event);
      chatList.apply(event);
      open?.chatsChanged();
    },
    onState(state, detail) {
      offline.stream = state === "offline";
      chatList.setNotice(state === "gone" ? (detail ?? "") : "");
      renderOffline();
    },
  });
  const pane = el("main", { class: "pane", id: "main", tabindex: -1 });
  const search = searchBox({ me: me.id, conversation: chatList.conversation, showing: (searching) => (chatList.element.hidden = searching) });
  const layout = el("div", { class: "layout" }, el("nav", { class: "sidebar", "aria-label": "Chats" }, search, chatList.element), pane);
  const banner = el("p", { class: "offline-banner", role: "status", hidden: true }, "You are offline. Hey will reconnect and send your messages when it can.");
  const signOutButton = el("button", { type: "button", class: "sign-out" }, "Sign out");
  signOutButton.addEventListener("click", () => {
    signOutButton.disabled = true;
    void leave("You have signed out.");
  });
  const account = accountButton((password) => leave("Your account was deleted.", () => deleteMe(password)));
  root.replaceChildren(
    el("a", { href: "#main", class: "skip-link" }, "Skip to conversation"),
    el("header", { class: "topbar" }, el("h1", {}, "Hey"), el("span", { class: "who" }, nameOf(me)), presenceSetting(me), notificationsButton(me), blockedPeopleButton(blocks), account, me.is_staff ? el("a", { href: MODERATION_PATH, class: "moderation-link" }, "Moderation") : null, signOutButton),
    banner,
    layout,
  );
  session = { me, chatList, presence, blocks, stream, pane, layout, banner };
  stream.start();
  route();
}

// Links inside the app navigate without reloading it.
root.addEventListener("click", (event) => {
  const link = (event.target as Element).closest<HTMLAnchorElement>("a[href]");
  if (!link || link.origin !== location.origin || !link.pathname.startsWith(BASE) || link.hash) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
  event.preventDefault();
  go(link.pathname);
});
window.addEventListener("popstate", route);
followNotificationClicks(go);
window.addEventListener("online", renderOffline);
window.addEventListener("offline", renderOffline);
onAuthChange(() => {
  // Signed out elsewhere (another tab of this sign-in) or the grant was revoked.
  if (!signedIn() && session && !signingOut) showWelcome("You have been signed out.");
});

async function boot(): Promise<void> {
  const url = new URL(location.href);
  if (url.pathname.startsWith(`${BASE}callback`)) {
    try {
      go(await completeSignIn(url), true);
    } catch (error) {
      history.replaceState(null, "", BASE);
      // A reload of the callback page after signing in: nothing went wrong.
      if (!signedIn()) return showWelcome(error instanceof Error ? error.message : String(error));
    }
  }
  await joinSignIn();
  if (!signedIn()) return showWelcome();
  await startSession();
}

void boot();
