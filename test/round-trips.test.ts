import { createExecutionContext, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { shardBindings } from "../src/db/shards";
import { member, send, start } from "./support/conversations";
import { ORIGIN } from "./support/http";
import { shardOf } from "./support/shards";

// Deployed, D1's primary sits in one region: every sequential round trip from the Worker costs a far
// client 50–200 ms. These count the Worker's own D1 calls per request on every database it binds (the
// main one, DB, and each message shard, MESSAGES_<n>): a prepared statement's run, all, first or raw, or
// one batch, each one round trip. What a far client waits for is the longest chain of calls each issued
// after the one before it answered: calls in flight together cost one wait. A send or a receipt makes none
// here: its room checks the token (read once, then remembered until a revocation reaches the room) and writes the
// shard, one wait for a member who sent before (its write to the main database follows the answer).

/** One D1 call: the binding it went to, and how many calls deep it was issued (see Meter). */
type Call = { binding: string; depth: number };

/** Every D1 call of one request, on any binding. */
class Meter {
  readonly calls: Call[] = [];
  /** The depths of the calls answered so far. */
  readonly #answered: number[] = [];

  /**
   * Counts a call. Its depth is one more than the deepest call answered before it was issued (a call
   * issued while another is in flight does not wait for it), so the deepest call is the number of round
   * trips the client waits for one after the other.
   */
  track<T>(binding: string, work: () => Promise<T>): Promise<T> {
    const depth = 1 + Math.max(0, ...this.#answered);
    this.calls.push({ binding, depth });
    return work().finally(() => this.#answered.push(depth));
  }

  /** Calls per binding. */
  byBinding(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.calls) counts[c.binding] = (counts[c.binding] ?? 0) + 1;
    return counts;
  }

  /** Round trips one after the other: what a client far from the database waits for. */
  sequential(): number {
    return Math.max(0, ...this.calls.map((c) => c.depth));
  }
}

type Queryable = Pick<D1Database, "prepare" | "batch">;

/** A D1 binding (or one of its read sessions) whose every round trip `meter` counts as `binding`'s. */
function counting<D extends Queryable>(db: D, binding: string, meter: Meter): D {
  const plain = new WeakMap<object, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const counted = <T>(work: () => Promise<T>) => meter.track(binding, work);
    const wrapped = {
      bind: (...values: unknown[]) => wrap(stmt.bind(...values)),
      run: () => counted(() => stmt.run()),
      all: () => counted(() => stmt.all()),
      first: (column?: string) => counted(() => (column === undefined ? stmt.first() : stmt.first(column))),
      raw: (options?: { columnNames?: boolean }) => counted(() => stmt.raw(options as { columnNames: true })),
    } as unknown as D1PreparedStatement;
    plain.set(wrapped, stmt);
    return wrapped;
  };
  const full = db as unknown as Partial<D1Database & D1DatabaseSession>;
  return {
    prepare: (query: string) => wrap(db.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => meter.track(binding, () => db.batch(statements.map((s) => plain.get(s) ?? s))),
    exec: (query: string) => meter.track(binding, () => full.exec!(query)),
    dump: () => full.dump!(),
    // A read session (the Sessions API) is counted as its database's.
    withSession: (constraint?: string) => counting(full.withSession!(constraint), binding, meter),
    getBookmark: () => full.getBookmark!(),
  } as unknown as D;
}

/** Calls `path` as `token`'s user through the app, with every D1 binding counted. */
async function roundTrips(path: string, token: string, init: RequestInit = {}) {
  const meter = new Meter();
  const counted: Record<string, D1Database> = { DB: counting(env.DB, "DB", meter) };
  shardBindings(env).forEach((d1, n) => (counted[`MESSAGES_${n}`] = counting(d1, `MESSAGES_${n}`, meter)));
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  const res = await createApp().request(`${ORIGIN}${path}`, { ...init, headers }, { ...env, ...counted }, createExecutionContext());
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return { calls: meter.byBinding(), sequential: meter.sequential() };
}

/** A conversation no request has read yet: its id, its shard's binding and its first message's id. */
type Fresh = { id: number; shard: string; firstMessage: number };

describe("D1 round trips per request, in the Worker", () => {
  let a: Awaited<ReturnType<typeof member>>;
  let b: Awaited<ReturnType<typeof member>>;
  let id: number;
  beforeAll(async () => {
    a = await member();
    b = await member();
    id = (await start(a, [b.user.id])).id;
    for (let i = 0; i < 5; i++) await send(b, id, `m${i}`);
  });

  /** A new conversation of a and b with a few messages, which no request has read yet (so no isolate knows its shard). */
  async function unread(): Promise<Fresh> {
    const fresh = (await start(a, [b.user.id])).id;
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await send(b, fresh, `n${i}`));
    return { id: fresh, shard: `MESSAGES_${(await shardOf(fresh)).index}`, firstMessage: sent[0]!.id };
  }

  it("a send hands the message and its token to the room: none in the Worker", async () => {
    const cost = await roundTrips(`/api/conversations/${id}/messages/`, a.token, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ message_body: "hi" }) });
    expect(cost).toEqual({ calls: {}, sequential: 0 });
  });

  it.each([
    ["a history page", (c: Fresh) => `/api/conversations/${c.id}/messages/?page=1&page_size=3`],
    ["a history cursor", (c: Fresh) => `/api/conversations/${c.id}/messages/?after_seq=2&limit=2`],
    ["one message", (c: Fresh) => `/api/conversations/${c.id}/messages/${c.firstMessage}/`],
  ])("%s costs one main batch (the token checked in it) and one shard read, at once once the isolate knows the shard: one wait", async (_, pathOf) => {
    const conversation = await unread();
    const path = pathOf(conversation);
    // The first read of a conversation in an isolate learns its shard from the main batch: two waits.
    const cold = await roundTrips(path, a.token);
    expect(cold).toEqual({ calls: { DB: 1, [conversation.shard]: 1 }, sequential: 2 });
    // From then on (a conversation never changes shard) the main batch and the shard read go together.
    const warm = await roundTrips(path, a.token);
    expect(warm).toEqual({ calls: { DB: 1, [conversation.shard]: 1 }, sequential: 1 });
  });

  it("the chat list costs one batch on the main database, the token checked in it, and reads no shard: one", async () => {
    expect(await roundTrips("/api/chats/", a.token)).toEqual({ calls: { DB: 1 }, sequential: 1 });
  });

  it("/users/me costs one: the user comes with the token", async () => {
    expect(await roundTrips("/api/users/me/", a.token)).toEqual({ calls: { DB: 1 }, sequential: 1 });
  });

  it("a receipt, like a send, hands its token to the room, which checks it and writes: none in the Worker", async () => {
    const cost = await roundTrips(`/api/conversations/${id}/receipts/`, a.token, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ read_up_to: 3 }) });
    expect(cost).toEqual({ calls: {}, sequential: 0 });
  });
});
