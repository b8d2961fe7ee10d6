import type { Database } from "../db/client";
import type { PushJob } from "../deliveries/jobs";
import { forgetSubscription, subscriptionById } from "./subscriptions";
import { pushRequest, vapidKeys } from "./vapid";

const TIMEOUT_MS = 10_000;

/**
 * Sends one notification to its browser's push service. 404/410 mean the subscription is gone (the user
 * revoked permission, or the browser dropped it): it is deleted. 429 and 5xx, or no answer, are retried;
 * any other answer would fail the same way again, so it is logged and dropped.
 */
export async function deliverPush(env: object, db: Database, job: PushJob): Promise<"done" | "retry"> {
  const keys = vapidKeys(env);
  const subscription = keys && (await subscriptionById(db, job.subscription));
  if (!keys || !subscription) return "done";
  const request = await pushRequest(keys, subscription, job.notification);
  let status: number;
  try {
    const response = await fetch(subscription.endpoint, { ...request, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
    status = response.status;
    await response.body?.cancel();
  } catch (error) {
    console.error("push service unreachable", error);
    return "retry";
  }
  if (status === 404 || status === 410) await forgetSubscription(db, subscription.id);
  else if (status === 429 || status >= 500) return "retry";
  else if (status < 200 || status > 299) console.error(`push service refused a notification: HTTP ${status}`);
  return "done";
}
