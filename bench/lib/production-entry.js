// The entry of the benchmark's production-like runtime (bench/lib/miniflare-server.ts), bundled with
// wrangler.toml's bindings. Plain JS, so the Node-side typecheck of bench/ leaves it alone; wrangler bundles it.
// Every request goes to the app unchanged (one header lookup and one substring test on the way) except:
//   GET /__bench/room?conversation=…&user=…&seconds=…&inflight=64&keys=1
//     the room alone: ConversationRoom's `send` RPC from the Worker, kept `inflight` deep for `seconds`,
//     each send with its own idempotency key (keys=1) or none; sends stored per second, each send's latency.
//   any request with `x-bench-count-d1: <conversation id>`
//     goes to the app with every D1 (env.DB and the message shards env.MESSAGES_<n>) wrapped so that every
//     call is counted, through read sessions too, the rooms' calls included (they run in this isolate; the
//     room of that conversation is asked, so a room elsewhere would show);
//     the answer carries `x-bench-d1: {"calls":N,"sequential":M,"shared":true}`.
// What it needs of the app: the Worker, the room class, the room's stub and its send RPC as
// src/messages/actions.ts calls it (update roomAlone below when that changes).
import app, { ConversationRoom as Room } from "../../src/index";
import { policy } from "../../src/limits/limits";
import { room } from "../../src/realtime/room-stub";
import { bearerToken } from "../../src/auth/bearer";
import { hashSecret } from "../../src/auth/secrets";

export { RateLimiter, UserHub } from "../../src/index";

/**
 * D1 calls while a counting request runs, over every database. One `prepare().run/all/first/raw`, one
 * `batch`, one `exec` is one round trip, on a binding or on one of its sessions (withSession). `sequential` is the longest chain of calls each starting after the previous one ended:
 * calls in flight together (Promise.all) count once, as they cost one round trip of waiting.
 */
const tally = { active: false, calls: 0, sequential: 0, marker: 0 };

function counted(work) {
  if (!tally.active) return work();
  tally.calls++;
  const depth = tally.sequential + 1;
  return work().finally(() => {
    tally.sequential = Math.max(tally.sequential, depth);
  });
}

const unwrap = new WeakMap();
/** A D1 binding, or a session of one (prepare, batch, getBookmark), whose calls are counted while tally.active. */
function countingD1(db) {
  const statement = (stmt) => {
    const wrapped = {
      bind: (...args) => statement(stmt.bind(...args)),
      run: (...args) => counted(() => stmt.run(...args)),
      all: (...args) => counted(() => stmt.all(...args)),
      first: (...args) => counted(() => stmt.first(...args)),
      raw: (...args) => counted(() => stmt.raw(...args)),
    };
    unwrap.set(wrapped, stmt);
    return wrapped;
  };
  return {
    prepare: (query) => statement(db.prepare(query)),
    batch: (statements) => counted(() => db.batch(statements.map((s) => unwrap.get(s) ?? s))),
    exec: (query) => counted(() => db.exec(query)),
    dump: () => counted(() => db.dump()),
    withSession: (...args) => countingD1(db.withSession(...args)),
    getBookmark: () => db.getBookmark(),
  };
}

/** The names of env's D1 bindings: DB and the message shards. */
const d1Names = (env) => Object.keys(env).filter((name) => name === "DB" || /^MESSAGES_\d+$/.test(name));

/**
 * The app's room; its env.DB is the counting wrapper while a counting request runs, the binding otherwise.
 * Its shards are always the counting wrappers (which count only while a counting request runs): the room
 * keeps its conversation's shard from the load on, so what it holds must be able to count later.
 */
export class ConversationRoom extends Room {
  constructor(ctx, env) {
    const plain = env.DB;
    const wrapped = countingD1(plain);
    const probed = { ...env };
    for (const name of d1Names(env)) if (name !== "DB") probed[name] = countingD1(env[name]);
    Object.defineProperty(probed, "DB", { enumerable: true, get: () => (tally.active ? wrapped : plain) });
    super(ctx, probed);
  }

  /** The marker of the counting request in flight, as this object's isolate sees it. */
  benchMarker() {
    return tally.marker;
  }
}

async function countD1(request, env, ctx, conversationId) {
  const headers = new Headers(request.headers);
  headers.delete("x-bench-count-d1");
  const inner = new Request(request, { headers });
  tally.marker = Math.random();
  const shared = (await room(env, conversationId).benchMarker()) === tally.marker;
  Object.assign(tally, { active: true, calls: 0, sequential: 0 });
  let response;
  try {
    const counting = Object.fromEntries(d1Names(env).map((name) => [name, countingD1(env[name])]));
    response = await app.fetch(inner, { ...env, ...counting }, ctx);
    // Read the body while counting: a route may still be producing it.
    response = new Response(await response.arrayBuffer(), response);
  } finally {
    tally.active = false;
  }
  response.headers.set("x-bench-d1", JSON.stringify({ calls: tally.calls, sequential: tally.sequential, shared }));
  return response;
}

/**
 * The room alone: its `send` RPC kept `inflight` deep for `seconds`, called as a REST send calls it
 * (sendMessage in src/messages/actions.ts: the sender's token hash and the route's scope, which the room
 * checks, and the send limit's policy), minus the route.
 */
async function roomAlone(env, q, authorization) {
  const conversationId = Number(q.get("conversation"));
  const presented = bearerToken(authorization ?? undefined);
  if (!presented || presented === "malformed") throw new Error("no bearer token");
  const token = { hash: hashSecret(presented.token), scopes: ["send:messages"] };
  const limit = policy(env, "send");
  const inflight = Number(q.get("inflight") ?? 64);
  const keys = q.get("keys") !== "0";
  const tag = crypto.randomUUID().slice(0, 8);
  const stub = room(env, conversationId);
  const latencies = [];
  const errors = {};
  let next = 0;
  let ok = 0;
  let failed = 0;
  // Time in workerd advances at I/O; every send is I/O.
  const t0 = Date.now();
  const deadline = t0 + Number(q.get("seconds") ?? 5) * 1000;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (Date.now() < deadline) {
        const i = next++;
        const begin = Date.now();
        const request = { body: `room alone ${i}`, clientMessageId: keys ? `room-${tag}-${i}` : null, replyTo: null, attachments: [], limit };
        const { outcome } = await stub.send(conversationId, token, request);
        const result = outcome ?? { ok: false, status: 401 };
        if (result.ok) {
          ok++;
          latencies.push(Date.now() - begin);
        } else {
          failed++;
          errors[result.status] = (errors[result.status] ?? 0) + 1;
        }
      }
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] ?? null;
  return { inflight, keys, sent: next, ok, failed, errors, seconds, perSecond: ok / seconds, p50: at(0.5), p99: at(0.99) };
}

export default {
  async fetch(request, env, ctx) {
    const counting = request.headers.get("x-bench-count-d1");
    if (counting) return countD1(request, env, ctx, Number(counting));
    if (!request.url.includes("/__bench/")) return app.fetch(request, env, ctx);
    const url = new URL(request.url);
    if (url.pathname !== "/__bench/room") return app.fetch(request, env, ctx);
    try {
      return Response.json(await roomAlone(env, url.searchParams, request.headers.get("Authorization")));
    } catch (error) {
      return Response.json({ error: String(error), stack: error?.stack }, { status: 500 });
    }
  },
};
