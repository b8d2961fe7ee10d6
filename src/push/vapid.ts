import { buildPushPayload } from "@block65/webcrypto-web-push";
import { config } from "../config";
import type { Notification } from "./notification";

/** The server's VAPID keys (RFC 8292), or null when push is not configured. */
export function vapidKeys(env: object) {
  const c = config(env);
  if (!c.VAPID_PUBLIC_KEY || !c.VAPID_PRIVATE_KEY) return null;
  return { publicKey: c.VAPID_PUBLIC_KEY, privateKey: c.VAPID_PRIVATE_KEY, subject: c.VAPID_SUBJECT ?? c.APP_ORIGIN ?? "mailto:webmaster@localhost" };
}

/** A day: a notification still undelivered by then is stale. */
const TTL_SECONDS = 86_400;

/**
 * The push service request for a notification (RFC 8291 aes128gcm, padded to a constant size, VAPID-signed).
 * The library signs only https endpoints; a loopback http one (allowed while Hey runs locally) is signed as
 * its https twin, the only difference the push service stand-in sees.
 */
export async function pushRequest(keys: NonNullable<ReturnType<typeof vapidKeys>>, subscription: { endpoint: string; p256dh: string; auth: string }, notification: Notification) {
  const { urgent, ...payload } = notification;
  const endpoint = subscription.endpoint.replace(/^http:/, "https:");
  return buildPushPayload(
    { data: payload, options: { ttl: TTL_SECONDS, topic: `c${notification.conversation_id}`, urgency: urgent ? "high" : "normal" } },
    { endpoint, expirationTime: null, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
    keys,
  );
}
