// The test side of the loopback receiver (test/support/receiver-setup.ts): a fresh path per endpoint,
// queued answers, polling what arrived, and checking webhook signatures with WebCrypto.
import { inject } from "vitest";

/** A request the receiver got, its body as bytes and as text. */
export type Received = { seq: number; at: number; method: string; path: string; query: string; headers: Record<string, string>; bytes: Uint8Array; text: string };

type Recorded = Omit<Received, "bytes" | "text"> & { body: string };

const origin = () => inject("receiverOrigin");

const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** A path of its own under `/hooks/` or `/push/`, and its full URL on the receiver. */
export function receiverPath(kind: "hooks" | "push") {
  const path = `/${kind}/${crypto.randomUUID()}`;
  return { path, url: `${origin()}${path}` };
}

/** Queues the receiver's next answers to `path` (then the default: 200, or 201 under /push/). */
export async function answerWith(path: string, statuses: number[]): Promise<void> {
  const res = await fetch(`${origin()}/_control`, { method: "POST", body: JSON.stringify({ path, statuses }) });
  if (res.status !== 204) throw new Error(`receiver control failed: ${res.status}`);
}

/** Every request to `path` so far, oldest first. */
export async function received(path: string): Promise<Received[]> {
  const res = await fetch(`${origin()}/_log?path=${encodeURIComponent(path)}`);
  if (res.status !== 200) throw new Error(`receiver log failed: ${res.status}`);
  const rows = (await res.json()) as Recorded[];
  return rows.map(({ body, ...r }) => {
    const bytes = fromBase64(body);
    return { ...r, bytes, text: new TextDecoder().decode(bytes) };
  });
}

/** Forgets what `path` received and any answers still queued for it. */
export async function resetReceiver(path: string): Promise<void> {
  await fetch(`${origin()}/_reset`, { method: "POST", body: JSON.stringify({ path }) });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `path` received `count` requests matching `predicate` (every request by default) and returns
 * those, oldest first; fails after `timeoutMs` saying what did arrive. Queue deliveries take about a second.
 */
export async function waitForMany(path: string, count: number, predicate: (r: Received) => boolean = () => true, timeoutMs = 15_000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await received(path);
    const matching = all.filter(predicate);
    if (matching.length >= count) return matching;
    if (Date.now() > deadline) {
      throw new Error(`expected ${count} matching requests at ${path} within ${timeoutMs} ms, got ${matching.length} of ${all.length}: ${all.map((r) => r.text.slice(0, 200)).join(" | ")}`);
    }
    await sleep(100);
  }
}

/** Polls until `path` received a request matching `predicate`, and returns the first such. */
export async function waitFor(path: string, predicate: (r: Received) => boolean = () => true, timeoutMs = 15_000): Promise<Received> {
  return (await waitForMany(path, 1, predicate, timeoutMs))[0]!;
}

/** A webhook body as Hey sends it. */
export type WebhookBody = { id: string; type: string; created_at: string; conversation_id: number | null; seq: number | null; data: Record<string, any> };

export const bodyOf = (r: Received) => JSON.parse(r.text) as WebhookBody;

/** Waits for the webhook event of `type` at `path` (matching `also`), and returns its request and body. */
export async function waitForEvent(path: string, type: string, also: (body: WebhookBody) => boolean = () => true, timeoutMs?: number) {
  const request = await waitFor(path, (r) => bodyOf(r).type === type && also(bodyOf(r)), timeoutMs);
  return { request, body: bodyOf(request) };
}

/** The parts of a `Hey-Signature` header: `t` and every `v1`. */
export function signatureParts(header: string | undefined): { t: number; v1: string[] } {
  const parts = (header ?? "").split(",").map((p) => p.trim());
  const t = parts.find((p) => p.startsWith("t="));
  return { t: t ? Number(t.slice(2)) : NaN, v1: parts.filter((p) => p.startsWith("v1=")).map((p) => p.slice(3)) };
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** HMAC-SHA256 of `<t>.<raw body>` keyed with the whole secret string, in lower-case hex: what a receiver computes. */
export async function expectedSignature(secret: string, t: number, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const prefix = new TextEncoder().encode(`${t}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  return hex(await crypto.subtle.sign("HMAC", key, signed));
}

/** Whether one of the request's `v1=` signatures is `secret`'s over its raw body, as a receiver checks it. */
export async function signedWith(request: Received, secret: string): Promise<boolean> {
  const { t, v1 } = signatureParts(request.headers["hey-signature"]);
  return Number.isFinite(t) && v1.includes(await expectedSignature(secret, t, request.bytes));
}
