import { expect, it } from "vitest";
import { api } from "./support/http";
import { login } from "./support/oauth";

it("three users sending 200 messages concurrently get seq 1..200", async () => {
  const a = await login();
  const b = await login();
  const c = await login();
  const res = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id, c.user.id], title: "t" } });
  expect(res.status).toBe(201);
  const conv = (await res.json()) as { id: number };
  const tokens = [a.token, b.token, c.token];
  const sends = await Promise.all(
    Array.from({ length: 200 }, (_, i) => api(`/api/conversations/${conv.id}/messages/`, { method: "POST", token: tokens[i % 3], json: { message_body: `m${i}` } })),
  );
  const statuses = sends.map((r) => r.status);
  expect(new Set(statuses)).toEqual(new Set([201]));
  const seqs = (await Promise.all(sends.map((r) => r.json() as Promise<{ seq: number }>))).map((m) => m.seq).sort((x, y) => x - y);
  expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  const chats = await (await api("/api/chats/", { token: b.token })).json();
  console.log(JSON.stringify(chats).slice(0, 600));
  const page = await (await api(`/api/conversations/${conv.id}/messages/?page=2&page_size=5`, { token: c.token })).json();
  console.log(JSON.stringify(page).slice(0, 400));
});
