// The user stream (GET /api/events/ws/): resuming with after_event, what it costs, who may open it.
import { runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { InboxEvent } from "../src/realtime/stream-protocol";
import type { UserHub } from "../src/realtime/user-hub";
import { send, start } from "./support/conversations";
import { api, ORIGIN } from "./support/http";
import { closedWithin, collect, connectStream, connectStreamReady, endStreams, offlineInD1, streamMember } from "./support/ws";
import { created, hubOf, lastSeen, logOf, numbered, rename, revoke, sleep, ticketOf, waitFor } from "./support/streams";

vi.setConfig({ testTimeout: 60_000 });


// Every frame any stream got in a test is a StreamEvent, numbered gap-free after its ready.
afterEach(() => {
  expect(endStreams()).toEqual([]);
});

describe("resuming with after_event", () => {
  it("replays exactly the missed events in order, then ready (resumed), then live events", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const keeper = await connectStreamReady({ token: r.token });
    const dropped = await connectStreamReady({ token: r.token });
    await send(a, c.id, "seen");
    await created(dropped, "seen");
    const n = lastSeen(dropped);
    dropped.ws.close(1000);

    for (const body of ["missed 1", "missed 2", "missed 3"]) await send(a, c.id, body);
    expect((await rename(a, c.id, "While away")).status).toBe(200);
    await keeper.next((e) => e.type === "conversation.updated");
    const missed = numbered(keeper).filter((e) => e.event_seq > n);
    expect(missed.map((e) => e.type)).toEqual(["message.created", "message.created", "message.created", "conversation.updated"]);

    const back = await connectStreamReady({ token: r.token, afterEvent: n });
    expect(back.events).toEqual([...missed, { type: "ready", event_seq: missed.at(-1).event_seq, resumed: true }]);
    await send(a, c.id, "live again");
    expect((await created(back, "live again")).event_seq).toBe(missed.at(-1).event_seq + 1);
  });

  it("resumes after a quick reconnect within the grace, with nothing else open", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const dropped = await connectStreamReady({ token: r.token });
    const n = lastSeen(dropped);
    dropped.ws.close(1000);
    await send(a, c.id, "in the grace");
    // The room tells the hub after its answer: wait until the hub has it, so the replay must carry it.
    await waitFor(async () => (await logOf(r.user.id)).lastSeq === n + 1);
    const back = await connectStreamReady({ token: r.token, afterEvent: n });
    expect(back.events.map((e) => e.type)).toEqual(["message.created", "ready"]);
    expect(back.events[0]).toMatchObject({ event_seq: n + 1, message: { preview: "in the grace" } });
    expect(back.events[1]).toEqual({ type: "ready", event_seq: n + 1, resumed: true });
  });

  it("gets just ready (resumed) when nothing was missed", async () => {
    const r = await streamMember();
    const s = await connectStreamReady({ token: r.token });
    const back = await connectStreamReady({ token: r.token, afterEvent: lastSeen(s) });
    expect(back.events).toEqual([{ type: "ready", event_seq: lastSeen(s), resumed: true }]);
  });

  it("loses no event and repeats none when events arrive while the replay is sent", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const keeper = await connectStreamReady({ token: r.token });
    const dropped = await connectStreamReady({ token: r.token });
    const n = lastSeen(dropped);
    dropped.ws.close(1000);

    const burst = (async () => {
      for (let i = 0; i < 12; i++) await send(a, c.id, `burst ${i}`);
    })();
    await collect(keeper, (e) => e.type === "message.created", 3, 10_000);
    const back = await connectStreamReady({ token: r.token, afterEvent: n });
    await burst;
    await collect(back, (e) => e.type === "message.created", 12, 10_000);
    await collect(keeper, (e) => e.type === "message.created", 12, 10_000);

    expect(numbered(back)).toEqual(numbered(keeper).filter((e) => e.event_seq > n));
    expect(back.events.filter((e) => e.type === "ready")).toHaveLength(1);
    expect(back.events.find((e) => e.type === "ready").resumed).toBe(true);
  });

  it("replays 1,000 missed events; one more than the log keeps gets resync and a fresh snapshot", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    await send(a, c.id, "in the snapshot");
    const keeper = await connectStreamReady({ token: r.token });
    const dropped = await connectStreamReady({ token: r.token });
    const n = lastSeen(dropped);
    dropped.ws.close(1000);
    const publish = (count: number) =>
      runInDurableObject(hubOf(r.user.id), (hub: UserHub) => {
        const event: InboxEvent = { type: "receipt", conversation_id: c.id, delivered_seq: 0, read_seq: 0, unread_count: 1, mentions: 0 };
        hub.publish(Array.from({ length: count }, () => event));
      });

    await publish(1000);
    const full = await connectStreamReady({ token: r.token, afterEvent: n });
    expect(full.events).toHaveLength(1001);
    expect(full.events.at(-1)).toEqual({ type: "ready", event_seq: n + 1000, resumed: true });
    full.ws.close(1000);

    await publish(1);
    const late = await connectStreamReady({ token: r.token, afterEvent: n });
    expect(late.events[0]).toEqual({ type: "resync" });
    expect(late.events[1]).toMatchObject({ type: "ready", resumed: false, event_seq: n + 1001, chats_count: 1 });
    expect(late.events[1].chats[0].last_message.message_body).toBe("in the snapshot");
    await collect(keeper, (e) => e.type === "receipt", 1001);
  });

  it("gets resync after the user was offline: events while offline were not kept", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const s = await connectStreamReady({ token: r.token });
    const n = lastSeen(s);
    s.ws.close(1000);
    await offlineInD1(r.user.id);
    await send(a, c.id, "while you were away");

    const back = await connectStreamReady({ token: r.token, afterEvent: n });
    expect(back.events[0]).toMatchObject({ type: "resync" });
    expect(back.events[1]).toMatchObject({ type: "ready", resumed: false, chats_count: 1 });
    expect(back.events[1].chats[0]).toMatchObject({ unread_count: 1, last_message: { message_body: "while you were away" } });
  });

  it("starts over when a room could not deliver some events: the stream closes with 1011 and its resume gets resync", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const s = await connectStreamReady({ token: r.token });
    const n = lastSeen(s);
    // What a room's outbox sends after a call to this hub failed.
    await hubOf(r.user.id).publish([], true);
    expect((await closedWithin(s)).code).toBe(1011);
    await send(a, c.id, "after the hole");
    const back = await connectStreamReady({ token: r.token, afterEvent: n });
    expect(back.events.map((e) => e.type).slice(0, 2)).toEqual(["resync", "ready"]);
    expect(back.events[1].chats[0].last_message.message_body).toBe("after the hole");
  });

  it("gets resync for an after_event beyond the last event", async () => {
    const r = await streamMember();
    const s = await connectStreamReady({ token: r.token });
    const ahead = await connectStreamReady({ token: r.token, afterEvent: lastSeen(s) + 5 });
    expect(ahead.events.map((e) => e.type)).toEqual(["resync", "ready"]);
    expect(ahead.events[1].resumed).toBe(false);
  });

  it("refuses an after_event that is not a whole number with 400", async () => {
    const r = await streamMember();
    for (const bad of ["-1", "abc", "2.5"]) {
      const res = await SELF.fetch(`${ORIGIN}/api/events/ws/?after_event=${bad}`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${r.token}` } });
      expect(res.status, bad).toBe(400);
      expect(res.webSocket).toBeNull();
    }
  });
});

describe("cost", () => {
  it("a user with no stream open gets nothing in their hub's log; once they open one, they do", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const sa = await connectStreamReady({ token: a.token });
    await send(a, c.id, "unseen");
    await send(r, c.id, "from another device");
    expect((await rename(a, c.id, "Quiet")).status).toBe(200);
    await sa.next((e) => e.type === "conversation.updated");
    await sleep(100);
    expect(await logOf(r.user.id)).toEqual({ lastSeq: 0, online: false, events: 0 });

    const sr = await connectStreamReady({ token: r.token });
    await send(a, c.id, "seen");
    await created(sr, "seen");
    expect((await logOf(r.user.id)).events).toBe(1);
  });

  it("a user who went offline stops receiving: their log stops growing", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const sa = await connectStreamReady({ token: a.token });
    const sr = await connectStreamReady({ token: r.token });
    await send(a, c.id, "while online");
    await created(sr, "while online");
    sr.ws.close(1000);
    await offlineInD1(r.user.id);
    const before = await logOf(r.user.id);
    expect(before).toMatchObject({ online: false, events: 1 });

    for (const body of ["gone 1", "gone 2"]) await send(a, c.id, body);
    await created(sa, "gone 2");
    await sleep(100);
    expect(await logOf(r.user.id)).toEqual(before);
  });
});

describe("authentication", () => {
  it("a ticket opens the user's own stream once", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    await start(a, [r.user.id]);
    const ticket = await ticketOf(r);
    expect(ticket.startsWith(`${r.user.id}.`)).toBe(true);
    const s = await connectStreamReady({ ticket });
    expect(s.events[0].chats_count).toBe(1);
    const again = await connectStream({ ticket });
    expect(again.res.status).toBe(401);
    expect(again.stream).toBeNull();
  });

  it("a ticket expires 30 s after it was issued", async () => {
    const r = await streamMember();
    const res = await api("/api/events/tickets/", { method: "POST", token: r.token });
    const { ticket, expires_at } = (await res.json()) as { ticket: string; expires_at: string };
    const left = Date.parse(expires_at) - Date.now();
    expect(left).toBeGreaterThan(20_000);
    expect(left).toBeLessThanOrEqual(30_000);
    // Thirty seconds later, as far as the hub can tell.
    await runInDurableObject(hubOf(r.user.id), async (_hub, state) => {
      const stored = await state.storage.list<{ expiresAt: number }>({ prefix: "ticket:" });
      expect(stored.size).toBe(1);
      for (const [key, value] of stored) await state.storage.put(key, { ...value, expiresAt: Date.now() - 1 });
    });
    expect((await connectStream({ ticket })).res.status).toBe(401);
  });

  it("a ticket opens no stream as anyone else, and a malformed one is 401", async () => {
    const [r, other] = await Promise.all([streamMember(), streamMember()]);
    const ticket = await ticketOf(r);
    const secret = ticket.slice(ticket.indexOf(".") + 1);
    for (const forged of [`${other.user.id}.${secret}`, secret, "garbage", `${r.user.id}.short`, `${r.user.id}.${secret}x`]) {
      const { res } = await connectStream({ ticket: forged });
      expect(res.status, forged).toBe(401);
    }
    // The forgeries spent nothing: the real ticket still opens r's stream.
    await connectStreamReady({ ticket });
  });

  it("a ticket whose access token was revoked is 401", async () => {
    const r = await streamMember();
    const ticket = await ticketOf(r);
    await revoke(r);
    expect((await connectStream({ ticket })).res.status).toBe(401);
  });

  it("needs read:messages (403), a WebSocket upgrade (426) and an allowed Origin (403)", async () => {
    const narrow = await streamMember({ scopes: ["profile"] });
    expect((await connectStream({ token: narrow.token })).res.status).toBe(403);
    expect((await api("/api/events/tickets/", { method: "POST", token: narrow.token })).status).toBe(403);

    const r = await streamMember();
    expect((await api("/api/events/ws/", { token: r.token })).status).toBe(426);
    expect((await connectStream({ token: r.token, origin: "https://evil.example" })).res.status).toBe(403);
    await connectStreamReady({ token: r.token, origin: ORIGIN });
    expect((await connectStream({})).res.status).toBe(401);
  });

  it("revoking the access token closes its stream with 4001 and leaves the user's other grants' streams open", async () => {
    const r = await streamMember();
    const other = await streamMember({ user: r.user });
    const doomed = await connectStreamReady({ token: r.token });
    const kept = await connectStreamReady({ token: other.token });
    await revoke(r);
    expect((await closedWithin(doomed)).code).toBe(4001);
    kept.send("ping");
    await waitFor(() => kept.texts.includes("pong"));
  });

  it("deactivating the user closes their streams with 4003", async () => {
    const staff = await streamMember({ staff: true });
    const r = await streamMember();
    const s = await connectStreamReady({ token: r.token });
    expect((await api(`/api/users/${r.user.id}/`, { method: "PATCH", token: staff.token, json: { is_active: false } })).status).toBe(200);
    expect((await closedWithin(s)).code).toBe(4003);
    expect((await connectStream({ token: r.token })).res.status).toBe(401);
  });

  it("an 11th stream closes the oldest with 4029; the other ten stay live", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const oldest = await connectStreamReady({ token: r.token });
    const streams = await Promise.all(Array.from({ length: 9 }, () => connectStreamReady({ token: r.token })));
    expect(oldest.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    streams.push(await connectStreamReady({ token: r.token }));
    expect((await closedWithin(oldest)).code).toBe(4029);
    await send(a, c.id, "to the ten");
    await Promise.all(streams.map((s) => created(s, "to the ten")));
  });

  it("answers ping with pong and any other frame with an unknown_type error", async () => {
    const r = await streamMember();
    const s = await connectStreamReady({ token: r.token });
    s.send("ping");
    await waitFor(() => s.texts.includes("pong"));
    s.send({ type: "send", message_body: "hi" });
    expect(await s.next((e) => e.type === "error")).toMatchObject({ code: "unknown_type" });
  });
});
