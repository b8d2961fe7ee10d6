import { abortAllDurableObjects, env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { api, problemOf } from "./support/http";
import { login } from "./support/oauth";
import { apiIdOf, localId, settled, shardOf } from "./support/shards";

type Message = {
  id: number;
  conversation: number;
  seq: number;
  sender: { id: number; first_name: string; last_name: string };
  message_body: string;
  sent_at: string;
  edited_at: string | null;
  deleted: boolean;
  status: "pending" | "sent" | "delivered" | "read";
  client_message_id: string | null;
};
type Page = { count: number; next: string | null; previous: string | null; results: Message[] };
type Receipt = { user: { id: number; first_name: string; last_name: string }; delivered: boolean; delivered_at: string | null; read: boolean; read_at: string | null };
type Session = Awaited<ReturnType<typeof login>>;
/** login() types its user narrowly; the signed-up user it made carries its names too. */
const firstNameOf = (s: Session) => (s.user as Session["user"] & { first_name?: string }).first_name;

// Hundreds of real requests per test (and PBKDF2 at every login) on a small machine: generous limits.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let a: Session, b: Session, c: Session, stranger: Session;

beforeAll(async () => {
  [a, b, c, stranger] = await Promise.all([login(), login(), login(), login()]);
});

async function conversationOf(owner: Session, others: Session[]): Promise<number> {
  const res = await api("/api/conversations/", { method: "POST", token: owner.token, json: { participants: others.map((o) => o.user.id) } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

function send(who: Session, conversation: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api(`/api/conversations/${conversation}/messages/`, { method: "POST", token: who.token, json: body, headers });
}

async function sent(who: Session, conversation: number, message_body: string): Promise<Message> {
  const res = await send(who, conversation, { message_body });
  expect(res.status).toBe(201);
  return (await res.json()) as Message;
}

async function list(who: Session, conversation: number, query = "page_size=100"): Promise<Page> {
  const res = await api(`/api/conversations/${conversation}/messages/?${query}`, { token: who.token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The seqs the conversation's shard holds. */
async function storedSeqs(conversation: number): Promise<number[]> {
  const { d1 } = await shardOf(conversation);
  const { results } = await d1.prepare("SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq").bind(conversation).all<{ seq: number }>();
  return results.map((r) => r.seq);
}

/**
 * The last_seq of the conversation's row in the main database (what the chat list shows), once it
 * reached `expected`: a flush writes it right after the sends are answered. Returns what it holds then.
 */
async function lastSeqInD1(conversation: number, expected: number): Promise<number | undefined> {
  const read = async () => (await env.DB.prepare("SELECT last_seq FROM conversations WHERE id = ?").bind(conversation).first<{ last_seq: number }>())?.last_seq;
  return settled(read, (seq) => seq === expected);
}

describe("ordering", () => {
  it("gives 200 concurrent sends from three users the seqs 1..200 exactly, each stored with the body it was answered for", async () => {
    const id = await conversationOf(a, [b, c]);
    const senders = [a, b, c];
    const responses = await Promise.all(range(1, 200).map((i) => send(senders[i % 3]!, id, { message_body: `concurrent ${i}` })));
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 201));
    const answered = await Promise.all(responses.map((r) => r.json() as Promise<Message>));
    expect(answered.map((m) => m.seq).sort((x, y) => x - y)).toEqual(range(1, 200));
    expect(new Set(answered.map((m) => m.id)).size).toBe(200);

    const shard = await shardOf(id);
    const { results } = await shard.d1
      .prepare("SELECT id, seq, body, sender_id FROM messages WHERE conversation_id = ? ORDER BY seq")
      .bind(id)
      .all<{ id: number; seq: number; body: string; sender_id: number }>();
    expect(results.map((r) => r.seq)).toEqual(range(1, 200));
    const bySeq = new Map(answered.map((m) => [m.seq, m]));
    for (const row of results) {
      expect(apiIdOf(row.id, shard.index)).toBe(bySeq.get(row.seq)!.id);
      expect(row.body).toBe(bySeq.get(row.seq)!.message_body);
      expect(row.sender_id).toBe(bySeq.get(row.seq)!.sender.id);
    }
    expect(await lastSeqInD1(id, 200)).toBe(200);
  });

  it("rebuilds the room's counter from D1 after the room is evicted, with no gap and no duplicate", async () => {
    const id = await conversationOf(a, [b]);
    for (const body of ["one", "two", "three"]) await sent(a, id, body);
    await abortAllDurableObjects();
    expect((await sent(b, id, "after eviction")).seq).toBe(4);

    // The counter comes from D1 (the conversation's shard), not from memory nor the room's own storage:
    // a row written behind the room's back while it is evicted is counted.
    await abortAllDurableObjects();
    const { d1 } = await shardOf(id);
    await d1.prepare("INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) VALUES (?, 5, ?, 'written directly', ?)").bind(id, a.user.id, Date.now()).run();
    await env.DB.prepare("UPDATE conversations SET last_seq = 5 WHERE id = ?").bind(id).run();
    const after = await Promise.all(range(1, 5).map((i) => send(i % 2 ? a : b, id, { message_body: `burst ${i}` })));
    expect(after.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect((await Promise.all(after.map((r) => r.json() as Promise<Message>))).map((m) => m.seq).sort((x, y) => x - y)).toEqual(range(6, 10));
    expect(await storedSeqs(id)).toEqual(range(1, 10));
    expect(await lastSeqInD1(id, 10)).toBe(10);
  });

  it("keeps idempotency across an eviction: a retry after it returns the stored message", async () => {
    const id = await conversationOf(a, [b]);
    const first = await send(a, id, { message_body: "kept", client_message_id: "evict-1" });
    expect(first.status).toBe(201);
    const original = (await first.json()) as Message;
    await abortAllDurableObjects();
    const retry = await send(a, id, { message_body: "kept", client_message_id: "evict-1" });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as Message).id).toBe(original.id);
    expect((await sent(a, id, "next")).seq).toBe(2);
  });
});

describe("idempotency", () => {
  let id: number;
  beforeAll(async () => {
    id = await conversationOf(a, [b]);
  });

  it("answers a retried send with the same client_message_id with the first message and 200", async () => {
    const first = await send(a, id, { message_body: "hello", client_message_id: "retry-1" });
    expect(first.status).toBe(201);
    const original = (await first.json()) as Message;
    expect(original.client_message_id).toBe("retry-1");
    const retry = await send(a, id, { message_body: "hello", client_message_id: "retry-1" });
    expect(retry.status).toBe(200);
    const again = (await retry.json()) as Message;
    expect(again).toEqual(original);
    expect(await storedSeqs(id)).toEqual([original.seq]);
  });

  it("treats the Idempotency-Key header as the same key as client_message_id", async () => {
    const first = await send(a, id, { message_body: "by header" }, { "Idempotency-Key": "header-1" });
    expect(first.status).toBe(201);
    const original = (await first.json()) as Message;
    expect(original.client_message_id).toBe("header-1");
    const byHeader = await send(a, id, { message_body: "by header" }, { "Idempotency-Key": "header-1" });
    expect(byHeader.status).toBe(200);
    expect(((await byHeader.json()) as Message).id).toBe(original.id);
    const byBody = await send(a, id, { message_body: "by header", client_message_id: "header-1" });
    expect(byBody.status).toBe(200);
    expect(((await byBody.json()) as Message).id).toBe(original.id);
    const both = await send(a, id, { message_body: "by header", client_message_id: "header-1" }, { "Idempotency-Key": "header-1" });
    expect(both.status).toBe(200);
  });

  it("refuses a body key and a header key that differ with 400", async () => {
    const before = await storedSeqs(id);
    const res = await send(a, id, { message_body: "two keys", client_message_id: "body-key" }, { "Idempotency-Key": "header-key" });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).contentType).toBe("application/problem+json");
    expect(await storedSeqs(id)).toEqual(before);
  });

  it("answers the same key with a different body with 409 and stores nothing", async () => {
    expect((await send(a, id, { message_body: "original", client_message_id: "conflict-1" })).status).toBe(201);
    const before = await storedSeqs(id);
    const res = await send(a, id, { message_body: "something else", client_message_id: "conflict-1" });
    expect(res.status).toBe(409);
    expect((await problemOf(res)).body.status).toBe(409);
    expect(await storedSeqs(id)).toEqual(before);
  });

  it("stores exactly one message for concurrent sends with the same key, and answers all of them with it", async () => {
    const before = (await storedSeqs(id)).length;
    const responses = await Promise.all(range(1, 10).map(() => send(a, id, { message_body: "at once", client_message_id: "concurrent-1" })));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set((await Promise.all(responses.map((r) => r.json() as Promise<Message>))).map((m) => m.id));
    expect(ids.size).toBe(1);
    const shard = await shardOf(id);
    const { results } = await shard.d1.prepare("SELECT id FROM messages WHERE conversation_id = ? AND client_message_id = 'concurrent-1'").bind(id).all<{ id: number }>();
    expect(results.map((r) => apiIdOf(r.id, shard.index))).toEqual([...ids]);
    expect(await storedSeqs(id)).toEqual(range(1, before + 1));
  });

  it("answers a concurrent send with the same key but another body with 409", async () => {
    const [x, y] = await Promise.all([
      send(a, id, { message_body: "first body", client_message_id: "concurrent-2" }),
      send(a, id, { message_body: "second body", client_message_id: "concurrent-2" }),
    ]);
    expect([x!.status, y!.status].sort()).toEqual([201, 409]);
  });

  it("scopes the key to its sender: the same key from two senders makes two messages", async () => {
    const mine = await send(a, id, { message_body: "same key", client_message_id: "shared-key" });
    const theirs = await send(b, id, { message_body: "same key", client_message_id: "shared-key" });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    const [m, t] = [(await mine.json()) as Message, (await theirs.json()) as Message];
    expect(m.id).not.toBe(t.id);
    expect(t.seq).toBe(m.seq + 1);
  });

  it("scopes the key to its conversation: the same key in another conversation makes a new message", async () => {
    const other = await conversationOf(a, [b]);
    const res = await send(a, other, { message_body: "hello", client_message_id: "retry-1" });
    expect(res.status).toBe(201);
    const m = (await res.json()) as Message;
    expect(m).toMatchObject({ conversation: other, seq: 1, client_message_id: "retry-1" });
  });

  it("leaves the conversation's seqs gap-free after retries, conflicts and refusals", async () => {
    const seqs = await storedSeqs(id);
    expect(seqs).toEqual(range(1, seqs.length));
    expect(await lastSeqInD1(id, seqs.length)).toBe(seqs.length);
  });
});

describe("the original flat routes", () => {
  let x: Session, y: Session, z: Session;
  let withY: number, withZ: number;
  beforeAll(async () => {
    [x, y, z] = await Promise.all([login(), login(), login()]);
    [withY, withZ] = await Promise.all([conversationOf(x, [y]), conversationOf(x, [z])]);
  });

  it("sends with POST /api/messages/ and a conversation in the body", async () => {
    const res = await api("/api/messages/", { method: "POST", token: x.token, json: { conversation: withY, message_body: "flat hello" } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ conversation: withY, seq: 1, message_body: "flat hello", sender: { id: x.user.id } });
    const noSlash = await api("/api/messages", { method: "POST", token: y.token, json: { conversation: withY, message_body: "no slash" } });
    expect(noSlash.status).toBe(201);
    expect(((await noSlash.json()) as Message).seq).toBe(2);
  });

  it("lists one conversation with ?conversation=, oldest first", async () => {
    const res = await api(`/api/messages/?conversation=${withY}`, { token: y.token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as Page;
    expect(page.count).toBe(2);
    expect(page.results.map((m) => m.message_body)).toEqual(["flat hello", "no slash"]);
  });

  it("lists every conversation of the caller, newest first, without ?conversation=", async () => {
    await sent(z, withZ, "z one");
    await sent(y, withY, "y three");
    await sent(x, withZ, "x to z");
    const mine = (await (await api("/api/messages/", { token: x.token })).json()) as Page;
    expect(mine.count).toBe(5);
    expect(mine.results.map((m) => m.message_body)).toEqual(["x to z", "y three", "z one", "no slash", "flat hello"]);
    const ys = (await (await api("/api/messages/", { token: y.token })).json()) as Page;
    expect(ys.results.map((m) => m.message_body)).toEqual(["y three", "no slash", "flat hello"]);
    const strangers = (await (await api("/api/messages/", { token: stranger.token })).json()) as Page;
    expect(strangers.results.map((m) => m.conversation)).not.toContain(withY);
    const paged = (await (await api("/api/messages/?page=2&page_size=2", { token: x.token })).json()) as Page;
    expect(paged.results.map((m) => m.message_body)).toEqual(["z one", "no slash"]);
  });

  it("refuses cursors and filters without ?conversation=", async () => {
    expect((await api("/api/messages/?after_seq=1", { token: x.token })).status).toBe(400);
    expect((await api(`/api/messages/?sender=${x.user.id}`, { token: x.token })).status).toBe(400);
  });

  it("reads, edits and deletes one message at /api/messages/{id}/", async () => {
    const m = await sent(x, withY, "to change");
    const read = await api(`/api/messages/${m.id}/`, { token: y.token });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ ...m, status: "sent" });

    const edit = await api(`/api/messages/${m.id}/`, { method: "PATCH", token: x.token, json: { message_body: "changed" } });
    expect(edit.status).toBe(200);
    const edited = (await edit.json()) as Message;
    expect(edited).toMatchObject({ id: m.id, seq: m.seq, message_body: "changed" });
    expect(edited.edited_at).not.toBeNull();
    expect((await api(`/api/messages/${m.id}/`, { method: "PATCH", token: y.token, json: { message_body: "not mine" } })).status).toBe(403);

    expect((await api(`/api/messages/${m.id}/`, { method: "DELETE", token: x.token })).status).toBe(204);
    const gone = (await (await api(`/api/messages/${m.id}/`, { token: y.token })).json()) as Message;
    expect(gone).toMatchObject({ id: m.id, seq: m.seq, deleted: true, message_body: "" });
    expect((await api("/api/messages/999999/", { token: x.token })).status).toBe(404);
  });
});

describe("message bodies", () => {
  let id: number;
  beforeAll(async () => {
    id = await conversationOf(a, [b]);
  });

  async function refused(body: Record<string, unknown>) {
    const res = await send(a, id, body);
    expect(res.status).toBe(400);
    const { contentType, body: problem } = await problemOf(res);
    expect(contentType).toBe("application/problem+json");
    expect(problem.errors?.map((e) => e.path)).toContain("message_body");
  }

  it("refuses an empty body, one of only white space, a missing one and one of 4,001 code points", async () => {
    await refused({ message_body: "" });
    await refused({ message_body: " \t\n\u00a0 " });
    await refused({});
    await refused({ message_body: "x".repeat(4001) });
    await refused({ message_body: `${"😀".repeat(4000)}x` });
    await refused({ message_body: 42 });
    expect(await storedSeqs(id)).toEqual([]);
  });

  it("accepts exactly 4,000 emoji (code points, not UTF-16 units) and stores them as sent, surrounding spaces kept", async () => {
    const body = `  ${"😀".repeat(4000)}  `;
    expect(body.length).toBe(8004);
    const res = await send(a, id, { message_body: body });
    expect(res.status).toBe(201);
    const m = (await res.json()) as Message;
    expect(m.message_body).toBe(body);
    const { d1 } = await shardOf(id);
    const stored = await d1.prepare("SELECT body FROM messages WHERE conversation_id = ? AND id = ?").bind(id, localId(m.id)).first<{ body: string }>();
    expect(stored?.body).toBe(body);
    const read = (await (await api(`/api/conversations/${id}/messages/${m.id}/`, { token: b.token })).json()) as Message;
    expect(read.message_body).toBe(body);
  });

  it("applies the same rules to an edit", async () => {
    const m = await sent(a, id, "short");
    for (const message_body of ["", "   ", "y".repeat(4001)]) {
      const res = await api(`/api/conversations/${id}/messages/${m.id}/`, { method: "PATCH", token: a.token, json: { message_body } });
      expect(res.status).toBe(400);
      expect((await problemOf(res)).body.errors?.map((e) => e.path)).toContain("message_body");
    }
  });

  it("gives every message the resource shape of the original API, with replies, reactions, mentions, pins and files beside it", async () => {
    const m = await sent(a, id, "shape");
    const original = ["client_message_id", "conversation", "deleted", "edited_at", "id", "message_body", "sender", "sent_at", "seq", "status"];
    expect(Object.keys(m).sort()).toEqual([...original, "mentions", "reply_to", "reply_count", "reactions", "pinned_at", "pinned_by", "attachments", "expires_at", "deleted_by", "blocked"].sort());
    expect(m).toEqual({
      id: expect.any(Number),
      conversation: id,
      seq: 3,
      sender: { id: a.user.id, first_name: firstNameOf(a), last_name: "Test" },
      message_body: "shape",
      sent_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      edited_at: null,
      deleted: false,
      status: "sent",
      client_message_id: null,
      mentions: [],
      reply_to: null,
      reply_count: 0,
      reactions: [],
      pinned_at: null,
      pinned_by: null,
      attachments: [],
      expires_at: null,
      deleted_by: null,
      blocked: false,
    });
  });
});

describe("edits and deletions", () => {
  let id: number;
  let first: Message, second: Message;
  const at = (mid: number) => `/api/conversations/${id}/messages/${mid}/`;
  beforeAll(async () => {
    id = await conversationOf(a, [b, c]);
    first = await sent(b, id, "first");
    second = await sent(b, id, "second");
    await sent(b, id, "third");
  });

  it("lets only the sender edit, and stamps edited_at", async () => {
    expect((await api(at(second.id), { method: "PATCH", token: a.token, json: { message_body: "by the owner" } })).status).toBe(403);
    expect((await api(at(second.id), { method: "PATCH", token: c.token, json: { message_body: "by another" } })).status).toBe(403);
    const res = await api(at(second.id), { method: "PATCH", token: b.token, json: { message_body: "second, edited" } });
    expect(res.status).toBe(200);
    const edited = (await res.json()) as Message;
    expect(edited).toMatchObject({ id: second.id, seq: 2, message_body: "second, edited", deleted: false, sent_at: second.sent_at });
    expect(edited.edited_at).not.toBeNull();
    expect(Date.parse(edited.edited_at!)).toBeGreaterThanOrEqual(Date.parse(second.sent_at));
    const listed = await list(c, id);
    expect(listed.results.find((m) => m.id === second.id)?.message_body).toBe("second, edited");
    expect(listed.results.find((m) => m.id === first.id)?.edited_at).toBeNull();
  });

  it("lets the sender or the owner delete, nobody else", async () => {
    expect((await api(at(first.id), { method: "DELETE", token: c.token })).status).toBe(403);
    expect((await api(at(first.id), { method: "DELETE", token: b.token })).status).toBe(204);
    expect((await api(at(second.id), { method: "DELETE", token: a.token })).status).toBe(204);
  });

  it("keeps a deleted message in order as a tombstone and the seqs gap-free", async () => {
    const fourth = await sent(c, id, "fourth");
    expect(fourth.seq).toBe(4);
    const { count, results } = await list(a, id);
    expect(count).toBe(4);
    expect(results.map((m) => [m.seq, m.deleted, m.message_body])).toEqual([
      [1, true, ""],
      [2, true, ""],
      [3, false, "third"],
      [4, false, "fourth"],
    ]);
    expect(await storedSeqs(id)).toEqual([1, 2, 3, 4]);
  });

  it("refuses to edit a deleted message with 409", async () => {
    const res = await api(at(first.id), { method: "PATCH", token: b.token, json: { message_body: "revived" } });
    expect(res.status).toBe(409);
    expect((await list(a, id)).results[0]).toMatchObject({ seq: 1, deleted: true, message_body: "" });
  });

  it("answers 404 for a message of another conversation under this one's path", async () => {
    const other = await conversationOf(a, [b]);
    const elsewhere = await sent(a, other, "elsewhere");
    expect((await api(at(elsewhere.id), { token: a.token })).status).toBe(404);
    expect((await api(at(elsewhere.id), { method: "PATCH", token: a.token, json: { message_body: "x" } })).status).toBe(404);
    expect((await api(at(elsewhere.id), { method: "DELETE", token: a.token })).status).toBe(404);
  });
});

describe("receipts", () => {
  let id: number;
  let messages: Message[];
  const mark = (who: Session, body: Record<string, unknown>) => api(`/api/conversations/${id}/receipts/`, { method: "POST", token: who.token, json: body });
  const marked = async (who: Session, body: Record<string, unknown>) => {
    const res = await mark(who, body);
    expect(res.status).toBe(200);
    return (await res.json()) as { user: number; delivered_up_to: number; read_up_to: number };
  };
  const statuses = async (who: Session) => (await list(who, id)).results.map((m) => m.status);
  const receipts = async (who: Session, m: Message) => {
    const res = await api(`/api/conversations/${id}/messages/${m.id}/receipts/`, { token: who.token });
    expect(res.status).toBe(200);
    const list = (await res.json()) as Receipt[];
    expect(list.map((r) => r.user.id).sort()).toEqual([b.user.id, c.user.id].sort());
    return [list.find((r) => r.user.id === b.user.id)!, list.find((r) => r.user.id === c.user.id)!] as const;
  };

  beforeAll(async () => {
    id = await conversationOf(a, [b, c]);
    messages = [];
    for (const body of ["r1", "r2", "r3"]) messages.push(await sent(a, id, body));
  });

  it("lists every participant but the sender, not yet delivered nor read", async () => {
    expect(await receipts(b, messages[0]!)).toEqual(
      [b, c].map((p) => ({ user: { id: p.user.id, first_name: firstNameOf(p), last_name: "Test" }, delivered: false, delivered_at: null, read: false, read_at: null })),
    );
    expect(await statuses(a)).toEqual(["sent", "sent", "sent"]);
    expect(await statuses(b)).toEqual(["sent", "sent", "sent"]);
  });

  it("makes a message delivered for its sender only when every other participant's watermark passed it", async () => {
    expect(await marked(b, { delivered_up_to: 2 })).toEqual({ user: b.user.id, delivered_up_to: 2, read_up_to: 0 });
    expect(await statuses(a)).toEqual(["sent", "sent", "sent"]);
    expect(await statuses(b)).toEqual(["delivered", "delivered", "sent"]);
    expect(await statuses(c)).toEqual(["sent", "sent", "sent"]);
    await marked(c, { delivered_up_to: 1 });
    expect(await statuses(a)).toEqual(["delivered", "sent", "sent"]);
    await marked(c, { delivered_up_to: 3 });
    expect(await statuses(a)).toEqual(["delivered", "delivered", "sent"]);
    expect(await statuses(c)).toEqual(["delivered", "delivered", "delivered"]);
  });

  it("only moves watermarks forward", async () => {
    const [before] = await receipts(a, messages[1]!);
    expect(before.delivered_at).not.toBeNull();
    expect(await marked(b, { delivered_up_to: 1 })).toEqual({ user: b.user.id, delivered_up_to: 2, read_up_to: 0 });
    expect(await marked(b, { delivered_up_to: 0, read_up_to: 0 })).toEqual({ user: b.user.id, delivered_up_to: 2, read_up_to: 0 });
    const [after] = await receipts(a, messages[1]!);
    expect(after).toEqual(before);
    expect(await statuses(b)).toEqual(["delivered", "delivered", "sent"]);
  });

  it("treats reading as delivery too", async () => {
    expect(await marked(b, { read_up_to: 3 })).toEqual({ user: b.user.id, delivered_up_to: 3, read_up_to: 3 });
    expect(await statuses(b)).toEqual(["read", "read", "read"]);
    expect(await statuses(a)).toEqual(["delivered", "delivered", "delivered"]);
  });

  it("makes a message read for its sender only when every other participant read it", async () => {
    await marked(c, { read_up_to: 2 });
    expect(await statuses(a)).toEqual(["read", "read", "delivered"]);
    expect(await statuses(c)).toEqual(["read", "read", "delivered"]);
    expect(await statuses(b)).toEqual(["read", "read", "read"]);
  });

  it("never moves a watermark past the last message", async () => {
    expect(await marked(c, { delivered_up_to: 99, read_up_to: 50 })).toEqual({ user: c.user.id, delivered_up_to: 3, read_up_to: 3 });
    const next = await sent(a, id, "r4");
    expect(next.status).toBe("sent");
    expect((await statuses(a)).at(-1)).toBe("sent");
    expect((await statuses(c)).at(-1)).toBe("sent");
  });

  it("lists receipts per other participant with delivered/read flags and times", async () => {
    await marked(b, { delivered_up_to: 4 });
    const last = (await list(a, id)).results.at(-1)!;
    const [forB, forC] = await receipts(a, last);
    expect(forB).toMatchObject({ user: { id: b.user.id }, delivered: true, read: false, read_at: null });
    expect(forB.delivered_at).toEqual(expect.stringMatching(/Z$/));
    expect(forC).toEqual({ user: expect.objectContaining({ id: c.user.id }), delivered: false, delivered_at: null, read: false, read_at: null });
    const [oldB, oldC] = await receipts(c, messages[2]!);
    expect(oldB).toMatchObject({ delivered: true, read: true });
    expect(oldB.read_at).toEqual(expect.stringMatching(/Z$/));
    expect(oldC).toMatchObject({ delivered: true, read: true });
  });

  it("refuses an empty, negative or unknown receipt field with 400", async () => {
    for (const body of [{}, { read_up_to: -1 }, { delivered_up_to: "3" }, { seen_up_to: 2 }]) {
      const res = await mark(b, body);
      expect(res.status).toBe(400);
      expect((await problemOf(res)).contentType).toBe("application/problem+json");
    }
  });
});

describe("who may do what", () => {
  let id: number;
  let m: Message;
  let readOnly: Session, sendOnly: Session;
  beforeAll(async () => {
    id = await conversationOf(a, [b]);
    m = await sent(a, id, "private");
    [readOnly, sendOnly] = await Promise.all([login({ user: a.user, scopes: ["read:messages"] }), login({ user: a.user, scopes: ["send:messages"] })]);
  });

  const routes = (conversation: number, message: number): [string, string, unknown?][] => [
    ["POST", `/api/conversations/${conversation}/messages/`, { message_body: "hi" }],
    ["GET", `/api/conversations/${conversation}/messages/`],
    ["GET", `/api/conversations/${conversation}/messages/?after_seq=0`],
    ["GET", `/api/conversations/${conversation}/messages/${message}/`],
    ["PATCH", `/api/conversations/${conversation}/messages/${message}/`, { message_body: "hi" }],
    ["DELETE", `/api/conversations/${conversation}/messages/${message}/`],
    ["GET", `/api/conversations/${conversation}/messages/${message}/receipts/`],
    ["POST", `/api/conversations/${conversation}/receipts/`, { read_up_to: 1 }],
    ["POST", "/api/messages/", { conversation, message_body: "hi" }],
    ["GET", `/api/messages/?conversation=${conversation}`],
    ["GET", `/api/messages/${message}/`],
    ["PATCH", `/api/messages/${message}/`, { message_body: "hi" }],
    ["DELETE", `/api/messages/${message}/`],
  ];

  it("answers a stranger 404 on every message route, as for a conversation that does not exist", async () => {
    for (const [method, path, json] of [...routes(id, m.id), ...routes(999999, 999999)]) {
      const res = await api(path, { method, token: stranger.token, json });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect((await problemOf(res)).contentType).toBe("application/problem+json");
    }
    expect(await storedSeqs(id)).toEqual([1]);
    expect((await list(a, id)).results[0]).toMatchObject({ message_body: "private", deleted: false });
  });

  it("needs read:messages to read", async () => {
    for (const path of [`/api/conversations/${id}/messages/`, `/api/conversations/${id}/messages/${m.id}/`, `/api/conversations/${id}/messages/${m.id}/receipts/`, `/api/messages/`, `/api/messages/${m.id}/`]) {
      const res = await api(path, { token: sendOnly.token });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.headers.get("WWW-Authenticate")).toContain('scope="read:messages"');
      expect((await api(path, { token: readOnly.token })).status).toBe(200);
    }
    expect((await api(`/api/conversations/${id}/receipts/`, { method: "POST", token: sendOnly.token, json: { read_up_to: 1 } })).status).toBe(403);
  });

  it("needs send:messages to send, edit or delete", async () => {
    const attempts: [string, string, unknown?][] = [
      ["POST", `/api/conversations/${id}/messages/`, { message_body: "hi" }],
      ["POST", "/api/messages/", { conversation: id, message_body: "hi" }],
      ["PATCH", `/api/conversations/${id}/messages/${m.id}/`, { message_body: "hi" }],
      ["PATCH", `/api/messages/${m.id}/`, { message_body: "hi" }],
      ["DELETE", `/api/conversations/${id}/messages/${m.id}/`],
      ["DELETE", `/api/messages/${m.id}/`],
    ];
    for (const [method, path, json] of attempts) {
      const res = await api(path, { method, token: readOnly.token, json });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      expect(res.headers.get("WWW-Authenticate")).toContain('scope="send:messages"');
    }
    expect(await storedSeqs(id)).toEqual([1]);
    const res = await send(sendOnly, id, { message_body: "with send:messages" });
    expect(res.status).toBe(201);
    const edit = await api(`/api/conversations/${id}/messages/${m.id}/`, { method: "PATCH", token: sendOnly.token, json: { message_body: "edited" } });
    expect(edit.status).toBe(200);
  });

  it("needs a token at all", async () => {
    const res = await api(`/api/conversations/${id}/messages/`);
    expect(res.status).toBe(401);
    expect((await api("/api/messages/", { method: "POST", json: { conversation: id, message_body: "hi" } })).status).toBe(401);
  });
});
