import { afterAll, beforeAll, expect, it } from "vitest";
import { startDevServer, UNLIMITED, type DevServer } from "../../scripts/dev-server";
import { allMessages, observe, range, world, type World } from "./support";

let server: DevServer;
let w: World;

beforeAll(async () => {
  server = await startDevServer({ vars: UNLIMITED });
  w = await world(server, 20);
});
afterAll(async () => {
  if (process.env.E2E_SERVER_LOG) (await import("node:fs")).writeFileSync("/tmp/e2e-server.log", server?.log() ?? "");
  await server?.kill();
});

it("stores 2,000 sends from 20 clients with random retries exactly once, as seqs 1..2000, seen in order by every socket", async () => {
  const observers = [0, 7, 19].map((i) => observe(server.url, w.conversationId, w.users[i]!.token, 0));
  await Promise.all(observers.map((o) => o.ready));
  const acked = new Map<string, number>();
  const conflicts: string[] = [];
  await Promise.all(
    w.users.map(async (user, u) => {
      for (let n = 0; n < 100; n++) {
        const key = `u${u}-m${n}`;
        // As a real client does, a send whose answer never came (a 503 from wrangler's proxy, a dropped
        // connection) is sent again with the same key; only answered sends count as acknowledged.
        const send = async () => {
          for (let attempt = 0; ; attempt++) {
            try {
              const r = await w.client.json(`/api/conversations/${w.conversationId}/messages/`, { method: "POST", token: user.token, body: { message_body: `message ${key}`, client_message_id: key } });
              if (r.status !== 503 || attempt >= 5) return r;
            } catch (error) {
              if (attempt >= 5) throw error;
            }
            await new Promise((r) => setTimeout(r, 500));
          }
        };
        // A client whose answer was lost sends again, sometimes while the first is still in flight.
        const attempts = Math.random() < 0.25 ? await Promise.all([send(), send()]) : Math.random() < 0.25 ? [await send(), await send()] : [await send()];
        for (const r of attempts) {
          if (r.status !== 200 && r.status !== 201) conflicts.push(`${key}: ${r.status}`);
          const id = r.body?.id;
          if (acked.has(key) && acked.get(key) !== id) conflicts.push(`${key}: two ids`);
          acked.set(key, id);
        }
      }
    }),
  );
  expect(conflicts).toEqual([]);
  expect(acked.size).toBe(2000);

  const stored = await allMessages(w.client, w.conversationId, w.users[0]!.token);
  expect(stored.map((m) => m.seq)).toEqual(range(2000));
  expect(new Set(stored.map((m) => m.client_message_id)).size).toBe(2000);
  for (const m of stored) expect(acked.get(m.client_message_id!)).toBe(m.id);

  for (const o of observers) {
    await o.waitForSeq(2000);
    expect(o.seqs).toEqual(range(2000));
    o.close();
  }
});
