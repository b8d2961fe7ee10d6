// Attacks on sockets, tickets, participants and messages that the server must stop (security issue 10).
import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { hashSecret } from "../src/auth/secrets";
import { MAX_PARTICIPANTS } from "../src/conversations/schemas";
import { TYPING_INTERVAL_SECONDS } from "../src/realtime/protocol";
import { json, send, start } from "./support/conversations";
import { api, ORIGIN, problemOf } from "./support/http";
import { login, tokenRequest, type Tokens } from "./support/oauth";
import { closedWithin, collect, openReady, openSocket } from "./support/ws";

// Logins run PBKDF2 through the real OAuth pages; nothing here measures time but the typing interval.
vi.setConfig({ testTimeout: 60_000 });

type Session = Awaited<ReturnType<typeof login>>;

const roomOf = (id: number) => env.CONVERSATION_ROOM.getByName(`conversation:${id}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ticketFor(who: Session, conversation: number): Promise<string> {
  const res = await api("/api/realtime/tickets/", { method: "POST", token: who.token, json: { conversation } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { ticket: string }).ticket;
}

/** RFC 7009 revocation of an access token, as its public client would ask for it. */
async function revokeAccessToken(who: Session) {
  const res = await SELF.fetch(`${ORIGIN}/o/revoke_token/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: who.token, client_id: who.client.clientId }).toString(),
  });
  expect(res.status).toBe(200);
}

/** The app as deployed, with some vars (a lowered limit) of this test's own. */
function appWith(vars: Record<string, string>) {
  const app = createApp();
  return (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
    if (init.json !== undefined) headers.set("Content-Type", "application/json");
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    return app.request(`${ORIGIN}${path}`, { ...init, headers, body }, { ...env, ...vars }, createExecutionContext());
  };
}

async function expectLimited(res: Response, name: string) {
  expect(res.status).toBe(429);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  expect(res.headers.get("RateLimit-Policy")).toMatch(new RegExp(`^"${name}";q=\\d+;w=\\d+$`));
  expect((await problemOf(res)).body.detail).toMatch(/^Too many \w+; retry in \d+ s\.$/);
}

describe("tickets and revoked tokens", () => {
  it("a ticket minted before its access token was revoked opens no socket; without the revoke it does", async () => {
    const a = await login();
    const { id } = await start(a, []);
    const kept = await ticketFor(a, id);
    const doomed = await ticketFor(a, id);

    const opened = await openSocket(id, { ticket: kept });
    expect(opened.res.status).toBe(101);
    opened.socket!.ws.close(1000);

    await revokeAccessToken(a);
    const refused = await openSocket(id, { ticket: doomed });
    expect(refused.res.status).toBe(401);
    expect(refused.socket).toBeNull();
  });

  it("an auth frame with a ticket whose access token was revoked does not extend the socket; one of a live token of the grant does", async () => {
    const a = await login();
    const { id } = await start(a, []);
    const socket = await openReady(id, { token: a.token });
    // A refresh gives the grant a second access token; the first stays live until revoked.
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: a.tokens.refresh_token, client_id: a.client.clientId });
    const live = await ticketFor({ ...a, token: ((await refreshed.json()) as Tokens).access_token }, id);
    const doomed = await ticketFor(a, id);
    // Revoked in D1 alone: the revocation endpoint would also close the grant's sockets, hiding the check.
    await env.DB.prepare("UPDATE oauth_tokens SET revoked_at = ? WHERE hash = ?").bind(Date.now(), hashSecret(a.token)).run();

    socket.send({ type: "auth", ticket: live });
    socket.send({ type: "auth", ticket: doomed });
    expect(await socket.next((e) => e.type === "error")).toMatchObject({ code: "invalid_ticket" });
    // An accepted auth frame is answered by nothing: give the live one time to fail too, if it were to.
    await sleep(300);
    expect(socket.events.filter((e) => e.type === "error")).toHaveLength(1);
    socket.ws.close(1000);
  });
});

describe("unredeemed tickets", () => {
  it("are deleted from the room's storage by its alarm once they expire, and the alarm moves to the next one", async () => {
    const a = await login();
    const { id } = await start(a, []);
    const stale = await ticketFor(a, id);
    const fresh = await ticketFor(a, id);
    const freshExpiry = await runInDurableObject(roomOf(id), async (_room, state) => {
      // The alarm already waits for the first ticket's expiry, 30 s away.
      const alarm = await state.storage.getAlarm();
      expect(alarm).toBeGreaterThan(Date.now());
      expect(alarm).toBeLessThanOrEqual(Date.now() + 30_000);
      const key = `ticket:${hashSecret(stale)}`;
      const stored = await state.storage.get<{ expiresAt: number }>(key);
      await state.storage.put(key, { ...stored, expiresAt: Date.now() - 1000 });
      return (await state.storage.get<{ expiresAt: number }>(`ticket:${hashSecret(fresh)}`))!.expiresAt;
    });

    expect(await runDurableObjectAlarm(roomOf(id))).toBe(true);
    await runInDurableObject(roomOf(id), async (_room, state) => {
      expect([...(await state.storage.list({ prefix: "ticket:" })).keys()]).toEqual([`ticket:${hashSecret(fresh)}`]);
      expect(await state.storage.getAlarm()).toBe(freshExpiry);
      // Past its expiry too, the last one goes with the next alarm, which then has nothing left to wait for.
      await state.storage.put(`ticket:${hashSecret(fresh)}`, { ...(await state.storage.get(`ticket:${hashSecret(fresh)}`))!, expiresAt: Date.now() - 1 });
    });
    expect(await runDurableObjectAlarm(roomOf(id))).toBe(true);
    await runInDurableObject(roomOf(id), async (_room, state) => {
      expect((await state.storage.list({ prefix: "ticket:" })).size).toBe(0);
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });
});

describe("the participant cap", () => {
  /** `count` active users made straight in D1 (a sign-up each would cost a PBKDF2 hash); their ids. */
  async function fillers(count: number): Promise<number[]> {
    const tag = crypto.randomUUID();
    await env.DB.prepare(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) INSERT INTO users (email, password_hash) SELECT 'filler-' || ?2 || '-' || i || '@example.com', 'x' FROM n",
    )
      .bind(count, tag)
      .run();
    const { results } = await env.DB.prepare("SELECT id FROM users WHERE email LIKE ?1 ORDER BY id").bind(`filler-${tag}-%`).all<{ id: number }>();
    return results.map((r) => r.id);
  }

  const add = (who: Session, conversation: number, userId: number) => api(`/api/conversations/${conversation}/participants/`, { method: "POST", token: who.token, json: { user_id: userId } });
  const headcount = async (conversation: number) => (await env.DB.prepare("SELECT count(*) AS n FROM participants WHERE conversation_id = ?").bind(conversation).first<{ n: number }>())!.n;

  it(`holds on add: of two concurrent adds to ${MAX_PARTICIPANTS - 1} members one is refused with 409, and so is any later one`, async () => {
    const owner = await login();
    const { id } = await start(owner, []);
    const [x, y, z, ...rest] = await fillers(MAX_PARTICIPANTS + 1);
    // The owner plus rest: MAX_PARTICIPANTS − 1 members.
    const seat = env.DB.prepare("INSERT INTO participants (conversation_id, user_id, joined_at) VALUES (?, ?, ?)");
    await env.DB.batch(rest.slice(0, MAX_PARTICIPANTS - 2).map((userId) => seat.bind(id, userId, Date.now())));
    expect(await headcount(id)).toBe(MAX_PARTICIPANTS - 1);

    const answers = await Promise.all([add(owner, id, x!), add(owner, id, y!)]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
    const refused = answers.find((r) => r.status === 409)!;
    expect((await problemOf(refused)).body.detail).toBe(`A conversation has at most ${MAX_PARTICIPANTS} participants; remove someone first.`);
    expect(await headcount(id)).toBe(MAX_PARTICIPANTS);

    expect((await add(owner, id, z!)).status).toBe(409);
    expect(await headcount(id)).toBe(MAX_PARTICIPANTS);
  });
});

describe("per-user limits", () => {
  it("edits and deletes share one limit across both message paths: beyond it they answer 429 and change nothing", async () => {
    const a = await login();
    const { id } = await start(a, []);
    const [m1, m2, m3] = [await send(a, id, "one"), await send(a, id, "two"), await send(a, id, "three")];
    const call = appWith({ RATE_EDIT_LIMIT: "2", RATE_EDIT_WINDOW_SECONDS: "60" });
    expect((await call(`/api/conversations/${id}/messages/${m1.id}/`, { method: "PATCH", token: a.token, json: { message_body: "uno" } })).status).toBe(200);
    expect((await call(`/api/messages/${m2.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);

    await expectLimited(await call(`/api/messages/${m3.id}/`, { method: "PATCH", token: a.token, json: { message_body: "tres" } }), "edit");
    await expectLimited(await call(`/api/conversations/${id}/messages/${m3.id}/`, { method: "DELETE", token: a.token }), "edit");
    const m3now = await json<{ message_body: string; deleted: boolean }>(await api(`/api/messages/${m3.id}/`, { token: a.token }));
    expect(m3now).toMatchObject({ message_body: "three", deleted: false });
  });

  it("tickets and socket opens share the connect limit: beyond it both answer 429 before any upgrade", async () => {
    const a = await login();
    const { id } = await start(a, []);
    const call = appWith({ RATE_CONNECT_LIMIT: "3", RATE_CONNECT_WINDOW_SECONDS: "60" });
    const ticket = await call("/api/realtime/tickets/", { method: "POST", token: a.token, json: { conversation: id } });
    expect(ticket.status).toBe(201);
    const { ticket: value } = (await ticket.json()) as { ticket: string };
    const byTicket = await call(`/api/conversations/${id}/ws/?ticket=${value}`, { headers: { Upgrade: "websocket" } });
    expect(byTicket.status).toBe(101);
    byTicket.webSocket!.accept();
    const byToken = await call(`/api/conversations/${id}/ws/`, { token: a.token, headers: { Upgrade: "websocket" } });
    expect(byToken.status).toBe(101);
    byToken.webSocket!.accept();

    await expectLimited(await call(`/api/conversations/${id}/ws/`, { token: a.token, headers: { Upgrade: "websocket" } }), "connect");
    await expectLimited(await call("/api/realtime/tickets/", { method: "POST", token: a.token, json: { conversation: id } }), "connect");
    byTicket.webSocket!.close(1000);
    byToken.webSocket!.close(1000);
  });
});

describe("sockets per user and conversation", () => {
  it("an eleventh socket of one user closes that user's oldest with 4029, a twelfth the next oldest; the rest, and other users' sockets, stay", async () => {
    const a = await login();
    const b = await login();
    const { id } = await start(a, [b.user.id]);
    const theirs = await openReady(id, { token: b.token });
    const mine = [];
    for (let i = 0; i < 10; i++) mine.push(await openReady(id, { token: a.token }));

    const newer = await openReady(id, { token: a.token });
    expect(await closedWithin(mine[0]!)).toMatchObject({ code: 4029 });
    // The next one displaces the next oldest: a socket already closed does not count.
    const newest = await openReady(id, { token: a.token });
    expect(await closedWithin(mine[1]!)).toMatchObject({ code: 4029 });
    const open = [...mine.slice(2), newer, newest, theirs];
    const m = await send(b, id, "who is still here?");
    for (const s of open) {
      await s.next((e) => e.type === "message.created" && e.message.id === m.id);
      expect(s.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    }
    for (const s of open) s.ws.close(1000);
  });
});

describe("typing", () => {
  it(`a burst of typing frames from one member reaches another member once, and again after ${TYPING_INTERVAL_SECONDS} s`, async () => {
    const a = await login();
    const b = await login();
    const { id } = await start(a, [b.user.id]);
    const typist = await openReady(id, { token: a.token });
    const watcher = await openReady(id, { token: b.token });
    const typing = (e: any) => e.type === "typing" && e.user === a.user.id;

    for (let i = 0; i < 10; i++) typist.send({ type: "typing" });
    await watcher.next(typing);
    // The burst's last frames have had time to arrive; none of them went out.
    await sleep(500);
    expect(watcher.events.filter(typing)).toHaveLength(1);

    await sleep(TYPING_INTERVAL_SECONDS * 1000);
    typist.send({ type: "typing" });
    await collect(watcher, typing, 2);
    typist.ws.close(1000);
    watcher.ws.close(1000);
  });
});

describe("a stranger probing message ids", () => {
  it("gets byte-identical 404s for GET, PATCH and DELETE of a message that does not exist and of one in a conversation they are not in", async () => {
    const a = await login();
    const stranger = await login();
    const { id } = await start(a, []);
    const secret = await send(a, id, "private");
    const { id: own } = await start(stranger, []);
    const missing = secret.id + 1_000_000;

    const paths = {
      "flat, exists elsewhere": `/api/messages/${secret.id}/`,
      "flat, does not exist": `/api/messages/${missing}/`,
      "nested, exists in their conversation": `/api/conversations/${id}/messages/${secret.id}/`,
      "nested, does not exist in the stranger's own": `/api/conversations/${own}/messages/${missing}/`,
      "nested, neither exists": `/api/conversations/${own + 1_000_000}/messages/${missing}/`,
    };
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const answers: Record<string, { status: number; body: string }> = {};
      for (const [name, path] of Object.entries(paths)) {
        const res = await api(path, { method, token: stranger.token, json: method === "PATCH" ? { message_body: "mine now" } : undefined });
        answers[name] = { status: res.status, body: await res.text() };
      }
      const expected = { status: 404, body: JSON.stringify({ type: "about:blank", title: "Not Found", status: 404, detail: "No such message." }) };
      expect({ method, answers }).toEqual({ method, answers: Object.fromEntries(Object.keys(paths).map((name) => [name, expected])) });
    }
    expect(await json<{ message_body: string; deleted: boolean }>(await api(`/api/messages/${secret.id}/`, { token: a.token }))).toMatchObject({ message_body: "private", deleted: false });
  });
});
