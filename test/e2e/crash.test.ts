import { afterAll, expect, it } from "vitest";
import { portFree, startDevServer, UNLIMITED, type DevServer } from "../../scripts/dev-server";
import { allMessages, observe, range, world } from "./support";

let server: DevServer | undefined;
afterAll(() => server?.kill());

it("keeps every acknowledged send across a SIGKILL of the whole wrangler dev process group, and continues the sequence", async () => {
  server = await startDevServer({ vars: UNLIMITED });
  const { persistTo, port } = server;
  const w = await world(server, 4);
  const path = `/api/conversations/${w.conversationId}/messages/`;
  const acked = new Map<string, number>();
  let stop = false;
  const load = w.users.map(async (user, u) => {
    for (let n = 0; !stop; n++) {
      const key = `u${u}-${n}`;
      try {
        const res = await fetch(`${server!.url}${path}`, { method: "POST", headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" }, body: JSON.stringify({ message_body: key, client_message_id: key }) });
        if (res.status === 201 || res.status === 200) acked.set(key, ((await res.json()) as { seq: number }).seq);
      } catch {
        return; // The server is gone: this send was never acknowledged.
      }
    }
  });
  while (acked.size < 150) await new Promise((r) => setTimeout(r, 20));
  await server.kill("SIGKILL");
  stop = true;
  await Promise.all(load);
  await portFree(port);

  server = await startDevServer({ persistTo, port, vars: UNLIMITED });
  const stored = await allMessages(w.client, w.conversationId, w.users[0]!.token);
  const last = stored.length;
  expect(stored.map((m) => m.seq)).toEqual(range(last));
  for (const [key, seq] of acked) expect(stored[seq - 1]?.client_message_id, key).toBe(key);

  const next = await w.client.json(path, { method: "POST", token: w.users[1]!.token, body: { message_body: "after the crash", client_message_id: "after" } });
  expect(next.status).toBe(201);
  expect(next.body.seq).toBe(last + 1);

  // A client that had seen up to some point resumes and misses nothing.
  const resumeFrom = Math.floor(last / 2);
  const member = observe(server.url, w.conversationId, w.users[2]!.token, resumeFrom);
  await member.ready;
  expect(member.seqs).toEqual(range(last + 1).slice(resumeFrom));
  member.close();
});
