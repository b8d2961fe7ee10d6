import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashSecret } from "../src/auth/secrets";
import { config } from "../src/config";
import { MAX_FRAME_BYTES, REPLAY_LIMIT } from "../src/realtime/protocol";
import { api } from "./support/http";
import { login } from "./support/oauth";
import { shardOf } from "./support/shards";
import { closedWithin, collect, openReady, openSocket, type Socket } from "./support/ws";

/** Polls `check` until it holds (or fails after 5 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Session = Awaited<ReturnType<typeof login>>;
type Message = { id: number; seq: number; message_body: string; status: string; deleted: boolean; client_message_id: string | null; sender: { id: number } };

/** A conversation owned by `owner` with `others`; returns its id. */
async function conversation(owner: Session, ...others: Session[]): Promise<number> {
  const res = await api("/api/conversations/", { method: "POST", token: owner.token, json: { participants: others.map((o) => o.user.id) } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

async function send(id: number, who: Session, body: string, clientMessageId?: string): Promise<Message> {
  const res = await api(`/api/conversations/${id}/messages/`, { method: "POST", token: who.token, json: { message_body: body, ...(clientMessageId ? { client_message_id: clientMessageId } : {}) } });
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Message;
}

const created = (s: Socket) => s.events.filter((e) => e.type === "message.created");
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * The replay/live seam as a socket saw it: the message.created seqs before `ready`, `ready` itself,
 * and the seqs after it.
 */
function seam(s: Socket) {
  const at = s.events.findIndex((e) => e.type === "ready");
  const seqs = (events: any[]) => events.filter((e) => e.type === "message.created").map((e) => e.message.seq as number);
  return { before: seqs(s.events.slice(0, at)), ready: s.events[at], after: seqs(s.events.slice(at + 1)) };
}

describe("ordering", () => {
  it("100 interleaved REST and WebSocket sends from three users reach three sockets in one seq order, each exactly once", async () => {
    const users = [await login(), await login(), await login()];
    const id = await conversation(users[0]!, users[1]!, users[2]!);
    const sockets = await Promise.all(users.map((u) => openReady(id, { token: u.token })));

    const rest: Promise<Message>[] = [];
    const wsSent = sockets.map(() => [] as string[]);
    for (let i = 0; i < 100; i++) {
      const who = i % 3;
      const key = `m${i}`;
      if (i % 2 === 0) rest.push(send(id, users[who]!, `body ${i}`, key));
      else {
        sockets[who]!.send({ type: "send", message_body: `body ${i}`, client_message_id: key });
        wsSent[who]!.push(key);
      }
    }
    // Every WebSocket send is acked on its own socket, with the stored message.
    const acks = await Promise.all(sockets.map((s, k) => collect(s, (e) => e.type === "ack", wsSent[k]!.length, 15_000)));
    const restMessages = await Promise.all(rest);
    const seqOfKey = new Map<string, number>();
    for (const [k, list] of acks.entries()) {
      expect(list.map((a) => a.client_message_id).sort()).toEqual([...wsSent[k]!].sort());
      for (const ack of list) {
        expect(ack.message.client_message_id).toBe(ack.client_message_id);
        expect(ack.message.message_body).toBe(`body ${ack.client_message_id.slice(1)}`);
        expect(ack.message.sender.id).toBe(users[k]!.user.id);
        seqOfKey.set(ack.client_message_id, ack.message.seq);
      }
    }
    for (const m of restMessages) seqOfKey.set(m.client_message_id!, m.seq);
    // 100 distinct keys got 100 distinct seqs, 1..100.
    expect(seqOfKey.size).toBe(100);
    expect([...seqOfKey.values()].sort((x, y) => x - y)).toEqual(range(1, 100));

    // One more message marks the end: anything about seqs ≤ 100 was sent before it.
    await send(id, users[0]!, "the end");
    const seen = await Promise.all(sockets.map((s) => collect(s, (e) => e.type === "message.created", 101, 15_000)));
    for (const events of seen) {
      expect(events.map((e) => e.message.seq)).toEqual(range(1, 101));
      for (const e of events.slice(0, 100)) expect(seqOfKey.get(e.message.client_message_id)).toBe(e.message.seq);
    }
    // Identical on all three sockets (bodies and seqs; status is per viewer), and nothing was repeated.
    const view = (events: any[]) => events.map((e) => [e.message.seq, e.message.id, e.message.message_body]);
    expect(view(seen[1]!)).toEqual(view(seen[0]!));
    expect(view(seen[2]!)).toEqual(view(seen[0]!));
    for (const s of sockets) {
      expect(created(s)).toHaveLength(101);
      expect(s.events.filter((e) => e.type === "error")).toEqual([]);
      s.ws.close(1000);
    }
  });
});

describe("resume", () => {
  it("a socket resuming with after_seq while sends continue gets every later message once: replay, ready, then live", async () => {
    const a = await login();
    const b = await login();
    const id = await conversation(a, b);
    for (let i = 1; i <= 5; i++) await send(id, a, `early ${i}`);

    // Keep four senders busy while sockets connect at different points of the stream.
    let stop = false;
    let sent = 0;
    const senders = Promise.all(
      range(1, 4).map(async (w) => {
        while (!stop) {
          await send(id, w % 2 ? a : b, `live ${w}.${sent++}`);
        }
      }),
    );
    const resumed: { after: number; socket: Socket }[] = [];
    for (const after of [0, 2, 5, 0, 2, 5, 0, 2, 5, 0, 2, 5]) {
      const { res, socket } = await openSocket(id, { token: (after % 2 ? a : b).token, afterSeq: after });
      expect(res.status).toBe(101);
      resumed.push({ after, socket: socket! });
    }
    for (const { socket } of resumed) await socket.next((e) => e.type === "ready");
    // Let live messages flow past the seam too.
    const readyAt = Math.max(...resumed.map(({ socket }) => seam(socket).ready.last_seq as number));
    await resumed[0]!.socket.next((e) => e.type === "message.created" && e.message.seq >= readyAt + 5, 10_000);
    stop = true;
    await senders;
    const last = (await send(id, a, "last")).seq;

    for (const { after, socket } of resumed) {
      await socket.next((e) => e.type === "message.created" && e.message.seq === last);
      const { before, ready, after: live } = seam(socket);
      expect(ready).toMatchObject({ type: "ready", change_seq: 0 });
      const top = ready.last_seq as number;
      expect(top).toBeGreaterThanOrEqual(5);
      // Replay: exactly after+1..top; live: exactly top+1..last. No gap and no duplicate at the seam.
      expect(before).toEqual(range(after + 1, top));
      expect(live).toEqual(range(top + 1, last));
      expect(socket.events.some((e) => e.type === "resync")).toBe(false);
      socket.ws.close(1000);
    }
    // The bodies replayed are the stored ones.
    const replayed = created(resumed[0]!.socket).slice(0, 5).map((e) => e.message.message_body);
    expect(replayed).toEqual(range(1, 5).map((i) => `early ${i}`));
  });

  it("a socket further behind than the replay limit gets resync instead of a replay", async () => {
    const a = await login();
    const b = await login();
    const id = await conversation(a, b);
    // Seeded straight into the conversation's shard before the room ever loads this conversation, so it reads them fresh.
    const total = REPLAY_LIMIT + 5;
    const { d1 } = await shardOf(id);
    const insert = d1.prepare("INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) VALUES (?, ?, ?, ?, ?)");
    const now = Date.now();
    for (let start = 1; start <= total; start += 250) {
      await d1.batch(range(start, Math.min(total, start + 249)).map((seq) => insert.bind(id, seq, a.user.id, `seeded ${seq}`, now)));
    }
    await env.DB.prepare("UPDATE conversations SET last_seq = ?, last_message_at = ? WHERE id = ?").bind(total, now, id).run();

    // One past the limit: resync, then ready at the top, and no history.
    const behind = await openReady(id, { token: b.token, afterSeq: total - REPLAY_LIMIT - 1 });
    expect(behind.events[0]).toEqual({ type: "resync", last_seq: total });
    expect(behind.events.find((e) => e.type === "ready")).toMatchObject({ last_seq: total });
    expect(created(behind)).toEqual([]);

    // Exactly at the limit: the whole replay, in order, and no resync.
    const { res, socket } = await openSocket(id, { token: b.token, afterSeq: total - REPLAY_LIMIT });
    expect(res.status).toBe(101);
    await collect(socket!, (e) => e.type === "ready", 1, 20_000);
    const { before, ready } = seam(socket!);
    expect(before).toEqual(range(total - REPLAY_LIMIT + 1, total));
    expect(ready.last_seq).toBe(total);
    expect(socket!.events.some((e) => e.type === "resync")).toBe(false);

    // Both go live from there.
    const live = await send(id, a, "after the seed");
    expect(live.seq).toBe(total + 1);
    for (const s of [behind, socket!]) {
      expect((await s.next((e) => e.type === "message.created" && e.message.seq === total + 1)).message.message_body).toBe("after the seed");
      s.ws.close(1000);
    }
  });

  it("edits and deletes of older messages made while away are replayed after after_change, and ready carries change_seq", async () => {
    const a = await login();
    const b = await login();
    const id = await conversation(a, b);
    const [m1, m2, m3] = [await send(id, a, "one"), await send(id, a, "two"), await send(id, a, "three")];
    const first = await openReady(id, { token: b.token });
    const ready = first.events.find((e) => e.type === "ready");
    expect(ready).toMatchObject({ last_seq: 3, change_seq: 0 });
    first.ws.close(1000);

    // While b is away: an edit, a delete, and a new message.
    expect((await api(`/api/conversations/${id}/messages/${m1!.id}/`, { method: "PATCH", token: a.token, json: { message_body: "one, edited" } })).status).toBe(200);
    expect((await api(`/api/conversations/${id}/messages/${m2!.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    await send(id, a, "four");

    const back = await openReady(id, { token: b.token, afterSeq: 3, afterChange: 0 });
    const kinds = back.events.map((e) => [e.type, e.message?.seq]);
    expect(kinds).toEqual([
      ["message.created", 4],
      ["message.updated", 1],
      ["message.deleted", 2],
      ["ready", undefined],
    ]);
    expect(back.events[1].message).toMatchObject({ id: m1!.id, message_body: "one, edited", deleted: false });
    expect(back.events[1].message.edited_at).not.toBeNull();
    expect(back.events[2].message).toMatchObject({ id: m2!.id, message_body: "", deleted: true });
    expect(back.events[3]).toMatchObject({ last_seq: 4, change_seq: 2 });

    // Only the changes after the one given; none at all without after_change.
    const partly = await openReady(id, { token: b.token, afterSeq: 4, afterChange: 1 });
    expect(partly.events.map((e) => e.type)).toEqual(["message.deleted", "ready"]);
    const plain = await openReady(id, { token: b.token, afterSeq: 4 });
    expect(plain.events.map((e) => e.type)).toEqual(["ready"]);
    // A live edit reaches connected sockets as message.updated.
    expect((await api(`/api/conversations/${id}/messages/${m3!.id}/`, { method: "PATCH", token: a.token, json: { message_body: "three, edited" } })).status).toBe(200);
    expect((await plain.next((e) => e.type === "message.updated")).message).toMatchObject({ id: m3!.id, message_body: "three, edited" });
    for (const s of [back, partly, plain]) s.ws.close(1000);
  });
});

describe("tickets", () => {
  it("a ticket opens one socket as its user, once; an expired, foreign or reused ticket is 401; a stranger gets 404", async () => {
    const a = await login();
    const b = await login();
    const stranger = await login();
    const id = await conversation(a, b);
    const other = await conversation(a, b);

    const res = await api("/api/realtime/tickets/", { method: "POST", token: b.token, json: { conversation: id } });
    expect(res.status).toBe(201);
    const { ticket, expires_at } = (await res.json()) as { ticket: string; expires_at: string };
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());

    const socket = await openReady(id, { ticket });
    socket.send({ type: "send", message_body: "via ticket", client_message_id: "t1" });
    expect((await socket.next((e) => e.type === "ack")).message.sender.id).toBe(b.user.id);
    // Spent: a second use is refused before the upgrade.
    const again = await openSocket(id, { ticket });
    expect(again.res.status).toBe(401);
    expect(again.socket).toBeNull();

    // Expired (its stored expiry moved into the past).
    const late = (await (await api("/api/realtime/tickets/", { method: "POST", token: b.token, json: { conversation: id } })).json()) as { ticket: string };
    await runInDurableObject(env.CONVERSATION_ROOM.getByName(`conversation:${id}`), async (_instance, state) => {
      const key = `ticket:${hashSecret(late.ticket)}`;
      const stored = await state.storage.get<{ expiresAt: number }>(key);
      expect(stored).toBeDefined();
      await state.storage.put(key, { ...stored, expiresAt: Date.now() - 1000 });
    });
    expect((await openSocket(id, { ticket: late.ticket })).res.status).toBe(401);

    // A ticket belongs to its conversation's room.
    const foreign = (await (await api("/api/realtime/tickets/", { method: "POST", token: b.token, json: { conversation: other } })).json()) as { ticket: string };
    expect((await openSocket(id, { ticket: foreign.ticket })).res.status).toBe(401);
    expect((await openSocket(other, { ticket: foreign.ticket })).res.status).toBe(101);
    expect((await openSocket(id, { ticket: "not-a-ticket" })).res.status).toBe(401);

    // Someone outside the conversation cannot get one.
    expect((await api("/api/realtime/tickets/", { method: "POST", token: stranger.token, json: { conversation: id } })).status).toBe(404);
    expect((await api("/api/realtime/tickets/", { method: "POST", json: { conversation: id } })).status).toBe(401);
    socket.ws.close(1000);
  });
});

describe("refused before upgrade", () => {
  it("refuses strangers, missing tokens, tokens without read:messages, foreign origins and non-upgrade requests", async () => {
    const a = await login();
    const b = await login();
    const stranger = await login();
    const sendOnly = await login({ user: b.user, scopes: ["send:messages"] });
    const id = await conversation(a, b);

    const refused = async (auth: Parameters<typeof openSocket>[1], status: number) => {
      const { res, socket } = await openSocket(id, auth);
      expect(res.status).toBe(status);
      expect(socket).toBeNull();
      return res;
    };
    await refused({ token: stranger.token }, 404);
    const anonymous = await refused({}, 401);
    expect(anonymous.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    await refused({ token: "not-a-token" }, 401);
    await refused({ token: sendOnly.token }, 403);
    await refused({ token: b.token, origin: "https://evil.example" }, 403);
    // A conversation that does not exist is as unknown as one the caller is not in.
    expect((await openSocket(id + 1000, { token: b.token })).res.status).toBe(404);

    const plainGet = await api(`/api/conversations/${id}/ws/`, { token: b.token });
    expect(plainGet.status).toBe(426);
    expect(plainGet.headers.get("Upgrade")).toBe("websocket");

    // The app's own origin, and no Origin at all (not a browser), are allowed.
    const own = await openReady(id, { token: b.token, origin: "http://hey.test" });
    const native = await openReady(id, { token: b.token });
    own.ws.close(1000);
    native.ws.close(1000);
  });
});

describe("receipts and typing", () => {
  it("a flush tells each viewer how far its own messages got, in one small status frame, only when that moved", async () => {
    const a = await login();
    const b = await login();
    const c = await login();
    const id = await conversation(a, b, c);
    const sa = await openReady(id, { token: a.token });
    const sb = await openReady(id, { token: b.token });

    // Only b is connected: b's watermark moves, c's does not, so for a the message is still "sent".
    const m1 = await send(id, a, "one");
    await sb.next((e) => e.type === "message.created" && e.message.seq === 1);
    const status = async (m: Message, viewer: Session) => ((await (await api(`/api/conversations/${id}/messages/${m.id}/`, { token: viewer.token })).json()) as Message).status;
    expect(await status(m1, a)).toBe("sent");
    expect(await status(m1, b)).toBe("delivered");
    // a's progress did not move (c has nothing), so a got no status frame; b's own messages: none.
    expect(sa.events.filter((e) => e.type === "status")).toEqual([]);

    // With c connected too, the next flush delivers to both: a learns its messages up to 2 are delivered.
    const sc = await openReady(id, { token: c.token });
    const m2 = await send(id, a, "two");
    expect(await sa.next((e) => e.type === "status")).toEqual({ type: "status", delivered_up_to: 2, read_up_to: 0 });
    expect(await status(m2, a)).toBe("delivered");
    expect(await status(m1, a)).toBe("delivered");
    // The sender's own live event already shows it delivered.
    expect((await sa.next((e) => e.type === "message.created" && e.message.seq === 2)).message.status).toBe("delivered");
    await sc.next((e) => e.type === "message.created" && e.message.seq === 2);
    expect(sa.events.filter((e) => e.type === "status")).toHaveLength(1);

    sa.ws.close(1000);
    sb.ws.close(1000);
    sc.ws.close(1000);
  });

  it("status frames stay the same size however many members there are", async () => {
    const owner = await login();
    const others = await Promise.all(Array.from({ length: 12 }, () => login()));
    const id = await conversation(owner, ...others);
    const sockets = await Promise.all([owner, ...others].map((m) => openReady(id, { token: m.token })));
    await send(id, owner, "to everyone");
    const frame = await sockets[0]!.next((e) => e.type === "status");
    expect(Object.keys(frame).sort()).toEqual(["delivered_up_to", "read_up_to", "type"]);
    // Every other member gets the message and at most one status frame from this flush.
    for (const s of sockets.slice(1)) {
      await s.next((e) => e.type === "message.created");
      expect(s.events.filter((e) => e.type === "status").length).toBeLessThanOrEqual(1);
    }
    for (const s of sockets) s.ws.close(1000);
  });

  it("a receipt frame moves the reader's watermarks and the senders' progress; typing reaches the others but not the typist", async () => {
    const a = await login();
    const b = await login();
    const c = await login();
    const id = await conversation(a, b, c);
    await send(id, a, "one");
    await send(id, a, "two");
    const [sa, sb, sc] = [await openReady(id, { token: a.token }), await openReady(id, { token: b.token }), await openReady(id, { token: c.token })];

    sb.send({ type: "receipt", read_up_to: 1 });
    await until(async () => ((await (await api(`/api/conversations/${id}/messages/?after_seq=0`, { token: b.token })).json()) as { results: Message[] }).results[0]!.status === "read");
    const read = (await (await api(`/api/conversations/${id}/messages/?after_seq=0`, { token: a.token })).json()) as { results: Message[] };
    expect(read.results.map((m) => m.status)).toEqual(["sent", "sent"]); // c has read nothing yet
    const asB = (await (await api(`/api/conversations/${id}/messages/?after_seq=0`, { token: b.token })).json()) as { results: Message[] };
    expect(asB.results.map((m) => m.status)).toEqual(["read", "sent"]);
    // Once c has read 1 too, a (who sent it) learns its messages up to 1 are read by everyone.
    sc.send({ type: "receipt", read_up_to: 1 });
    expect(await sa.next((e) => e.type === "status" && e.read_up_to === 1)).toEqual({ type: "status", delivered_up_to: 1, read_up_to: 1 });

    sb.send({ type: "typing" });
    for (const s of [sa, sc]) {
      const typing = await s.next((e) => e.type === "typing");
      expect(typing.user).toBe(b.user.id);
      expect(Date.parse(typing.until)).toBeGreaterThan(Date.now());
    }
    // The typist's next answer comes after the typing broadcast: no typing event reached it before.
    sb.send({ type: "send", message_body: "done typing", client_message_id: "d1" });
    await sb.next((e) => e.type === "ack");
    expect(sb.events.some((e) => e.type === "typing")).toBe(false);
    for (const s of [sa, sb, sc]) s.ws.close(1000);
  });
});

describe("bad frames", () => {
  it("invalid JSON, an unknown type, an empty send and a binary frame each get an error and the socket stays open", async () => {
    const a = await login();
    const b = await login();
    const id = await conversation(a, b);
    const s = await openReady(id, { token: b.token });
    const bad: [unknown, string][] = [
      ["{not json", "invalid_json"],
      [{ type: "shout", text: "hi" }, "unknown_type"],
      [{ type: "send", message_body: "", client_message_id: "e1" }, "invalid_frame"],
      [{ type: "receipt" }, "invalid_frame"],
      [new Uint8Array([1, 2, 3]), "invalid_frame"],
    ];
    for (const [i, [frame, code]] of bad.entries()) {
      if (frame instanceof Uint8Array) s.ws.send(frame);
      else s.send(frame);
      const errors = await collect(s, (e) => e.type === "error", i + 1);
      expect(errors[i]).toMatchObject({ type: "error", code });
      expect(typeof errors[i].detail).toBe("string");
    }
    expect(s.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    s.send({ type: "send", message_body: "still here", client_message_id: "ok1" });
    expect((await s.next((e) => e.type === "ack")).message).toMatchObject({ seq: 1, message_body: "still here" });
    // Nothing bad was stored.
    const list = (await (await api(`/api/conversations/${id}/messages/?after_seq=0`, { token: a.token })).json()) as { results: Message[] };
    expect(list.results.map((m) => m.message_body)).toEqual(["still here"]);
    s.ws.close(1000);
  });

  it("a frame over 16 KiB closes the socket with 1009", async () => {
    const a = await login();
    const b = await login();
    const id = await conversation(a, b);
    const s = await openReady(id, { token: b.token });
    // Just over the limit in bytes, though the JSON is otherwise a valid send.
    const frame = JSON.stringify({ type: "send", message_body: "x".repeat(MAX_FRAME_BYTES), client_message_id: "big" });
    expect(new TextEncoder().encode(frame).length).toBeGreaterThan(MAX_FRAME_BYTES);
    s.send(frame);
    expect((await closedWithin(s)).code).toBe(1009);
    expect(s.events.some((e) => e.type === "ack")).toBe(false);
  });

  it("frames beyond the budget get rate_limited with retry_after and the socket stays open; only a gross flood closes it with 1008", async () => {
    const a = await login();
    const id = await conversation(a);
    const burst = config(env).WS_FRAME_BURST;
    // An empty receipt is answered with an error on its own socket, so each frame handled shows there.
    const frame = { type: "receipt" };
    const burster = await openReady(id, { token: a.token });
    for (let i = 0; i < 2 * burst; i++) burster.send(frame);
    const answers = await collect(burster, (e) => e.type === "error", 2 * burst);
    const limited = answers.filter((e) => e.code === "rate_limited");
    expect(limited.length).toBeGreaterThan(burst / 2);
    expect(limited[0]).toMatchObject({ retry_after: expect.any(Number) });
    expect(limited[0].retry_after).toBeGreaterThanOrEqual(1);
    expect(burster.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);

    const flooder = await openReady(id, { token: a.token });
    for (let i = 0; i < 12 * burst; i++) flooder.send(frame);
    expect((await closedWithin(flooder)).code).toBe(1008);
    expect(burster.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    burster.ws.close(1000);
  });

  it("a send over a token without send:messages gets an insufficient_scope error", async () => {
    const a = await login();
    const b = await login();
    const readOnly = await login({ user: b.user, scopes: ["read:messages"] });
    const id = await conversation(a, b);
    const s = await openReady(id, { token: readOnly.token });
    s.send({ type: "send", message_body: "may I?", client_message_id: "nope" });
    expect(await s.next((e) => e.type === "error")).toMatchObject({ code: "insufficient_scope", client_message_id: "nope" });
    // Reading still works: receipts need only read:messages.
    await send(id, a, "hello");
    s.send({ type: "receipt", read_up_to: 1 });
    await until(async () => ((await (await api(`/api/conversations/${id}/messages/?after_seq=0`, { token: b.token })).json()) as { results: Message[] }).results[0]?.status === "read");
    const list = (await (await api(`/api/conversations/${id}/messages/?after_seq=0`, { token: a.token })).json()) as { results: Message[] };
    expect(list.results.map((m) => m.message_body)).toEqual(["hello"]);
    s.ws.close(1000);
  });
});
