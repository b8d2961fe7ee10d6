import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { api, problemOf } from "./support/http";
import { json, member, send, start } from "./support/conversations";
import { login } from "./support/oauth";
import { shardOf } from "./support/shards";

type Conversation = {
  id: number;
  title: string | null;
  owner: number;
  participants: { id: number; first_name: string; last_name: string }[];
  created_at: string;
  updated_at: string;
  last_seq: number;
  last_message_at: string | null;
  last_activity_at: string;
};
type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };

type Login = Awaited<ReturnType<typeof member>>;

// Each test signs people up and logs them in through the real OAuth pages (PBKDF2 on every password):
// seconds when the machine is busy, so the default 5 s limit is too tight. Nothing here measures time.
vi.setConfig({ testTimeout: 30_000 });




async function listIds(who: { token: string }, query = ""): Promise<number[]> {
  const res = await api(`/api/conversations/${query}`, { token: who.token });
  expect(res.status).toBe(200);
  return (await json<Page<Conversation>>(res)).results.map((c) => c.id);
}

/** Lets the clock move, so the next write gets a later activity time than the previous one. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

const person = (who: Login) => ({ id: who.user.id, first_name: who.user.first_name, last_name: who.user.last_name });

describe("starting a conversation", () => {
  it("makes the caller its owner and a participant, and answers 201 with the conversation", async () => {
    const a = await member();
    const b = await member();
    const res = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id], title: "Lunch" } });
    expect(res.status).toBe(201);
    const conversation = await json<Conversation>(res);
    expect(conversation).toEqual({
      id: expect.any(Number),
      title: "Lunch",
      owner: a.user.id,
      participants: [person(a), person(b)],
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      last_seq: 0,
      last_message_at: null,
      last_activity_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      message_ttl_seconds: null,
    });
    // The other participant sees the very same conversation.
    const seen = await api(`/api/conversations/${conversation.id}/`, { token: b.token });
    expect(seen.status).toBe(200);
    expect(await seen.json()).toEqual(conversation);
  });

  it("has no title unless given one, and lists each person once even if named twice or self-named", async () => {
    const a = await member();
    const b = await member();
    const conversation = await start(a, [b.user.id, b.user.id, a.user.id]);
    expect(conversation.title).toBeNull();
    expect(conversation.participants.map((p) => p.id).sort((x, y) => x - y)).toEqual([a.user.id, b.user.id].sort((x, y) => x - y));
  });

  it("refuses unknown user ids with a 400 that names them, and creates nothing", async () => {
    const a = await member();
    const b = await member();
    const res = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id, 999_999, 888_888] } });
    expect(res.status).toBe(400);
    const { contentType, body } = await problemOf(res);
    expect(contentType).toBe("application/problem+json");
    expect(body.detail).toContain("999999");
    expect(body.detail).toContain("888888");
    expect(body.detail).not.toContain(String(b.user.id));
    expect(body.errors?.map((e) => e.message).join(" ")).toMatch(/999999[\s\S]*888888|888888[\s\S]*999999/);
    expect(await listIds(a)).toEqual([]);
    expect(await listIds(b)).toEqual([]);
  });

  it("refuses inactive users with a 400 that names them", async () => {
    const a = await member();
    const b = await member();
    const gone = await member();
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE id = ?").bind(gone.user.id).run();
    const res = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id, gone.user.id] } });
    expect(res.status).toBe(400);
    const { body } = await problemOf(res);
    expect(body.detail).toContain(String(gone.user.id));
    expect(body.errors).toEqual([{ path: "participants", message: expect.stringContaining(String(gone.user.id)) }]);
    expect(await listIds(b)).toEqual([]);
  });

  it("with reuse_direct creates the two-person conversation once (201), then returns it (200) to either side", async () => {
    const a = await member();
    const b = await member();
    const first = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id], reuse_direct: true } });
    expect(first.status).toBe(201);
    const direct = await json<Conversation>(first);

    const again = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id], reuse_direct: true } });
    expect(again.status).toBe(200);
    expect((await json<Conversation>(again)).id).toBe(direct.id);

    const fromB = await api("/api/conversations/", { method: "POST", token: b.token, json: { participants: [a.user.id], reuse_direct: true } });
    expect(fromB.status).toBe(200);
    const reused = await json<Conversation>(fromB);
    expect(reused.id).toBe(direct.id);
    expect(reused.owner).toBe(a.user.id);

    // Without the flag a new conversation is started.
    const fresh = await start(a, [b.user.id]);
    expect(fresh.id).not.toBe(direct.id);
  });

  it("with reuse_direct does not reuse a three-person conversation", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const group = await start(a, [b.user.id, c.user.id]);
    const res = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id], reuse_direct: true } });
    expect(res.status).toBe(201);
    const direct = await json<Conversation>(res);
    expect(direct.id).not.toBe(group.id);
    expect(direct.participants.map((p) => p.id).sort((x, y) => x - y)).toEqual([a.user.id, b.user.id].sort((x, y) => x - y));
  });

  it("answers invalid bodies with a 400 problem naming the field", async () => {
    const a = await member();
    const cases: [unknown, string][] = [
      [{}, "participants"],
      [{ participants: "2" }, "participants"],
      [{ participants: [0] }, "participants.0"],
      [{ participants: [1.5] }, "participants.0"],
      // 200 entries is over the limit even when they are all the caller (who is always in it anyway).
      [{ participants: Array<number>(200).fill(a.user.id) }, "participants"],
      [{ participants: [a.user.id], title: "x".repeat(201) }, "title"],
      [{ participants: [a.user.id], title: 7 }, "title"],
      [{ participants: [a.user.id], reuse_direct: "yes" }, "reuse_direct"],
    ];
    for (const [body, path] of cases) {
      const res = await api("/api/conversations/", { method: "POST", token: a.token, json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const problem = await problemOf(res);
      expect(problem.contentType).toBe("application/problem+json");
      expect(problem.body.errors?.map((e) => e.path), JSON.stringify(body)).toContain(path);
    }
    const malformed = await api("/api/conversations/", { method: "POST", token: a.token, headers: { "Content-Type": "application/json" }, body: "{participants:" });
    expect(malformed.status).toBe(400);
    expect((await problemOf(malformed)).contentType).toBe("application/problem+json");
    expect(await listIds(a)).toEqual([]);
  });
});

describe("the conversation list", () => {
  it("shows only the caller's conversations, newest activity first, and a send moves one to the top", async () => {
    const x = await member();
    const y = await member();
    const z = await member();
    const first = await start(x, [y.user.id]);
    await tick();
    const second = await start(x, [z.user.id]);
    await tick();
    const notMine = await start(y, [z.user.id]);
    expect(await listIds(x)).toEqual([second.id, first.id]);
    expect(await listIds(z)).toEqual([notMine.id, second.id]);

    await tick();
    await send(y, first.id, "bump");
    expect(await listIds(x)).toEqual([first.id, second.id]);
    expect(await listIds(y)).toEqual([first.id, notMine.id]);
  });

  it("is paged like DRF, and a page past the end is a 404", async () => {
    const a = await member();
    const b = await member();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      ids.unshift((await start(a, [b.user.id], { title: `c${i}` })).id);
      await tick();
    }
    const one = await json<Page<Conversation>>(await api("/api/conversations/?page_size=2", { token: a.token }));
    expect(one.count).toBe(3);
    expect(one.results.map((c) => c.id)).toEqual(ids.slice(0, 2));
    expect(one.previous).toBeNull();
    expect(one.next).not.toBeNull();
    const next = new URL(one.next!);
    expect(next.searchParams.get("page")).toBe("2");
    expect(next.searchParams.get("page_size")).toBe("2");

    const two = await json<Page<Conversation>>(await api(`${next.pathname}${next.search}`, { token: a.token }));
    expect(two.count).toBe(3);
    expect(two.results.map((c) => c.id)).toEqual(ids.slice(2));
    expect(two.next).toBeNull();
    expect(new URL(two.previous!).searchParams.get("page")).toBe("1");

    const past = await api("/api/conversations/?page=3&page_size=2", { token: a.token });
    expect(past.status).toBe(404);
    expect((await problemOf(past)).contentType).toBe("application/problem+json");

    for (const query of ["page=0", "page_size=101", "page=abc"]) {
      expect((await api(`/api/conversations/?${query}`, { token: a.token })).status, query).toBe(400);
    }
  });
});

describe("a stranger", () => {
  it("gets the same 404 as for a conversation that does not exist, everywhere, and changes nothing", async () => {
    const a = await member();
    const b = await member();
    const stranger = await member();
    const conversation = await start(a, [b.user.id], { title: "private" });
    const message = await send(a, conversation.id, "secret");
    const missing = conversation.id + 100_000;

    const requests = (id: number): [string, RequestInit & { json?: unknown }][] => [
      [`/api/conversations/${id}/`, {}],
      [`/api/conversations/${id}/`, { method: "PATCH", json: { title: "mine now" } }],
      [`/api/conversations/${id}/`, { method: "DELETE" }],
      [`/api/conversations/${id}/messages/`, {}],
      [`/api/conversations/${id}/messages/`, { method: "POST", json: { message_body: "hello?" } }],
      [`/api/conversations/${id}/messages/${message.id}/`, {}],
      [`/api/conversations/${id}/messages/${message.id}/receipts/`, {}],
      [`/api/conversations/${id}/receipts/`, { method: "POST", json: { read_up_to: 1 } }],
      [`/api/conversations/${id}/participants/`, { method: "POST", json: { user_id: stranger.user.id } }],
      [`/api/conversations/${id}/participants/${b.user.id}/`, { method: "DELETE" }],
      [`/api/conversations/${id}/participants/${stranger.user.id}/`, { method: "DELETE" }],
    ];
    const asStranger = requests(conversation.id);
    const asMissing = requests(missing);
    for (let i = 0; i < asStranger.length; i++) {
      const [path, init] = asStranger[i]!;
      const label = `${init.method ?? "GET"} ${path}`;
      const real = await api(path, { ...init, token: stranger.token });
      const none = await api(asMissing[i]![0], { ...init, token: stranger.token });
      expect(real.status, label).toBe(404);
      expect(none.status, label).toBe(404);
      expect(real.headers.get("Content-Type"), label).toBe("application/problem+json");
      expect(await real.json(), label).toEqual(await none.json());
    }

    const after = await json<Conversation>(await api(`/api/conversations/${conversation.id}/`, { token: b.token }));
    expect(after.title).toBe("private");
    expect(after.last_seq).toBe(1);
    expect(after.participants.map((p) => p.id)).toEqual(conversation.participants.map((p) => p.id));
    expect(await listIds(stranger)).toEqual([]);
  });
});

describe("renaming and deleting", () => {
  it("lets any participant rename the conversation, or clear its title", async () => {
    const a = await member();
    const b = await member();
    const conversation = await start(a, [b.user.id], { title: "old" });
    const renamed = await api(`/api/conversations/${conversation.id}/`, { method: "PATCH", token: b.token, json: { title: "  new  " } });
    expect(renamed.status).toBe(200);
    expect((await json<Conversation>(renamed)).title).toBe("new");
    expect((await json<Conversation>(await api(`/api/conversations/${conversation.id}/`, { token: a.token }))).title).toBe("new");

    const cleared = await api(`/api/conversations/${conversation.id}/`, { method: "PATCH", token: a.token, json: { title: null } });
    expect(cleared.status).toBe(200);
    expect((await json<Conversation>(cleared)).title).toBeNull();

    for (const body of [{}, { title: 5 }, { title: "x".repeat(201) }, { title: "ok", owner: b.user.id }]) {
      const res = await api(`/api/conversations/${conversation.id}/`, { method: "PATCH", token: a.token, json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await problemOf(res)).contentType).toBe("application/problem+json");
    }
    const unchanged = await json<Conversation>(await api(`/api/conversations/${conversation.id}/`, { token: a.token }));
    expect(unchanged.title).toBeNull();
    expect(unchanged.owner).toBe(a.user.id);
  });

  it("lets only the owner delete the conversation: another participant gets 403", async () => {
    const a = await member();
    const b = await member();
    const conversation = await start(a, [b.user.id]);
    const res = await api(`/api/conversations/${conversation.id}/`, { method: "DELETE", token: b.token });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).contentType).toBe("application/problem+json");
    expect((await api(`/api/conversations/${conversation.id}/`, { token: a.token })).status).toBe(200);
    expect((await api(`/api/conversations/${conversation.id}/`, { token: b.token })).status).toBe(200);
  });

  it("after the owner deletes it, everyone gets 404, its messages are purged, and a new conversation starts afresh", async () => {
    const a = await member();
    const b = await member();
    const conversation = await start(a, [b.user.id]);
    for (const body of ["one", "two", "three"]) await send(b, conversation.id, body);
    // Its messages are in its shard; the main database forgets which one once the conversation is gone.
    const { d1 } = await shardOf(conversation.id);
    const stored = () => d1.prepare("SELECT count(*) AS n FROM messages WHERE conversation_id = ?").bind(conversation.id).first<{ n: number }>();
    expect((await stored())?.n).toBe(3);

    const res = await api(`/api/conversations/${conversation.id}/`, { method: "DELETE", token: a.token });
    expect(res.status).toBe(204);
    for (const who of [a, b]) {
      expect((await api(`/api/conversations/${conversation.id}/`, { token: who.token })).status).toBe(404);
      expect((await api(`/api/conversations/${conversation.id}/messages/`, { token: who.token })).status).toBe(404);
      const sent = await api(`/api/conversations/${conversation.id}/messages/`, { method: "POST", token: who.token, json: { message_body: "anyone?" } });
      expect(sent.status).toBe(404);
      expect(await listIds(who)).not.toContain(conversation.id);
      const chats = await json<Page<{ conversation: { id: number } }>>(await api("/api/chats/", { token: who.token }));
      expect(chats.results.map((c) => c.conversation.id)).not.toContain(conversation.id);
    }

    const stub = env.CONVERSATION_ROOM.getByName(`conversation:${conversation.id}`);
    for (let runs = 0; await runDurableObjectAlarm(stub); runs++) expect(runs).toBeLessThan(10);
    expect((await stored())?.n).toBe(0);
    const row = await env.DB.prepare("SELECT id FROM conversations WHERE id = ?").bind(conversation.id).first();
    expect(row).toBeNull();

    // The deleted one had the highest id; AUTOINCREMENT never hands it out again.
    const next = await start(a, [b.user.id]);
    expect(next.id).toBeGreaterThan(conversation.id);
    expect(next.last_seq).toBe(0);
    expect((await send(a, next.id, "fresh start")).seq).toBe(1);
    expect((await api(`/api/conversations/${conversation.id}/`, { token: a.token })).status).toBe(404);
  });
});

describe("scopes", () => {
  it("a token without manage:conversations cannot start, rename or delete conversations or change members", async () => {
    const a = await member();
    const b = await member();
    const conversation = await start(a, [b.user.id], { title: "kept" });
    const weak = await login({ user: a.user, scopes: ["read:messages", "send:messages", "profile"] });

    const attempts: [string, RequestInit & { json?: unknown }][] = [
      ["/api/conversations/", { method: "POST", json: { participants: [b.user.id] } }],
      [`/api/conversations/${conversation.id}/`, { method: "PATCH", json: { title: "changed" } }],
      [`/api/conversations/${conversation.id}/`, { method: "DELETE" }],
      [`/api/conversations/${conversation.id}/participants/`, { method: "POST", json: { user_id: b.user.id } }],
      [`/api/conversations/${conversation.id}/participants/${b.user.id}/`, { method: "DELETE" }],
    ];
    for (const [path, init] of attempts) {
      const res = await api(path, { ...init, token: weak.token });
      const label = `${init.method} ${path}`;
      expect(res.status, label).toBe(403);
      expect(res.headers.get("WWW-Authenticate"), label).toContain('error="insufficient_scope"');
      expect(res.headers.get("WWW-Authenticate"), label).toContain('scope="manage:conversations"');
      expect((await problemOf(res)).contentType, label).toBe("application/problem+json");
    }
    // What the token may do still works, and nothing changed.
    expect(await listIds(weak)).toEqual([conversation.id]);
    const after = await json<Conversation>(await api(`/api/conversations/${conversation.id}/`, { token: weak.token }));
    expect(after.title).toBe("kept");
    expect(after.participants).toHaveLength(2);
  });

  it("a token without read:messages cannot list conversations or chats", async () => {
    const a = await member();
    const weak = await login({ user: a.user, scopes: ["send:messages", "manage:conversations"] });
    for (const path of ["/api/conversations/", "/api/chats/"]) {
      const res = await api(path, { token: weak.token });
      expect(res.status, path).toBe(403);
      expect(res.headers.get("WWW-Authenticate"), path).toContain('error="insufficient_scope"');
      expect(res.headers.get("WWW-Authenticate"), path).toContain('scope="read:messages"');
    }
    expect((await api("/api/conversations/", { method: "POST", token: weak.token, json: { participants: [] } })).status).toBe(201);
  });

  it("a token without send:messages cannot send, and nothing is stored", async () => {
    const a = await member();
    const b = await member();
    const conversation = await start(a, [b.user.id]);
    const weak = await login({ user: a.user, scopes: ["read:messages", "manage:conversations"] });
    const res = await api(`/api/conversations/${conversation.id}/messages/`, { method: "POST", token: weak.token, json: { message_body: "hi" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
    expect(res.headers.get("WWW-Authenticate")).toContain('scope="send:messages"');
    expect((await json<Conversation>(await api(`/api/conversations/${conversation.id}/`, { token: weak.token }))).last_seq).toBe(0);
  });
});
