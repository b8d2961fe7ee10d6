import { createExecutionContext, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { member, send, start } from "./support/conversations";
import { ORIGIN } from "./support/http";

// Deployed, D1's primary sits in one region: every sequential round trip from the Worker costs a far
// client 50–200 ms. These count the Worker's own D1 calls per request (a prepared statement's run, all,
// first or raw, or one batch, each one round trip); the room's flush is one more on a send.

type Counter = { db: D1Database; calls: () => number };

/** env.DB with every round trip counted. */
function counting(db: D1Database): Counter {
  let calls = 0;
  const plain = new WeakMap<object, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const counted = <T>(work: () => Promise<T>) => (calls++, work());
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
  const wrapped = {
    prepare: (query: string) => wrap(db.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => (calls++, db.batch(statements.map((s) => plain.get(s) ?? s))),
    exec: (query: string) => (calls++, db.exec(query)),
    withSession: () => wrapped,
    dump: () => db.dump(),
  } as unknown as D1Database;
  return { db: wrapped, calls: () => calls };
}

async function roundTrips(path: string, token: string, init: RequestInit = {}) {
  const counter = counting(env.DB);
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  const res = await createApp().request(`${ORIGIN}${path}`, { ...init, headers }, { ...env, DB: counter.db }, createExecutionContext());
  expect(res.status).toBeLessThan(300);
  return counter.calls();
}

describe("D1 round trips per request, in the Worker", () => {
  let a: Awaited<ReturnType<typeof member>>;
  let id: number;
  beforeAll(async () => {
    a = await member();
    const b = await member();
    id = (await start(a, [b.user.id])).id;
    for (let i = 0; i < 5; i++) await send(b, id, `m${i}`);
  });

  it("a send authenticates and hands the message to the room: one (the room's flush is the second)", async () => {
    expect(await roundTrips(`/api/conversations/${id}/messages/`, a.token, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ message_body: "hi" }) })).toBe(1);
  });

  it.each([
    ["a history page", () => `/api/conversations/${id}/messages/?page=1&page_size=3`],
    ["a history cursor", () => `/api/conversations/${id}/messages/?after_seq=2&limit=2`],
    ["the chat list", () => "/api/chats/"],
  ])("%s costs authentication plus one batch: two", async (_, path) => {
    expect(await roundTrips(path(), a.token)).toBe(2);
  });

  it("/users/me costs one: the user comes with the token", async () => {
    expect(await roundTrips("/api/users/me/", a.token)).toBe(1);
  });

  it("a receipt costs authentication only in the Worker: the room writes it", async () => {
    expect(await roundTrips(`/api/conversations/${id}/receipts/`, a.token, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ read_up_to: 3 }) })).toBe(1);
  });
});
