import { SELF } from "cloudflare:test";
import { hc } from "hono/client";
import { expect, it } from "vitest";
import type { AppType } from "../src/app";
import { login } from "./support/oauth";

const client = hc<AppType>("http://hey.test", { fetch: (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init) });

it("probe", async () => {
  const a = await login();
  const headers = { Authorization: `Bearer ${a.token}` };
  const conv = await client.api.conversations.index.$post({ json: { participants: [] } }, { headers });
  const c = await conv.json();
  type T = typeof c;
  const res = await client.api.conversations[":id"].messages.index.$post({ param: { id: "1" }, json: { message_body: "hi" }, header: {} }, { headers });
  if (res.status === 201) {
    const m = await res.json();
    const s: number = m.seq;
    console.log(s, m);
  }
  const list = await client.api.conversations[":id"].messages.index.$get({ param: { id: "1" }, query: {} }, { headers });
  if (list.status === 200) { const p = await list.json(); console.log(p.results[0]?.message_body); }
  expect(1).toBe(1);
});
