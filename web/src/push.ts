// Web Push for this browser: whether it can and does receive Hey's notifications, and turning them on
// and off. Nothing here asks the user anything until enablePush(), which runs from a click.
import { api, ApiError } from "./api";
import type { NavigateMessage } from "./sw";
import { BASE, type PushSubscriptionResource } from "./types";

export type PushState =
  | "unsupported" // no service workers or Push API here (or not a secure context)
  | "blocked" // the user (or the browser) said no: only the site settings can undo it
  | "unconfigured" // the server has no VAPID keys (503)
  | "off"
  | "on";

/** Why turning notifications on or off did not work, in words for the user. */
export class PushError extends Error {
  constructor(
    readonly state: PushState,
    message: string,
  ) {
    super(message);
  }
}

const supported = () => window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

/** The server's VAPID public key, or null when it has none. */
async function serverKey(): Promise<string | null> {
  try {
    return (await api<{ public_key: string }>("/api/push/key/", { auth: false })).public_key;
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) return null;
    throw error;
  }
}

/** This browser's subscription, if it has one (registers nothing). */
async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration(BASE);
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** Where this browser stands now. */
export async function pushState(): Promise<PushState> {
  if (!supported()) return "unsupported";
  if (Notification.permission === "denied") return "blocked";
  if (Notification.permission === "granted" && (await currentSubscription())) return "on";
  return (await serverKey()) === null ? "unconfigured" : "off";
}

/** base64url (the key's form on the wire) to bytes: not every browser takes the string itself. */
function bytesOf(base64url: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Asks for permission, subscribes this browser and registers the subscription with Hey. Throws PushError. */
export async function enablePush(): Promise<void> {
  if (!supported()) throw new PushError("unsupported", "This browser cannot receive push notifications.");
  // Asked first, while the click still counts as the user's own gesture (browsers ignore requests without one).
  const permission = await Notification.requestPermission();
  if (permission === "denied") throw new PushError("blocked", "Notifications are blocked for Hey in this browser. Allow them in the site settings, then try again.");
  if (permission !== "granted") throw new PushError("off", "Notifications stay off: the browser's question was closed without an answer.");
  let registration: ServiceWorkerRegistration;
  try {
    await navigator.serviceWorker.register(`${BASE}sw.js`, { scope: BASE });
    // Subscribing needs an active worker, which a first registration does not have yet.
    registration = await navigator.serviceWorker.ready;
  } catch (error) {
    throw new PushError("off", `The browser could not start Hey's service worker: ${reason(error)}`);
  }
  let key: string | null;
  try {
    key = await serverKey();
  } catch (error) {
    throw new PushError("off", `Notifications could not be turned on: ${reason(error)}`);
  }
  if (key === null) throw new PushError("unconfigured", "This Hey server has no push notifications set up.");
  let subscription: PushSubscription;
  try {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytesOf(key) });
  } catch (error) {
    throw new PushError("off", `The browser's push service refused to subscribe: ${reason(error)}`);
  }
  try {
    await api<PushSubscriptionResource>("/api/push/subscriptions/", { method: "POST", body: subscription.toJSON() });
  } catch (error) {
    // A subscription Hey does not know of would look "on" here and never ring.
    await subscription.unsubscribe().catch(() => {});
    throw new PushError("off", `Hey did not take the subscription: ${reason(error)}`);
  }
}

/** Unsubscribes this browser and tells Hey to forget the subscription. Throws PushError. */
export async function disablePush(): Promise<void> {
  if (!supported()) return;
  const subscription = await currentSubscription();
  if (!subscription) return;
  // The browser first: once its endpoint is gone the push service answers 410, and Hey drops the
  // subscription by itself even if the DELETE below never arrives.
  await subscription.unsubscribe();
  try {
    const mine = (await api<{ results: PushSubscriptionResource[] }>("/api/push/subscriptions/")).results.find((s) => s.endpoint === subscription.endpoint);
    if (mine) await api<null>(`/api/push/subscriptions/${mine.id}/`, { method: "DELETE" });
  } catch (error) {
    throw new PushError("off", `Notifications are off in this browser, but Hey could not be told: ${reason(error)}`);
  }
}

/** Opens what a clicked notification points to (the service worker asks; `go` routes in the app). */
export function followNotificationClicks(go: (path: string) => void): void {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event: MessageEvent<NavigateMessage | null>) => {
    if (event.data?.type === "hey:navigate" && event.data.url.startsWith(BASE)) go(event.data.url);
  });
  navigator.serviceWorker.startMessages();
}
