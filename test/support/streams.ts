// Shared by the user stream's test files.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { api, ORIGIN } from "./http";
import type { Stream } from "./ws";

export type Member = { token: string; user: { id: number }; client: { clientId: string } };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const hubOf = (userId: number) => env.USER_HUB.getByName(`user:${userId}`);

/** The events of a stream that carry a number (everything but ready, resync and error). */
export const numbered = (s: Stream) => s.events.filter((e) => typeof e.event_seq === "number" && e.type !== "ready" && e.type !== "resync");
/** The highest event_seq a stream has seen (its ready's, or its last event's). */
export const lastSeen = (s: Stream) => Math.max(...s.events.filter((e) => typeof e.event_seq === "number").map((e) => e.event_seq as number));
export const created = (s: Stream, body: string) => s.next((e) => e.type === "message.created" && e.message.preview === body);

/** What the user's hub keeps: its numbered log in its own SQLite storage (no tables: it was never used). */
export function logOf(userId: number) {
  return runInDurableObject(hubOf(userId), (_hub, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('meta', 'events')").one().n;
    if (tables === 0) return { lastSeq: 0, online: false, events: 0 };
    const meta = sql.exec<{ last_seq: number; online: number }>("SELECT last_seq, online FROM meta").one();
    const { n } = sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one();
    return { lastSeq: meta.last_seq, online: meta.online === 1, events: n };
  });
}

export const rename = (who: Member, id: number, title: string | null) => api(`/api/conversations/${id}/`, { method: "PATCH", token: who.token, json: { title } });
export const addTo = (who: Member, id: number, userId: number) => api(`/api/conversations/${id}/participants/`, { method: "POST", token: who.token, json: { user_id: userId } });
export const removeFrom = (who: Member, id: number, userId: number) => api(`/api/conversations/${id}/participants/${userId}/`, { method: "DELETE", token: who.token });
export const edit = (who: Member, id: number, messageId: number, body: string) => api(`/api/conversations/${id}/messages/${messageId}/`, { method: "PATCH", token: who.token, json: { message_body: body } });
export const unsend = (who: Member, id: number, messageId: number) => api(`/api/conversations/${id}/messages/${messageId}/`, { method: "DELETE", token: who.token });
export const readUpTo = (who: Member, id: number, seq: number) => api(`/api/conversations/${id}/receipts/`, { method: "POST", token: who.token, json: { read_up_to: seq } });

export async function ticketOf(who: { token: string }): Promise<string> {
  const res = await api("/api/events/tickets/", { method: "POST", token: who.token });
  expect(res.status).toBe(201);
  return ((await res.json()) as { ticket: string }).ticket;
}

export async function revoke(who: Member) {
  const res = await SELF.fetch(`${ORIGIN}/o/revoke_token/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: who.token, client_id: who.client.clientId }).toString(),
  });
  expect(res.status).toBe(200);
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

/** Runs `task(0)` … `task(count - 1)`, `width` at a time. */
export async function inParallel(count: number, width: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

