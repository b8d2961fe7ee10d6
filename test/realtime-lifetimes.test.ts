import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashSecret } from "../src/auth/secrets";
import { api, ORIGIN, signUp } from "./support/http";
import { login, tokenRequest, type Tokens } from "./support/oauth";
import { shardOf } from "./support/shards";
import { closedWithin, collect, openReady, openSocket, type Socket } from "./support/ws";

type Session = Awaited<ReturnType<typeof login>>;

async function conversation(owner: Session, ...others: Session[]): Promise<number> {
  const res = await api("/api/conversations/", { method: "POST", token: owner.token, json: { participants: others.map((o) => o.user.id) } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

async function send(id: number, who: Session, body: string): Promise<{ id: number; seq: number }> {
  const res = await api(`/api/conversations/${id}/messages/`, { method: "POST", token: who.token, json: { message_body: body } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: number; seq: number };
}

/** Proves a socket is still open and live: a message sent now reaches it. */
async function stillLive(id: number, sender: Session, ...sockets: Socket[]) {
  const m = await send(id, sender, `are you there? ${crypto.randomUUID()}`);
  for (const s of sockets) {
    expect(s.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    await s.next((e) => e.type === "message.created" && e.message.id === m.id);
  }
}

const roomOf = (id: number) => env.CONVERSATION_ROOM.getByName(`conversation:${id}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Moves an access token's expiry in D1 (tokens are stored by SHA-256 hex). */
async function expireTokenAt(token: string, at: number) {
  const { meta } = await env.DB.prepare("UPDATE oauth_tokens SET expires_at = ? WHERE hash = ?").bind(at, hashSecret(token)).run();
  expect(meta.changes).toBe(1);
}

describe("membership changes", () => {
  it("removing a participant closes their socket with 4003 and tells the others; adding and renaming are broadcast", async () => {
    const a = await login();
    const b = await login();
    const c = await login();
    const d = await login();
    const id = await conversation(a, b, c);
    const [sa, sb, sc] = [await openReady(id, { token: a.token }), await openReady(id, { token: b.token }), await openReady(id, { token: c.token })];

    expect((await api(`/api/conversations/${id}/participants/${b.user.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    expect((await closedWithin(sb)).code).toBe(4003);
    for (const s of [sa, sc]) expect(await s.next((e) => e.type === "participant.removed")).toEqual({ type: "participant.removed", user: b.user.id });
    expect((await openSocket(id, { token: b.token })).res.status).toBe(404);
    await stillLive(id, a, sa, sc);

    expect((await api(`/api/conversations/${id}/participants/`, { method: "POST", token: a.token, json: { user_id: d.user.id } })).status).toBe(201);
    for (const s of [sa, sc]) expect(await s.next((e) => e.type === "participant.added")).toEqual({ type: "participant.added", user: d.user.id });
    const sd = await openReady(id, { token: d.token });

    expect((await api(`/api/conversations/${id}/`, { method: "PATCH", token: a.token, json: { title: "Renamed" } })).status).toBe(200);
    for (const s of [sa, sc, sd]) {
      const updated = await s.next((e) => e.type === "conversation.updated");
      expect(updated.conversation).toMatchObject({ id, title: "Renamed" });
    }
    // A participant who leaves on their own is closed the same way.
    expect((await api(`/api/conversations/${id}/participants/${c.user.id}/`, { method: "DELETE", token: c.token })).status).toBe(204);
    expect((await closedWithin(sc)).code).toBe(4003);
    await sa.next((e) => e.type === "participant.removed" && e.user === c.user.id);
    await stillLive(id, a, sa, sd);
    sa.ws.close(1000);
    sd.ws.close(1000);
  });
});

describe("credentials", () => {
  it("revoking a grant closes its sockets with 4001 and spends its tickets; another grant's socket stays", async () => {
    const a = await login();
    const b1 = await login();
    const b2 = await login({ user: b1.user });
    const id = await conversation(a, b1);
    const other = await conversation(a, b1);
    const s1 = await openReady(id, { token: b1.token });
    const s1elsewhere = await openReady(other, { token: b1.token });
    const s2 = await openReady(id, { token: b2.token });
    const ticket = (await (await api("/api/realtime/tickets/", { method: "POST", token: b1.token, json: { conversation: id } })).json()) as { ticket: string };

    const res = await SELF.fetch(`${ORIGIN}/o/revoke_token/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: b1.tokens.refresh_token, client_id: b1.client.clientId }).toString(),
    });
    expect(res.status).toBe(200);
    expect((await closedWithin(s1)).code).toBe(4001);
    expect((await closedWithin(s1elsewhere)).code).toBe(4001);
    // The ticket was issued before the revocation; the grant behind it is gone now.
    expect((await openSocket(id, { ticket: ticket.ticket })).res.status).toBe(401);
    expect((await openSocket(id, { token: b1.token })).res.status).toBe(401);
    await stillLive(id, a, s2);
    s2.ws.close(1000);
  });

  it("deactivating a user closes all of their sockets, in every conversation, with 4003", async () => {
    const staffUser = await signUp();
    await env.DB.prepare("UPDATE users SET is_staff = 1 WHERE id = ?").bind(staffUser.id).run();
    const staff = await login({ user: staffUser });
    const a = await login();
    const b = await login();
    const one = await conversation(a, b);
    const two = await conversation(a, b);
    const sb1 = await openReady(one, { token: b.token });
    const sb2 = await openReady(two, { token: b.token });
    const sa = await openReady(one, { token: a.token });

    const res = await api(`/api/users/${b.user.id}/`, { method: "PATCH", token: staff.token, json: { is_active: false } });
    expect(res.status).toBe(200);
    expect((await closedWithin(sb1)).code).toBe(4003);
    expect((await closedWithin(sb2)).code).toBe(4003);
    expect((await openSocket(one, { token: b.token })).res.status).toBe(401);
    await stillLive(one, a, sa);
    sa.ws.close(1000);
  });

  it("a password change closes the sockets of the user's other grants with 4001 and keeps the current one", async () => {
    const a = await login();
    const current = await login();
    const other = await login({ user: current.user });
    const id = await conversation(a, current);
    const second = await conversation(a, current);
    const mine = await openReady(id, { token: current.token });
    const theirs = await openReady(id, { token: other.token });
    const theirsElsewhere = await openReady(second, { token: other.token });

    const res = await api("/api/users/me/", { method: "PATCH", token: current.token, json: { current_password: current.user.password, new_password: "a brand new password" } });
    expect(res.status).toBe(200);
    expect((await closedWithin(theirs)).code).toBe(4001);
    expect((await closedWithin(theirsElsewhere)).code).toBe(4001);
    await stillLive(id, a, mine);
    mine.send({ type: "send", message_body: "still me", client_message_id: "p1" });
    expect((await mine.next((e) => e.type === "ack")).message.message_body).toBe("still me");
    mine.ws.close(1000);
  });

  it("a socket whose access token expires is closed with 4001 by the room's alarm, each at its own expiry", async () => {
    const a = await login();
    const b = await login();
    const c = await login();
    const id = await conversation(a, b, c);
    const first = Date.now() + 1500;
    const second = first + 1000;
    await expireTokenAt(b.token, first);
    await expireTokenAt(c.token, second);
    const early = await openReady(id, { token: b.token });
    const later = await openReady(id, { token: c.token });
    const lasting = await openReady(id, { token: a.token });
    const alarmAt = () => runInDurableObject(roomOf(id), (_instance, state) => state.storage.getAlarm());
    // The room's alarm is set for the earliest expiry among its sockets.
    expect(await alarmAt()).toBe(first);

    await sleep(first - Date.now() + 300);
    // Runs the alarm now unless the runtime already did; either way the socket must be closed.
    await runDurableObjectAlarm(roomOf(id));
    expect((await closedWithin(early)).code).toBe(4001);
    expect(later.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    // ...and then set again for the next one.
    expect(await alarmAt()).toBe(second);

    await sleep(second - Date.now() + 300);
    await runDurableObjectAlarm(roomOf(id));
    expect((await closedWithin(later)).code).toBe(4001);
    await stillLive(id, a, lasting);
    // The closed sockets' expiries no longer hold an alarm; the lasting token's (an hour away) does.
    expect(await alarmAt()).toBeGreaterThan(Date.now() + 60_000);
    lasting.ws.close(1000);
  });
});

describe("deleting the conversation", () => {
  it("closes every socket with 4003, refuses new ones, and the alarm purges its messages", async () => {
    const a = await login();
    const b = await login();
    const id = await conversation(a, b);
    for (let i = 0; i < 3; i++) await send(id, a, `m${i}`);
    // Its messages are in its shard; the main database forgets which one once the conversation is gone.
    const { d1 } = await shardOf(id);
    const messagesIn = async () => (await d1.prepare("SELECT count(*) AS n FROM messages WHERE conversation_id = ?").bind(id).first<{ n: number }>())?.n;
    expect(await messagesIn()).toBe(3);
    const sockets = [await openReady(id, { token: a.token }), await openReady(id, { token: b.token }), await openReady(id, { token: b.token })];

    expect((await api(`/api/conversations/${id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    for (const s of sockets) expect((await closedWithin(s)).code).toBe(4003);
    expect((await openSocket(id, { token: b.token })).res.status).toBe(404);

    // The purge runs from the alarm, in chunks; the runtime may be running it already, so run it here
    // too until the conversation row is gone (or give up and let the assertion say what is left).
    const left = async () => ({
      messages: await messagesIn(),
      conversations: (await env.DB.prepare("SELECT count(*) AS n FROM conversations WHERE id = ?").bind(id).first<{ n: number }>())?.n,
    });
    for (let i = 0; i < 50 && (await left()).conversations; i++) {
      if (!(await runDurableObjectAlarm(roomOf(id)))) await sleep(50);
    }
    expect(await left()).toEqual({ messages: 0, conversations: 0 });
  });
});

describe("in-band re-authentication", () => {
  it("an auth frame with a fresh ticket for the same grant extends the socket's life; a garbage or foreign ticket is an error", async () => {
    const a = await login();
    const b = await login();
    const otherGrant = await login({ user: b.user });
    const id = await conversation(a, b);
    await expireTokenAt(b.token, Date.now() + 1500);
    const renewed = await openReady(id, { token: b.token });
    const lapsing = await openReady(id, { token: b.token });

    // A refresh gives the same grant a new access token, and that token a ticket.
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: b.tokens.refresh_token, client_id: b.client.clientId });
    expect(refreshed.status).toBe(200);
    const fresh = (await refreshed.json()) as Tokens;
    const ticketFor = async (token: string) => ((await (await api("/api/realtime/tickets/", { method: "POST", token, json: { conversation: id } })).json()) as { ticket: string }).ticket;

    renewed.send({ type: "auth", ticket: "garbage" });
    expect(await renewed.next((e) => e.type === "error")).toMatchObject({ code: "invalid_ticket" });
    // Another grant of the same user cannot lend its ticket.
    renewed.send({ type: "auth", ticket: await ticketFor(otherGrant.token) });
    expect((await collect(renewed, (e) => e.type === "error", 2))[1]).toMatchObject({ code: "invalid_ticket" });
    renewed.send({ type: "auth", ticket: await ticketFor(fresh.access_token) });
    // The auth frame is answered by nothing; a later frame's answer shows it was handled without error.
    renewed.send({ type: "send", message_body: "renewed", client_message_id: "r1" });
    await renewed.next((e) => e.type === "ack");
    expect(renewed.events.filter((e) => e.type === "error")).toHaveLength(2);

    await sleep(2000);
    await runDurableObjectAlarm(roomOf(id));
    expect((await closedWithin(lapsing)).code).toBe(4001);
    // The renewed socket outlived its first token: it is open and may still send.
    renewed.send({ type: "send", message_body: "after expiry", client_message_id: "r2" });
    expect((await renewed.next((e) => e.type === "ack" && e.client_message_id === "r2")).message.message_body).toBe("after expiry");
    expect(renewed.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    renewed.ws.close(1000);
  });
});
