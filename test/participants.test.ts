import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { api, problemOf } from "./support/http";
import { json, member, send, start } from "./support/conversations";

type Conversation = { id: number; owner: number; last_seq: number; participants: { id: number; first_name: string; last_name: string }[] };
type Message = { id: number; seq: number; status: string };
type Chat = { conversation: { id: number }; unread_count: number };
type Page<T> = { count: number; results: T[] };

type Login = Awaited<ReturnType<typeof member>>;

// Each test signs people up and logs them in through the real OAuth pages (PBKDF2 on every password):
// seconds when the machine is busy, so the default 5 s limit is too tight. Nothing here measures time.
vi.setConfig({ testTimeout: 30_000 });

const ids = (c: Conversation) => c.participants.map((p) => p.id).sort((x, y) => x - y);
const sorted = (...xs: number[]) => [...xs].sort((x, y) => x - y);



const add = (who: Login, conversationId: number, userId: number) =>
  api(`/api/conversations/${conversationId}/participants/`, { method: "POST", token: who.token, json: { user_id: userId } });
const remove = (who: Login, conversationId: number, userId: number) =>
  api(`/api/conversations/${conversationId}/participants/${userId}/`, { method: "DELETE", token: who.token });
const show = async (who: Login, conversationId: number) => json<Conversation>(await api(`/api/conversations/${conversationId}/`, { token: who.token }));

/** Lets the clock move, so the next write gets a later time than the previous one. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("adding participants", () => {
  it("lets the owner add someone, who then sees the conversation", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const conversation = await start(a, [b.user.id]);
    expect((await api(`/api/conversations/${conversation.id}/`, { token: c.token })).status).toBe(404);

    const res = await add(a, conversation.id, c.user.id);
    expect(res.status).toBe(201);
    const after = await json<Conversation>(res);
    expect(ids(after)).toEqual(sorted(a.user.id, b.user.id, c.user.id));
    expect(after.participants).toContainEqual({ id: c.user.id, first_name: c.user.first_name, last_name: c.user.last_name });

    expect(ids(await show(c, conversation.id))).toEqual(ids(after));
    const list = await json<Page<Conversation>>(await api("/api/conversations/", { token: c.token }));
    expect(list.results.map((x) => x.id)).toEqual([conversation.id]);
    expect((await send(c, conversation.id, "hi all")).seq).toBe(1);
  });

  it("lets only the owner add people: another participant gets 403", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const conversation = await start(a, [b.user.id]);
    const res = await add(b, conversation.id, c.user.id);
    expect(res.status).toBe(403);
    expect((await problemOf(res)).contentType).toBe("application/problem+json");
    expect(ids(await show(a, conversation.id))).toEqual(sorted(a.user.id, b.user.id));
  });

  it("answers 409 for someone already in, and 400 for an unknown, inactive or malformed user", async () => {
    const a = await member();
    const b = await member();
    const gone = await member();
    const conversation = await start(a, [b.user.id]);
    for (const userId of [b.user.id, a.user.id]) {
      const res = await add(a, conversation.id, userId);
      expect(res.status).toBe(409);
      expect((await problemOf(res)).contentType).toBe("application/problem+json");
    }

    const unknown = await add(a, conversation.id, 999_999);
    expect(unknown.status).toBe(400);
    const problem = (await problemOf(unknown)).body;
    expect(problem.detail).toContain("999999");
    expect(problem.errors).toEqual([{ path: "user_id", message: expect.stringContaining("999999") }]);

    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE id = ?").bind(gone.user.id).run();
    const inactive = await add(a, conversation.id, gone.user.id);
    expect(inactive.status).toBe(400);
    expect((await problemOf(inactive)).body.detail).toContain(String(gone.user.id));

    for (const body of [{}, { user_id: "x" }, { user_id: 0 }, { user_id: b.user.id, role: "admin" }]) {
      const res = await api(`/api/conversations/${conversation.id}/participants/`, { method: "POST", token: a.token, json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(ids(await show(a, conversation.id))).toEqual(sorted(a.user.id, b.user.id));
  });

  it("a newcomer starts with nothing unread, and older messages keep the status their sender saw", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const conversation = await start(a, [b.user.id]);
    await send(a, conversation.id, "one");
    await send(a, conversation.id, "two");
    expect((await api(`/api/conversations/${conversation.id}/receipts/`, { method: "POST", token: b.token, json: { read_up_to: 1 } })).status).toBe(200);
    const statuses = async () =>
      (await json<Page<Message>>(await api(`/api/conversations/${conversation.id}/messages/`, { token: a.token }))).results.map((m) => m.status);
    expect(await statuses()).toEqual(["read", "sent"]);

    expect((await add(a, conversation.id, c.user.id)).status).toBe(201);
    const row = await env.DB.prepare("SELECT delivered_seq, read_seq FROM participants WHERE conversation_id = ? AND user_id = ?")
      .bind(conversation.id, c.user.id)
      .first<{ delivered_seq: number; read_seq: number }>();
    expect(row).toEqual({ delivered_seq: 2, read_seq: 2 });
    const chats = await json<Page<Chat>>(await api("/api/chats/", { token: c.token }));
    expect(chats.results).toEqual([expect.objectContaining({ conversation: expect.objectContaining({ id: conversation.id }), unread_count: 0 })]);
    expect(await statuses()).toEqual(["read", "sent"]);

    // Once b reads the rest, the newcomer holds nothing back: everything is read.
    await api(`/api/conversations/${conversation.id}/receipts/`, { method: "POST", token: b.token, json: { read_up_to: 2 } });
    expect(await statuses()).toEqual(["read", "read"]);
    // What arrives after joining is unread for the newcomer.
    await send(b, conversation.id, "welcome");
    const later = await json<Page<Chat>>(await api("/api/chats/", { token: c.token }));
    expect(later.results[0]?.unread_count).toBe(1);
  });
});

describe("removing participants", () => {
  it("lets the owner remove anyone, who then gets 404", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const conversation = await start(a, [b.user.id, c.user.id]);
    expect((await remove(a, conversation.id, b.user.id)).status).toBe(204);
    expect(ids(await show(a, conversation.id))).toEqual(sorted(a.user.id, c.user.id));
    expect((await api(`/api/conversations/${conversation.id}/`, { token: b.token })).status).toBe(404);
    expect((await api(`/api/conversations/${conversation.id}/messages/`, { token: b.token })).status).toBe(404);
    const sent = await api(`/api/conversations/${conversation.id}/messages/`, { method: "POST", token: b.token, json: { message_body: "still here?" } });
    expect(sent.status).toBe(404);
    expect((await json<Page<Conversation>>(await api("/api/conversations/", { token: b.token }))).count).toBe(0);
    expect((await json<Page<Chat>>(await api("/api/chats/", { token: b.token }))).count).toBe(0);
    // Removing them again, or someone never in it, is a 404.
    expect((await remove(a, conversation.id, b.user.id)).status).toBe(404);
  });

  it("lets a member leave, and then they get 404", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const conversation = await start(a, [b.user.id, c.user.id]);
    expect((await remove(c, conversation.id, c.user.id)).status).toBe(204);
    expect((await api(`/api/conversations/${conversation.id}/`, { token: c.token })).status).toBe(404);
    expect(ids(await show(b, conversation.id))).toEqual(sorted(a.user.id, b.user.id));
    expect((await show(b, conversation.id)).owner).toBe(a.user.id);
  });

  it("forbids a member from removing someone else (403)", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const conversation = await start(a, [b.user.id, c.user.id]);
    for (const victim of [c.user.id, a.user.id]) {
      const res = await remove(b, conversation.id, victim);
      expect(res.status).toBe(403);
      expect((await problemOf(res)).contentType).toBe("application/problem+json");
    }
    expect(ids(await show(a, conversation.id))).toEqual(sorted(a.user.id, b.user.id, c.user.id));
  });

  it("hands ownership to the longest-standing member when the owner leaves", async () => {
    const a = await member();
    const early = await member();
    const late = await member();
    // `late` signed up later (higher id) but joins first; `early` joins afterwards.
    const conversation = await start(a, [late.user.id]);
    await tick();
    expect((await add(a, conversation.id, early.user.id)).status).toBe(201);

    expect((await remove(a, conversation.id, a.user.id)).status).toBe(204);
    const after = await show(late, conversation.id);
    expect(after.owner).toBe(late.user.id);
    expect(ids(after)).toEqual(sorted(early.user.id, late.user.id));
    expect((await api(`/api/conversations/${conversation.id}/`, { token: a.token })).status).toBe(404);
    // The new owner has the owner's powers; the other member does not.
    expect((await add(early, conversation.id, a.user.id)).status).toBe(403);
    expect((await add(late, conversation.id, a.user.id)).status).toBe(201);
  });

  it("never lets the last participant leave (409), so a conversation always has someone in it", async () => {
    const a = await member();
    const b = await member();
    const conversation = await start(a, [b.user.id]);
    expect((await remove(a, conversation.id, b.user.id)).status).toBe(204);
    const res = await remove(a, conversation.id, a.user.id);
    expect(res.status).toBe(409);
    expect((await problemOf(res)).contentType).toBe("application/problem+json");
    const after = await show(a, conversation.id);
    expect(after.participants.map((p) => p.id)).toEqual([a.user.id]);
    expect(after.owner).toBe(a.user.id);

    const alone = await start(b, []);
    expect((await remove(b, alone.id, b.user.id)).status).toBe(409);
    expect((await api(`/api/conversations/${alone.id}/`, { token: b.token })).status).toBe(200);
  });

  it("keeps someone in the conversation, and an owner among them, when people leave at the same moment", async () => {
    const a = await member();
    const b = await member();
    const c = await member();
    const count = async (id: number) =>
      (await env.DB.prepare("SELECT count(*) AS n FROM participants WHERE conversation_id = ?").bind(id).first<{ n: number }>())?.n;
    // The overlap is up to the scheduler, so each case is tried a few times.
    for (let i = 0; i < 5; i++) {
      const pair = await start(a, [b.user.id]);
      const statuses = (await Promise.all([a, b].map((who) => remove(who, pair.id, who.user.id)))).map((r) => r.status);
      expect(statuses.sort()).toEqual([204, 409]);
      expect(await count(pair.id)).toBe(1);
      // Whoever stayed owns it.
      const left = (await env.DB.prepare("SELECT user_id, owner_id FROM participants JOIN conversations ON id = conversation_id WHERE conversation_id = ?")
        .bind(pair.id)
        .first<{ user_id: number; owner_id: number }>())!;
      expect(left.owner_id).toBe(left.user_id);

      const trio = await start(a, [b.user.id, c.user.id]);
      const both = await Promise.all([a, b].map((who) => remove(who, trio.id, who.user.id)));
      expect(both.map((r) => r.status)).toEqual([204, 204]);
      const after = await show(c, trio.id);
      expect(after.participants.map((p) => p.id)).toEqual([c.user.id]);
      expect(after.owner).toBe(c.user.id);
    }
  });
});
