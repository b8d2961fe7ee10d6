// Shared by the account tests (deletion and data export): people with a real password and a cheap token,
// a conversation's whole history, many messages at once, and waiting for the `hey-accounts` queue.
import { vi } from "vitest";
import type { MessageResource } from "../../src/messages/schemas";
import type { DataExport } from "../../src/accounts/schemas";
import { json, send } from "./conversations";
import { api, signUp } from "./http";
import { inParallel } from "./streams";
import { streamMember } from "./ws";

/**
 * Retries `check` (assertions) until it passes, at most `timeout` ms: for what the `hey-accounts` queue and
 * the rooms' alarms do after a request answered. Fails with the last assertion's message.
 */
export const eventually = <T>(check: () => Promise<T> | T, timeout = 20_000) => vi.waitFor(check, { timeout, interval: 100 });

/** A signed-up user (a real password, for DELETE /api/users/me/) with a token made straight in D1. */
export async function person(overrides: Record<string, unknown> = {}) {
  const signed = await signUp(overrides);
  const { token, client } = await streamMember({ user: signed });
  return { user: signed, token, client, password: signed.password };
}

export const deleteMe = (who: { token: string }, body: unknown) => api("/api/users/me/", { method: "DELETE", token: who.token, json: body });
export const deleteUser = (staff: { token: string }, userId: number) => api(`/api/users/${userId}/`, { method: "DELETE", token: staff.token });

/** Every message of a conversation as `who` reads it, oldest first (pages of 100). */
export async function history(who: { token: string }, conversationId: number): Promise<MessageResource[]> {
  const all: MessageResource[] = [];
  for (let after = 0; ; ) {
    const res = await api(`/api/conversations/${conversationId}/messages/?after_seq=${after}&limit=100`, { token: who.token });
    if (res.status !== 200) throw new Error(`history of ${conversationId}: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { results: MessageResource[] };
    all.push(...page.results);
    if (page.results.length < 100) return all;
    after = page.results.at(-1)!.seq;
  }
}

/** Sends `count` messages `${prefix} 0` … as `who`, ten at a time; returns them by seq. */
export async function sendMany(who: { token: string }, conversationId: number, count: number, prefix: string): Promise<MessageResource[]> {
  const sent: MessageResource[] = [];
  await inParallel(count, 10, async (i) => sent.push(await send(who, conversationId, `${prefix} ${i}`)));
  return sent.sort((x, y) => x.seq - y.seq);
}

export const react = (who: { token: string }, conversationId: number, messageId: number, emoji: string) =>
  api(`/api/conversations/${conversationId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}/`, { method: "PUT", token: who.token });

/** GET (or POST) /api/users/me/export/: the status and the export. */
export async function exportOf(who: { token: string }, method: "GET" | "POST" = "GET") {
  const res = await api("/api/users/me/export/", { method, token: who.token });
  return { status: res.status, body: await json<DataExport>(res) };
}

/** Asks for the export until it is ready (200) and returns it. */
export async function readyExport(who: { token: string }, timeout = 20_000): Promise<DataExport> {
  return eventually(async () => {
    const { status, body } = await exportOf(who);
    if (status !== 200 || body.status !== "ready") throw new Error(`export still ${status} ${body.status}`);
    return body;
  }, timeout);
}
