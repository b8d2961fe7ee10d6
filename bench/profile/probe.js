// A timing probe around the app (plain JS so the Node-side typecheck of bench/ leaves it alone; wrangler
// bundles it). Every request goes to the app unchanged except:
//   GET /__probe/d1?k=K   K sequential `SELECT 1` in one request (what one D1 round trip adds to a request)
//   GET /__probe?token=…&conversation=…&user=…&n=…
//     times, inside workerd, each awaited step of a REST send as src/messages/routes.ts makes it today
//     (bearer auth → the per-user send limit → the room: duplicate check and write, two D1 batches per
//     flush), the local D1 and the room under concurrency, and one flush written two ways.
import app from "../../src/index";
import { verifyAccessToken } from "../../src/auth/oauth/tokens";
import { database } from "../../src/db/client";
import { take } from "../../src/limits/limits";
import { room } from "../../src/realtime/room";
import { getUserById } from "../../src/users/users";

export { ConversationRoom, RateLimiter } from "../../src/index";

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const q = url.searchParams;
    if (url.pathname === "/__probe/d1") {
      for (let i = 0; i < Number(q.get("k")); i++) await env.DB.prepare("SELECT 1").first();
      return Response.json({ ok: true });
    }
    if (url.pathname !== "/__probe") return app.fetch(request, env, ctx);
    try {
      return Response.json(await probe(env, q));
    } catch (error) {
      return Response.json({ error: String(error), stack: error?.stack }, { status: 500 });
    }
  },
};

async function probe(env, q) {
  const token = q.get("token") ?? "";
  const conversationId = Number(q.get("conversation"));
  const userId = Number(q.get("user"));
  const n = Number(q.get("n") ?? 100);
  const tag = crypto.randomUUID().slice(0, 8);
  const db = database(env.DB);
  const user = await getUserById(db, userId);
  const sender = { id: user.id, firstName: user.firstName, lastName: user.lastName };
  const out = [];

  // Time in workerd advances at I/O, and every step does I/O. The steps take turns, so a burst of load
  // from elsewhere on the machine spreads over all of them instead of landing on one.
  const steps = [
    ["one D1 round trip: SELECT 1", () => env.DB.prepare("SELECT 1").first()],
    ["one D1 batch of 5 × SELECT 1", () => env.DB.batch(Array.from({ length: 5 }, () => env.DB.prepare("SELECT 1")))],
    ["one Durable Object RPC answered from memory", () => room(env, conversationId).lastSeq(conversationId)],
    ["send step 1, auth: verifyAccessToken (1 D1 query)", () => verifyAccessToken(db, token)],
    ["send step 2, limit: take() (RateLimiter DO, one storage write)", () => take(env, "send", `user:${userId}`)],
    ["send step 3, room.send with client_message_id (2 D1 batches)", (i) => room(env, conversationId).send({ conversationId, sender, body: `probe ${i}`, clientMessageId: `probe-${tag}-${i}` })],
    ["  room.send without a key (1 D1 batch)", (i) => room(env, conversationId).send({ conversationId, sender, body: `probe ${i}`, clientMessageId: null })],
  ];
  const spent = steps.map(() => 0);
  for (let i = 0; i < n; i++) {
    for (const [k, [, work]] of steps.entries()) {
      const t0 = Date.now();
      await work(i);
      spent[k] += Date.now() - t0;
    }
  }
  for (const [k, [step]] of steps.entries()) out.push({ step, ms: spent[k] / n });

  // Local D1 is one SQLite behind one object: its calls queue. Sends kept in flight (as from c clients)
  // show what group commit gets out of the room alone.
  const stream = async (step, together, total, work) => {
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: together }, async () => {
        while (next < total) await work(next++);
      }),
    );
    const ms = Date.now() - t0;
    out.push({ step, ms: ms / total, perSecond: Math.round((total * 1000) / ms) });
  };
  await stream("D1 SELECT 1, 64 in flight", 64, n * 5, () => env.DB.prepare("SELECT 1").first());
  await stream("auth (verifyAccessToken), 64 in flight", 64, n * 5, () => verifyAccessToken(db, token));
  await stream("room.send, 64 in flight, with keys", 64, n * 5, (i) => room(env, conversationId).send({ conversationId, sender, body: `s ${i}`, clientMessageId: `probe-${tag}-s-${i}` }));
  await stream("room.send, 64 in flight, no keys", 64, n * 5, (i) => room(env, conversationId).send({ conversationId, sender, body: `s ${i}`, clientMessageId: null }));

  // One flush of 50 messages as the ledger writes it (one statement per message) against one statement
  // over a JSON array, on a copy of the messages table with the same unique indexes.
  await env.DB.batch([
    env.DB.prepare("CREATE TABLE IF NOT EXISTS probe_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INTEGER NOT NULL, seq INTEGER NOT NULL, sender_id INTEGER NOT NULL, body TEXT NOT NULL, client_message_id TEXT, sent_at INTEGER NOT NULL)"),
    env.DB.prepare("CREATE UNIQUE INDEX IF NOT EXISTS probe_seq ON probe_messages (conversation_id, seq)"),
    env.DB.prepare("CREATE UNIQUE INDEX IF NOT EXISTS probe_key ON probe_messages (conversation_id, sender_id, client_message_id)"),
  ]);
  let seq = 0;
  const scratch = Math.floor(Math.random() * 1e9);
  const rows = () => Array.from({ length: 50 }, () => ({ c: scratch, s: ++seq, u: userId, b: `flush body ${seq}`, k: `k-${tag}-${seq}`, t: Date.now() }));
  const flushes = Math.max(4, Math.floor(n / 10));
  const compare = [
    ["flush of 50 as today: 50 × INSERT … RETURNING in one batch", async () => {
      await env.DB.batch(rows().map((r) => env.DB.prepare("INSERT INTO probe_messages (conversation_id, seq, sender_id, body, client_message_id, sent_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id").bind(r.c, r.s, r.u, r.b, r.k, r.t)));
    }],
    ["flush of 50 as 1 INSERT … SELECT FROM json_each(?) RETURNING", async () => {
      await env.DB.prepare("INSERT INTO probe_messages (conversation_id, seq, sender_id, body, client_message_id, sent_at) SELECT value->>'c', value->>'s', value->>'u', value->>'b', value->>'k', value->>'t' FROM json_each(?) RETURNING id, seq").bind(JSON.stringify(rows())).all();
    }],
    ["duplicate check of 50 keys as today: 50 × SELECT in one batch", async () => {
      await env.DB.batch(rows().map((r) => env.DB.prepare("SELECT id FROM probe_messages WHERE conversation_id = ? AND sender_id = ? AND client_message_id = ?").bind(r.c, r.u, r.k)));
    }],
    ["duplicate check of 50 keys as 1 SELECT … JOIN json_each(?)", async () => {
      await env.DB.prepare("SELECT m.id FROM json_each(?) j JOIN probe_messages m ON m.conversation_id = j.value->>'c' AND m.sender_id = j.value->>'u' AND m.client_message_id = j.value->>'k'").bind(JSON.stringify(rows())).all();
    }],
  ];
  const taken = compare.map(() => 0);
  for (let f = 0; f < flushes; f++) {
    for (const [k, [, work]] of compare.entries()) {
      const t0 = Date.now();
      await work();
      taken[k] += Date.now() - t0;
    }
  }
  for (const [k, [step]] of compare.entries()) out.push({ step, ms: taken[k] / flushes });
  return { n, steps: out };
}
