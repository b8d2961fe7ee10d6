// Pins (issue 13): any participant pins and unpins a conversation's messages; GET …/pins/ lists them,
// most recently pinned first. What a user notices: pinned_at/pinned_by, the order, the 50-pin cap, deleted
// messages, strangers, scopes, and the live message.pinned / message.unpinned events.
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { MessageResource } from "../src/messages/schemas";
import { json, member, send, start } from "./support/conversations";
import { api, problemOf } from "./support/http";
import { login } from "./support/oauth";
import { apiIdOf, localId, shardOfId, sleep } from "./support/shards";
import { collect, openReady } from "./support/ws";

type Message = MessageResource;
type Member = Awaited<ReturnType<typeof member>>;

// Logins run PBKDF2 and every test makes dozens of real requests: generous limits, nothing here is timed.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let a: Member, b: Member, stranger: Member;

beforeAll(async () => {
  [a, b, stranger] = await Promise.all([member(), member(), member()]);
});

const pinPath = (conversation: number, message: number) => `/api/conversations/${conversation}/pins/${message}/`;
const pinsPath = (conversation: number) => `/api/conversations/${conversation}/pins/`;

/** PUT (pin) or DELETE (unpin) as `who`: the raw response. */
const pin = (who: { token: string }, conversation: number, message: number, method: "PUT" | "DELETE" = "PUT") => api(pinPath(conversation, message), { method, token: who.token });

/** Pins (or unpins) and expects 200 with the message. */
async function pinned(who: { token: string }, conversation: number, message: number, method: "PUT" | "DELETE" = "PUT"): Promise<Message> {
  const res = await pin(who, conversation, message, method);
  expect(res.status, `${method} pin ${message}: ${await res.clone().text()}`).toBe(200);
  return json<Message>(res);
}

async function read<T>(who: { token: string }, path: string): Promise<T> {
  const res = await api(path, { token: who.token });
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return json<T>(res);
}

const pinsOf = (who: { token: string }, conversation: number) => read<Message[]>(who, pinsPath(conversation));
const detail = (who: Member, conversation: number, id: number) => read<Message>(who, `/api/conversations/${conversation}/messages/${id}/`);

async function remove(who: Member, conversation: number, id: number) {
  expect((await api(`/api/conversations/${conversation}/messages/${id}/`, { method: "DELETE", token: who.token })).status).toBe(204);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Lets the clock move, so the next pin gets a later pinned_at than the previous one. */
const tick = () => sleep(5);

describe("pinning", () => {
  it("any participant pins and unpins; pinned_at and pinned_by are set, and doing it again changes nothing", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "pin me");
    expect(m).toMatchObject({ pinned_at: null, pinned_by: null });

    // b is not the owner, nor the sender.
    const on = await pinned(b, conversation, m.id);
    expect(on.pinned_by).toBe(b.user.id);
    expect(on.pinned_at).not.toBeNull();
    expect(Date.parse(on.pinned_at!)).toBeGreaterThanOrEqual(Date.parse(m.sent_at));
    expect(on).toMatchObject({ id: m.id, message_body: "pin me", deleted: false });
    expect((await detail(a, conversation, m.id))).toMatchObject({ pinned_at: on.pinned_at, pinned_by: b.user.id });

    // Pinned again, by anyone: still b's pin, from when b pinned it.
    await tick();
    expect(await pinned(a, conversation, m.id)).toMatchObject({ pinned_at: on.pinned_at, pinned_by: b.user.id });
    expect(await pinned(b, conversation, m.id)).toMatchObject({ pinned_at: on.pinned_at, pinned_by: b.user.id });

    const off = await pinned(a, conversation, m.id, "DELETE");
    expect(off).toMatchObject({ id: m.id, pinned_at: null, pinned_by: null });
    expect(await pinned(b, conversation, m.id, "DELETE")).toMatchObject({ pinned_at: null, pinned_by: null });
    expect(await detail(b, conversation, m.id)).toMatchObject({ pinned_at: null, pinned_by: null });
    expect(await pinsOf(a, conversation)).toEqual([]);
  });

  it("lists the pins most recently pinned first, each as the message reads", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const [m1, m2, m3] = [await send(a, conversation, "one"), await send(b, conversation, "two"), await send(a, conversation, "three")];

    await pinned(a, conversation, m1.id);
    await tick();
    await pinned(b, conversation, m3.id);
    await tick();
    await pinned(a, conversation, m2.id);
    const list = await pinsOf(b, conversation);
    expect(list.map((m) => m.id)).toEqual([m2.id, m3.id, m1.id]);
    expect(list.map((m) => m.pinned_by)).toEqual([a.user.id, b.user.id, a.user.id]);
    for (const m of list) expect(m).toEqual(await detail(b, conversation, m.id));

    // Unpinned, it leaves the list; pinned again, it comes first.
    await pinned(b, conversation, m3.id, "DELETE");
    expect((await pinsOf(a, conversation)).map((m) => m.id)).toEqual([m2.id, m1.id]);
    await tick();
    await pinned(b, conversation, m1.id, "DELETE");
    await pinned(b, conversation, m1.id);
    expect((await pinsOf(a, conversation)).map((m) => [m.id, m.pinned_by])).toEqual([
      [m1.id, b.user.id],
      [m2.id, a.user.id],
    ]);
    // Pinning one already pinned does not move it.
    await tick();
    await pinned(a, conversation, m2.id);
    expect((await pinsOf(a, conversation)).map((m) => m.id)).toEqual([m1.id, m2.id]);
  });

  it("keeps at most 50 pins: the 51st is 409, re-pinning a pinned one still works, and unpinning one makes room", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const messages = await Promise.all(range(52).map((i) => send(i % 2 ? a : b, conversation, `message ${i}`)));
    await Promise.all(messages.slice(0, 50).map((m) => pinned(m.seq % 2 ? b : a, conversation, m.id)));
    expect(await pinsOf(a, conversation)).toHaveLength(50);

    const over = await pin(b, conversation, messages[50]!.id);
    expect(over.status).toBe(409);
    expect((await problemOf(over)).body.detail).toMatch(/50/);
    expect(await detail(a, conversation, messages[50]!.id)).toMatchObject({ pinned_at: null, pinned_by: null });
    // One that is pinned already: still 200, still pinned.
    expect((await pinned(a, conversation, messages[10]!.id)).pinned_at).not.toBeNull();
    expect(await pinsOf(b, conversation)).toHaveLength(50);

    await pinned(a, conversation, messages[0]!.id, "DELETE");
    await tick();
    expect((await pinned(b, conversation, messages[50]!.id)).pinned_by).toBe(b.user.id);
    const list = await pinsOf(b, conversation);
    expect(list).toHaveLength(50);
    expect(list[0]!.id).toBe(messages[50]!.id);
    expect(list.map((m) => m.id)).not.toContain(messages[0]!.id);
    expect((await pin(a, conversation, messages[51]!.id)).status).toBe(409);
  });

  it("never goes past 50 pins, even when 51 are asked for at once", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const messages = await Promise.all(range(51).map((i) => send(a, conversation, `message ${i}`)));
    const answers = await Promise.all(messages.map((m, i) => pin(i % 2 ? a : b, conversation, m.id)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 409)).toHaveLength(1);
    expect(await pinsOf(a, conversation)).toHaveLength(50);
  });

  it("can't pin a deleted message (409), and deleting a pinned message unpins it", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const [keep, doomed, gone] = [await send(a, conversation, "keep"), await send(b, conversation, "doomed"), await send(a, conversation, "gone")];
    await pinned(a, conversation, keep.id);
    await tick();
    await pinned(a, conversation, doomed.id);
    await remove(a, conversation, gone.id);

    const res = await pin(b, conversation, gone.id);
    expect(res.status).toBe(409);
    expect((await problemOf(res)).body.detail).toMatch(/deleted/);

    // b deletes their own pinned message: it leaves the pins, and reads unpinned.
    await remove(b, conversation, doomed.id);
    expect((await pinsOf(a, conversation)).map((m) => m.id)).toEqual([keep.id]);
    expect(await detail(a, conversation, doomed.id)).toMatchObject({ deleted: true, pinned_at: null, pinned_by: null });
    expect((await pin(a, conversation, doomed.id)).status).toBe(409);
  });

  it("is 404 to a stranger (pin, unpin, the list), with the same body as for a message that does not exist", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "members only");
    await pinned(a, conversation, m.id);
    const other = (await start(stranger, [b.user.id])).id;
    const theirs = await send(stranger, other, "the stranger's own");

    const missing = await pin(a, conversation, apiIdOf(localId(m.id) + 100_000, shardOfId(m.id)));
    expect(missing.status).toBe(404);
    const missingBody = (await problemOf(missing)).body;
    for (const method of ["PUT", "DELETE"] as const) {
      const res = await pin(stranger, conversation, m.id, method);
      expect(res.status).toBe(404);
      expect((await problemOf(res)).body).toEqual(missingBody);
    }
    const list = await api(pinsPath(conversation), { token: stranger.token });
    expect(list.status).toBe(404);
    expect(await list.text()).not.toContain("members only");
    // A message of another conversation, named under this one, is missing too.
    const foreign = await pin(a, conversation, theirs.id);
    expect(foreign.status).toBe(404);
    expect((await problemOf(foreign)).body).toEqual(missingBody);
    // Nothing changed.
    expect((await pinsOf(b, conversation)).map((x) => [x.id, x.pinned_by])).toEqual([[m.id, a.user.id]]);
    expect(await pinsOf(stranger, other)).toEqual([]);
  });

  it("needs send:messages to pin or unpin (403), read:messages to list", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "scoped");
    await pinned(b, conversation, m.id);
    const [readOnly, sendOnly] = await Promise.all([login({ user: a.user, scopes: ["read:messages"] }), login({ user: a.user, scopes: ["send:messages"] })]);
    for (const method of ["PUT", "DELETE"] as const) expect((await pin(readOnly, conversation, m.id, method)).status).toBe(403);
    expect((await pinsOf(readOnly, conversation)).map((x) => x.id)).toEqual([m.id]);
    expect((await api(pinsPath(conversation), { token: sendOnly.token })).status).toBe(403);
    expect(await pinned(sendOnly, conversation, m.id, "DELETE")).toMatchObject({ pinned_at: null });
  });
});

describe("pins on the conversation socket", () => {
  it("every socket gets message.pinned / message.unpinned with the message, once per change", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m1 = await send(a, conversation, "one");
    const m2 = await send(b, conversation, "two");
    const [sa, sb] = await Promise.all([openReady(conversation, { token: a.token }), openReady(conversation, { token: b.token })]);

    await pinned(b, conversation, m1.id);
    await pinned(a, conversation, m1.id); // no change, no event
    await pinned(a, conversation, m2.id);
    await pinned(a, conversation, m1.id, "DELETE");
    await pinned(b, conversation, m1.id, "DELETE"); // no change, no event
    await remove(b, conversation, m2.id); // a pinned message deleted: message.deleted, not pinned

    const pinEvents = (e: any) => e.type === "message.pinned" || e.type === "message.unpinned";
    for (const s of [sa, sb]) {
      await s.next((e) => e.type === "message.deleted");
      const events = await collect(s, pinEvents, 3);
      expect(events.map((e) => [e.type, e.message.id, e.message.pinned_by])).toEqual([
        ["message.pinned", m1.id, b.user.id],
        ["message.pinned", m2.id, a.user.id],
        ["message.unpinned", m1.id, null],
      ]);
      expect(s.events.filter(pinEvents)).toHaveLength(3);
      expect(events[0].message).toMatchObject({ message_body: "one", deleted: false });
      expect(events[0].message.pinned_at).not.toBeNull();
      expect(events[2].message.pinned_at).toBeNull();
      expect(s.events.find((e) => e.type === "message.deleted").message).toMatchObject({ id: m2.id, deleted: true, pinned_at: null, pinned_by: null });
    }
    for (const s of [sa, sb]) s.ws.close(1000);
  });
});
