// A timing probe around the app (plain JS so the Node-side typecheck of bench/ leaves it alone; wrangler
// bundles it). GET /__probe?token=…&conversation=…&user=…&n=… runs each step of a REST send
// (src/messages/routes.ts → actions.ts → the room's ledger) n times in a row inside workerd and answers the
// mean milliseconds per step. Every other request goes to the app unchanged.
import app from "../../src/index";
import { verifyAccessToken } from "../../src/auth/oauth/tokens";
import { membership } from "../../src/conversations/conversations";
import { database } from "../../src/db/client";
import { take } from "../../src/limits/limits";
import { viewOf } from "../../src/messages/listing";
import { room } from "../../src/realtime/room";
import { getUserById } from "../../src/users/users";

export { ConversationRoom, RateLimiter } from "../../src/index";

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const q = url.searchParams;
    // k sequential round trips in one request: the cost of the first I/O of a request against the next.
    if (url.pathname === "/__probe/d1") {
      for (let i = 0; i < Number(q.get("k")); i++) await env.DB.prepare("SELECT 1").first();
      return Response.json({ ok: true });
    }
    if (url.pathname === "/__probe/do") {
      for (let i = 0; i < Number(q.get("k")); i++) await room(env, 1).lastSeq(1);
      return Response.json({ ok: true });
    }
    if (url.pathname !== "/__probe") return app.fetch(request, env, ctx);
    const token = q.get("token") ?? "";
    const conversationId = Number(q.get("conversation"));
    const userId = Number(q.get("user"));
    const n = Number(q.get("n") ?? 100);
    const tag = crypto.randomUUID().slice(0, 8);
    const db = database(env.DB);
    const user = await getUserById(db, userId);
    const sender = { id: user.id, firstName: user.firstName, lastName: user.lastName };
    const steps = [
      ["D1: SELECT 1 (one round trip, raw binding)", () => env.DB.prepare("SELECT 1").first()],
      ["D1: batch of 5 SELECT 1", () => env.DB.batch(Array.from({ length: 5 }, () => env.DB.prepare("SELECT 1")))],
      ["auth: verifyAccessToken (1 D1 query)", () => verifyAccessToken(db, token)],
      ["rate limit: take() (RateLimiter DO RPC + storage write)", () => take(env, "send", `user:${userId}`)],
      ["membership (1 D1 query)", () => membership(db, conversationId, userId)],
      ["currentUser: getUserById (1 D1 query)", () => getUserById(db, userId)],
      ["DO RPC round trip: room.lastSeq (in memory)", () => room(env, conversationId).lastSeq(conversationId)],
      ["room.send with client_message_id (DO RPC + 2 D1 batches)", (i) => room(env, conversationId).send({ conversationId, sender, body: `probe ${i}`, clientMessageId: `probe-${tag}-${i}` })],
      ["room.send without key (DO RPC + 1 D1 batch)", (i) => room(env, conversationId).send({ conversationId, sender, body: `probe ${i}`, clientMessageId: null })],
      ["viewOf: watermarks for the response (1 D1 query)", () => viewOf(db, conversationId, userId)],
    ];
    // Time in workerd advances at I/O, and every step does I/O. The steps take turns, so a burst of load
    // from elsewhere on the machine spreads over all of them instead of landing on one.
    const total = steps.map(() => 0);
    for (let i = 0; i < n; i++) {
      for (const [k, [, work]] of steps.entries()) {
        const t0 = Date.now();
        await work(i);
        total[k] += Date.now() - t0;
      }
    }
    const out = steps.map(([step], k) => ({ step, ms: total[k] / n }));
    // D1 and the limiter under concurrency: local D1 is one SQLite behind one object, so its queries queue.
    for (const [name, work] of [
      ["D1: SELECT 1", () => env.DB.prepare("SELECT 1").first()],
      ["auth: verifyAccessToken", () => verifyAccessToken(db, token)],
      ["rate limit: take()", () => take(env, "send", `user:${userId}`)],
    ]) {
      const together = 64;
      const rounds = Math.max(1, Math.floor(n / 10));
      const t0 = Date.now();
      for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: together }, () => work()));
      const ms = Date.now() - t0;
      out.push({ step: `${name} × ${together} at once (per call)`, ms: ms / (rounds * together), perSecond: Math.round((rounds * together * 1000) / ms) });
    }
    // Sends in flight together: how far one flush's D1 batch is amortised.
    for (const together of [16, 64]) {
      const t0 = Date.now();
      const rounds = Math.max(1, Math.floor(n / 10));
      for (let r = 0; r < rounds; r++) {
        await Promise.all(Array.from({ length: together }, (_, i) => room(env, conversationId).send({ conversationId, sender, body: `probe ${r}/${i}`, clientMessageId: `probe-${tag}-${together}-${r}-${i}` })));
      }
      const ms = Date.now() - t0;
      out.push({ step: `room.send × ${together} at once (per message)`, ms: ms / (rounds * together), perSecond: Math.round((rounds * together * 1000) / ms) });
    }
    return Response.json({ n, steps: out });
  },
};
