import type { Database } from "../db/client";
import type { WebhookJob } from "../deliveries/jobs";
import { signatureHeader } from "./signing";
import { endpointById, failedForWindow, recordAttempt } from "./store";

const TIMEOUT_MS = 10_000;

/** Why a call failed, as the owner reads it in the attempts log. */
function failure(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `No answer within ${TIMEOUT_MS / 1000} s.`;
  return `The endpoint could not be reached: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * One attempt at a webhook job: signed now, posted with a timeout, logged. "done" once a 2xx came back, or
 * when there is nothing left to deliver to (the endpoint was deleted or disabled); otherwise "retry".
 * Redirects are not followed (a redirect is a failure): an endpoint can't bounce Hey to another address.
 */
export async function deliverWebhook(db: Database, job: WebhookJob, attempt: number, windowMs: number): Promise<"done" | "retry"> {
  const endpoint = await endpointById(db, job.endpoint);
  if (!endpoint || endpoint.disabledAt) return "done";
  const body = JSON.stringify(job.event);
  const t = Math.floor(Date.now() / 1000);
  const headers = {
    "Content-Type": "application/json",
    "User-Agent": "Hey-Webhooks/1",
    "Hey-Webhook-Id": job.event.id,
    "Hey-Attempt": String(attempt),
    "Hey-Signature": await signatureHeader(db, endpoint, t, body),
  };
  const started = Date.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(endpoint.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
    statusCode = response.status;
    await response.body?.cancel();
    if (statusCode < 200 || statusCode > 299) error = statusCode >= 300 && statusCode < 400 ? `Redirected (HTTP ${statusCode}); redirects are not followed.` : `HTTP ${statusCode}.`;
  } catch (caught) {
    error = failure(caught);
  }
  const ok = error === null;
  const logged = { deliveryId: job.event.id, eventType: job.event.type, attempt, statusCode, error, latencyMs: Date.now() - started, at: new Date() };
  await recordAttempt(db, endpoint.id, logged, ok, failedForWindow(logged, windowMs));
  return ok ? "done" : "retry";
}

/**
 * A job dead-lettered after the retry window: logged for its owner, and the endpoint disabled if it has not
 * answered once since the job's first attempt (failing since then, give or take the first retry's delay).
 */
export async function gaveUp(db: Database, job: WebhookJob, attempts: number, windowMs: number, firstRetryMs: number): Promise<void> {
  const endpoint = await endpointById(db, job.endpoint);
  if (!endpoint) return;
  const error = `Given up after ${attempts} attempts over the retry window.`;
  const logged = { deliveryId: job.event.id, eventType: job.event.type, attempt: attempts, statusCode: null, error, latencyMs: 0, at: new Date() };
  await recordAttempt(db, endpoint.id, logged, false, { ...failedForWindow(logged, windowMs), since: job.first_at + firstRetryMs });
}
