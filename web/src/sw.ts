// Hey's service worker (built to /app/sw.js, scope /app/): shows Web Push notifications and opens their
// conversation when one is clicked. No fetch handler: the app's requests never pass through it.

// The worker's globals, as far as this file uses them: the app is checked against the DOM lib, and
// lib.webworker would clash with it.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown } | null;
}
interface NotificationClickEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WindowClient {
  readonly url: string;
  readonly focused: boolean;
  focus(): Promise<WindowClient>;
  postMessage(message: unknown): void;
}
interface WorkerScope {
  readonly location: Location;
  readonly registration: ServiceWorkerRegistration;
  readonly clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<readonly WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "push", listener: (event: PushEvent) => void): void;
  addEventListener(type: "notificationclick", listener: (event: NotificationClickEvent) => void): void;
}
declare const self: WorkerScope;

/** The payload the server pushes (spec: title, body, tag, url, conversation_id, seq). */
type Payload = { title?: unknown; body?: unknown; tag?: unknown; url?: unknown };
/** What the app listens for (web/src/push.ts) to open a conversation without reloading. */
export type NavigateMessage = { type: "hey:navigate"; url: string };

const APP = "/app/";

/** A path inside the app, or the app's start: a payload never sends the user anywhere else. */
function appPath(url: unknown): string {
  if (typeof url !== "string") return APP;
  const target = new URL(url, self.location.origin);
  return target.origin === self.location.origin && target.pathname.startsWith(APP) ? target.pathname + target.search : APP;
}

function parse(event: PushEvent): Payload {
  try {
    return (event.data?.json() ?? {}) as Payload;
  } catch {
    return {};
  }
}

// A new version takes over at once, so a fixed notification handler does not wait for every tab to close.
self.addEventListener("install", (event) => event.waitUntil(self.skipWaiting()));

self.addEventListener("push", (event) => {
  const p = parse(event);
  const text = (value: unknown, fallback: string) => (typeof value === "string" && value ? value : fallback);
  // The subscription promised a visible notification for every push (userVisibleOnly), so even an
  // unreadable one shows something. One tag per conversation: a burst replaces, and does not buzz again.
  const options: NotificationOptions & { renotify: boolean } = {
    body: text(p.body, "New message"),
    tag: text(p.tag, "hey"),
    renotify: false,
    data: { url: appPath(p.url) },
  };
  event.waitUntil(self.registration.showNotification(text(p.title, "Hey"), options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = appPath((event.notification.data as { url?: unknown } | null)?.url);
  event.waitUntil(
    (async () => {
      const windows = (await self.clients.matchAll({ type: "window", includeUncontrolled: true })).filter((c) => new URL(c.url).pathname.startsWith(APP));
      const client = windows.find((c) => c.focused) ?? windows[0];
      if (!client) return void (await self.clients.openWindow(url));
      // The app routes on its own (no reload, no lost drafts); a tab opened before this worker existed
      // is not controlled by it, so it could not be navigated anyway.
      client.postMessage({ type: "hey:navigate", url } satisfies NavigateMessage);
      await client.focus();
    })(),
  );
});
