// Messages live in several D1 databases (MESSAGES_0, MESSAGES_1 here): what a user notices of it, and what
// each shard holds, read straight from D1. The tests run in file order on one set of databases: the first
// one starts from empty message_shards, the last one evicts every room.
import { abortAllDurableObjects, env, runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { MessageResource } from "../src/messages/schemas";
import { asChatMessage, json, send, start } from "./support/conversations";
import { api, appWith, problemOf } from "./support/http";
import { login } from "./support/oauth";
import {
  allRowsIn,
  settled,
  expectCountsMatchRows,
  rowsIn,
  rowsPerShard,
  SHARD_SLOTS,
  shardCount,
  shardCounts,
  shardOfConversation,
  shardOfId,
  sleep,
  startOn,
  conversationRowsPerShard,
} from "./support/shards";

type Message = MessageResource;
type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };
type Chat = { conversation: { id: number; last_seq: number }; last_message: Message | null; unread_count: number };
type Session = Awaited<ReturnType<typeof login>>;

// Logins run PBKDF2 and every test makes dozens of real requests: generous limits, nothing here is timed.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const BOOKMARK = "X-Hey-Bookmark";
const NO_MESSAGE = "No such message.";

let a: Session, b: Session, stranger: Session, x: Session;

beforeAll(async () => {
  [a, b, stranger, x] = await Promise.all([login(), login(), login(), login()]);
});

/** GET `path` as `who`, expecting 200. */
async function read<T>(who: Session, path: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await api(path, { token: who.token, headers });
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return json<T>(res);
}

/** The path and query of an absolute `next` link. */
const pathOf = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

/** The order of the list across conversations: newest first by sent_at, then by id. */
const newestFirst = (messages: Message[]) => [...messages].sort((p, q) => Date.parse(q.sent_at) - Date.parse(p.sent_at) || q.id - p.id);

/** A `before` cursor at a message, in the documented form `<sent_at in ms>.<id>`. */
const cursorAt = (m: Message) => `${Date.parse(m.sent_at)}.${m.id}`;

/** Every message of the caller's list across conversations, following `next` from the first page. */
async function everyMessage(who: Session, pageSize = 100): Promise<Message[]> {
  const seen: Message[] = [];
  let path: string | null = `/api/messages/?page_size=${pageSize}`;
  for (let pages = 0; path; pages++) {
    expect(pages).toBeLessThan(50);
    const page: Page<Message> = await read<Page<Message>>(who, path);
    seen.push(...page.results);
    path = page.next && pathOf(page.next);
  }
  return seen;
}

/** The caller's chats by conversation id. */
async function chatsOf(who: Session): Promise<Map<number, Chat>> {
  const page = await read<Page<Chat>>(who, "/api/chats/?page_size=100");
  expect(page.next).toBeNull();
  return new Map(page.results.map((c) => [c.conversation.id, c]));
}

/** Runs the conversation room's alarm until its purge has removed the conversation row (the purge's last step). */
async function purged(conversationId: number): Promise<void> {
  const stub = env.CONVERSATION_ROOM.getByName(`conversation:${conversationId}`);
  await settled(
    async () => {
      await runDurableObjectAlarm(stub);
      return shardOfConversation(conversationId);
    },
    (shard) => shard === undefined,
    20_000,
  );
}

describe("placing conversations on shards", () => {
  it("sends each new conversation to the open shard with the fewest, so both fill evenly, and message_shards counts them", async () => {
    // The file's first test: its databases are fresh.
    expect(shardCount()).toBe(2);
    expect(await shardCounts()).toEqual([0, 0]);
    const placed: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = await shardCounts();
      const least = before.indexOf(Math.min(...before));
      const conversation = await start(a, [b.user.id]);
      const shard = (await shardOfConversation(conversation.id))!;
      expect(shard).toBe(least);
      expect(await shardCounts()).toEqual(before.map((n, s) => (s === shard ? n + 1 : n)));
      placed.push(shard);
    }
    expect(placed.filter((s) => s === 0).length).toBe(3);
    expect(placed.filter((s) => s === 1).length).toBe(3);
    const counts = await shardCounts();
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    await expectCountsMatchRows();

    // Reusing the direct conversation creates nothing, and counts nothing.
    const reused = await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id], reuse_direct: true } });
    expect(reused.status).toBe(200);
    expect(await shardCounts()).toEqual(counts);
    await expectCountsMatchRows();
  });

  it("balances concurrent creations too: each one's transaction counts the others", async () => {
    const before = await shardCounts();
    // Where eight creations one after another would leave the counts: each on the least full (lowest on a tie).
    const expected = [...before];
    for (let i = 0; i < 8; i++) expected[expected.indexOf(Math.min(...expected))]! += 1;
    const created = await Promise.all(Array.from({ length: 8 }, () => start(a, [b.user.id])));
    expect(new Set(created.map((c) => c.id)).size).toBe(8);
    expect(await shardCounts()).toEqual(expected);
    await expectCountsMatchRows();
  });

  it("stores a conversation's messages in its own shard only, under ids that name the shard and never collide", async () => {
    const on0 = await startOn(0, a, [b.user.id]);
    const on1 = await startOn(1, a, [b.user.id]);
    const sent: Message[] = [];
    for (const i of [1, 2, 3]) sent.push(await send(a, on0.id, `zero ${i}`), await send(b, on1.id, `one ${i}`));

    for (const [conversation, shard] of [[on0, 0], [on1, 1]] as const) {
      const mine = sent.filter((m) => m.conversation === conversation.id);
      expect(await rowsPerShard(conversation.id)).toEqual(shard === 0 ? [3, 0] : [0, 3]);
      const rows = await rowsIn(shard, conversation.id);
      expect(rows.map((r) => r.body)).toEqual(mine.map((m) => m.message_body));
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
      // The API's id is the shard's row id × 1024 + the shard.
      expect(rows.map((r) => r.id * SHARD_SLOTS + shard)).toEqual(mine.map((m) => m.id));
      for (const m of mine) expect(shardOfId(m.id)).toBe(shard);
    }

    // Each shard numbers its own rows from 1, so row ids repeat across shards; the API's ids do not.
    const rowIds = await Promise.all([0, 1].map(async (s) => new Set((await allRowsIn(s)).map((r) => r.id))));
    expect([...rowIds[0]!].some((id) => rowIds[1]!.has(id))).toBe(true);
    const apiIds = [0, 1].flatMap((s) => [...rowIds[s]!].map((id) => id * SHARD_SLOTS + s));
    expect(new Set(apiIds).size).toBe(apiIds.length);
  });
});

describe("CLOSED_SHARDS", () => {
  it("sends every new conversation to the open shards, while a closed shard's conversations keep working", async () => {
    const onClosed = await startOn(0, a, [b.user.id]);
    const closed0 = appWith({ CLOSED_SHARDS: "0" });
    const as = (who: Session, init: RequestInit & { json?: unknown } = {}) => {
      const headers = new Headers(init.headers);
      headers.set("Authorization", `Bearer ${who.token}`);
      if (init.json !== undefined) headers.set("Content-Type", "application/json");
      return { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body };
    };

    const before = await shardCounts();
    for (let i = 0; i < 3; i++) {
      const res = await closed0("/api/conversations/", as(a, { method: "POST", json: { participants: [b.user.id] } }));
      expect(res.status).toBe(201);
      expect(await shardOfConversation(((await res.json()) as { id: number }).id)).toBe(1);
    }
    expect(await shardCounts()).toEqual([before[0], before[1]! + 3]);
    await expectCountsMatchRows();

    // The closed shard still takes its own conversations' messages, and they read back from it.
    const res = await closed0(`/api/conversations/${onClosed.id}/messages/`, as(b, { method: "POST", json: { message_body: "still here" } }));
    expect(res.status).toBe(201);
    const message = (await res.json()) as Message;
    expect(shardOfId(message.id)).toBe(0);
    expect((await rowsIn(0, onClosed.id)).map((r) => r.body)).toEqual(["still here"]);
    const page = await closed0(`/api/conversations/${onClosed.id}/messages/`, as(a));
    expect(page.status).toBe(200);
    expect(((await page.json()) as Page<Message>).results.map((m) => m.id)).toEqual([message.id]);
    const one = await closed0(`/api/messages/${message.id}/`, as(a));
    expect(one.status).toBe(200);
    expect(((await one.json()) as Message).message_body).toBe("still here");
  });

  it("with every shard closed, refuses to create a conversation (500 problem) and leaves nothing half made", async () => {
    const before = { counts: await shardCounts(), rows: await conversationRowsPerShard() };
    const res = await appWith({ CLOSED_SHARDS: "0,1" })("/api/conversations/", {
      method: "POST",
      headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ participants: [b.user.id] }),
    });
    expect(res.status).toBe(500);
    expect((await problemOf(res)).contentType).toBe("application/problem+json");
    expect(await shardCounts()).toEqual(before.counts);
    expect(await conversationRowsPerShard()).toEqual(before.rows);
  });
});

describe("message ids across shards: /api/messages/{id}/", () => {
  it("reads, edits and deletes messages of either shard by id alone", async () => {
    for (const shard of [0, 1]) {
      const conversation = await startOn(shard, a, [b.user.id]);
      const m = await send(a, conversation.id, `on shard ${shard}`);
      expect(shardOfId(m.id)).toBe(shard);

      for (const who of [a, b]) {
        expect(await read<Message>(who, `/api/messages/${m.id}/`)).toEqual(await read<Message>(who, `/api/conversations/${conversation.id}/messages/${m.id}/`));
      }
      // Only the sender edits.
      expect((await api(`/api/messages/${m.id}/`, { method: "PATCH", token: b.token, json: { message_body: "not yours" } })).status).toBe(403);
      const edit = await api(`/api/messages/${m.id}/`, { method: "PATCH", token: a.token, json: { message_body: `edited on ${shard}` } });
      expect(edit.status).toBe(200);
      const edited = await json<Message>(edit);
      expect(edited).toMatchObject({ id: m.id, message_body: `edited on ${shard}`, deleted: false });
      expect(edited.edited_at).not.toBeNull();
      expect(await read<Message>(b, `/api/messages/${m.id}/`)).toMatchObject({ id: m.id, message_body: `edited on ${shard}`, edited_at: edited.edited_at });
      expect((await rowsIn(shard, conversation.id)).map((r) => r.body)).toEqual([`edited on ${shard}`]);

      expect((await api(`/api/messages/${m.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
      expect(await read<Message>(b, `/api/messages/${m.id}/`)).toMatchObject({ id: m.id, deleted: true, message_body: "" });
      expect((await rowsIn(shard, conversation.id)).map((r) => r.deleted)).toEqual([1]);
    }
  });

  it("answers an id naming no shard, no row, or someone else's message with the same plain 404", async () => {
    const on0 = await startOn(0, a, [b.user.id]);
    const on1 = await startOn(1, a, [b.user.id]);
    const theirs = [await send(a, on0.id, "private 0"), await send(b, on1.id, "private 1")];
    const unknown = [
      5 * SHARD_SLOTS + 7, // shard 7 does not exist
      SHARD_SLOTS - 1, // shard 1023, row 0
      3, // shard 3, row 0
      999_999 * SHARD_SLOTS, // shard 0, no such row
      999_999 * SHARD_SLOTS + 1, // shard 1, no such row
    ];
    const requests = [{ method: "GET" }, { method: "PATCH", json: { message_body: "mine now" } }, { method: "DELETE" }] as const;

    const answers: unknown[] = [];
    for (const id of unknown) {
      for (const init of requests) {
        const res = await api(`/api/messages/${id}/`, { ...init, token: a.token });
        expect(res.status, `${init.method} ${id}`).toBe(404);
        const { contentType, body } = await problemOf(res);
        expect(contentType).toBe("application/problem+json");
        expect(body.detail).toBe(NO_MESSAGE);
        answers.push(body);
      }
    }
    // A stranger learns nothing from a real id of either shard: the same answer, word for word, and nothing changes.
    for (const m of theirs) {
      for (const init of requests) {
        const res = await api(`/api/messages/${m.id}/`, { ...init, token: stranger.token });
        expect(res.status, `${init.method} ${m.id}`).toBe(404);
        answers.push((await problemOf(res)).body);
      }
      expect(await read<Message>(a, `/api/messages/${m.id}/`)).toMatchObject({ message_body: m.message_body, deleted: false, edited_at: null });
    }
    expect(new Set(answers.map((body) => JSON.stringify(body))).size).toBe(1);
  });
});

describe("the list across conversations (GET /api/messages/)", () => {
  // x's conversations: with a on shard 0, with b on shard 1, with both on shard 1; a and b also talk without x on both.
  let xa: number, xb: number, xab: number, ab0: number, ab1: number;
  let mine: Message[];
  let expected: number[];

  beforeAll(async () => {
    [xa, xb, xab, ab0, ab1] = [
      (await startOn(0, x, [a.user.id])).id,
      (await startOn(1, x, [b.user.id])).id,
      (await startOn(1, x, [a.user.id, b.user.id])).id,
      (await startOn(0, a, [b.user.id])).id,
      (await startOn(1, a, [b.user.id])).id,
    ];
    mine = [];
    // Sent alternately, so the shards' messages interleave in time.
    for (let i = 0; i < 6; i++) {
      mine.push(await send(i % 2 ? a : x, xa, `xa ${i}`));
      await send(a, ab0, `ab0 ${i}`);
      mine.push(await send(b, xb, `xb ${i}`));
      await send(b, ab1, `ab1 ${i}`);
      mine.push(await send(x, xab, `xab ${i}`));
    }
    expected = newestFirst(mine).map((m) => m.id);
  });

  it("lists exactly the caller's messages from both shards, newest first, with the right count", async () => {
    const shards = expected.map(shardOfId);
    const switches = shards.filter((s, i) => i > 0 && s !== shards[i - 1]).length;
    expect(switches).toBeGreaterThanOrEqual(2);

    const page = await read<Page<Message>>(x, "/api/messages/?page_size=100");
    expect(page.count).toBe(18);
    expect(page.next).toBeNull();
    expect(page.results.map((m) => m.id)).toEqual(expected);
    const byId = new Map(mine.map((m) => [m.id, m]));
    for (const m of page.results) {
      expect(m).toMatchObject({ conversation: byId.get(m.id)!.conversation, seq: byId.get(m.id)!.seq, message_body: byId.get(m.id)!.message_body, sender: byId.get(m.id)!.sender });
    }
    expect(page.results[0]).toEqual(await read<Message>(x, `/api/messages/${expected[0]}/`));

    // a sees the conversations a is in, on both shards, and nothing of x's conversation with b.
    const ofA = await everyMessage(a);
    const conversationsOfA = new Set(ofA.map((m) => m.conversation));
    for (const id of [xa, xab, ab0, ab1]) expect(conversationsOfA.has(id)).toBe(true);
    expect(conversationsOfA.has(xb)).toBe(false);
    expect(ofA.map((m) => m.id)).toEqual(newestFirst(ofA).map((m) => m.id));
    expect(new Set(ofA.map((m) => m.id)).size).toBe(ofA.length);
    expect((await read<Page<Message>>(stranger, "/api/messages/")).count).toBe(0);
  });

  it("pages with page and page_size, and by following next, visiting every message once in order", async () => {
    const byPage: number[] = [];
    for (let p = 1; p <= 4; p++) {
      const page = await read<Page<Message>>(x, `/api/messages/?page=${p}&page_size=5`);
      expect(page.count).toBe(18);
      expect(page.results.length).toBe(p < 4 ? 5 : 3);
      expect(page.next === null).toBe(p === 4);
      expect(page.previous === null).toBe(p === 1);
      byPage.push(...page.results.map((m) => m.id));
    }
    expect(byPage).toEqual(expected);
    expect((await api("/api/messages/?page=5&page_size=5", { token: x.token })).status).toBe(404);
    expect((await everyMessage(x, 5)).map((m) => m.id)).toEqual(expected);
  });

  it("follows before cursors from next links to the end, neither repeating nor skipping while new messages arrive", async () => {
    // The first page's next link is a cursor already.
    const top = await read<Page<Message>>(x, "/api/messages/?page_size=5");
    expect(top.results.map((m) => m.id)).toEqual(expected.slice(0, 5));
    expect(top.count).toBe(18);
    expect(top.previous).toBeNull();
    expect(new URL(top.next!).searchParams.get("before")).toBe(cursorAt(top.results.at(-1)!));

    const seen = [...top.results];
    let total = 18;
    let path: string | null = pathOf(top.next!);
    for (let pages = 0; path; pages++) {
      expect(pages).toBeLessThan(10);
      // New messages on both shards between pages: later than anything listed (the clock moves first).
      await sleep(5);
      await send(b, xb, `new on 1, ${pages}`);
      await send(x, xa, `new on 0, ${pages}`);
      total += 2;
      const page: Page<Message> = await read<Page<Message>>(x, path);
      expect(page.count).toBe(total);
      expect(page.previous).toBeNull();
      expect(page.results.length).toBeLessThanOrEqual(5);
      seen.push(...page.results);
      if (page.next) expect(new URL(page.next).searchParams.get("before")).toBe(cursorAt(page.results.at(-1)!));
      path = page.next && pathOf(page.next);
    }
    expect(seen.map((m) => m.id)).toEqual(expected);

    // The newcomers head the list now.
    const now = await read<Page<Message>>(x, "/api/messages/?page_size=100");
    expect(now.count).toBe(total);
    expect(now.results.slice(total - 18).map((m) => m.id)).toEqual(expected);
    expect(now.results.slice(0, total - 18).every((m) => m.message_body.startsWith("new on "))).toBe(true);
    mine = now.results;
    expected = now.results.map((m) => m.id);
  });

  it("visits every message exactly once at any page size, by page and by cursor", async () => {
    for (let size = 1; size <= 7; size++) {
      expect((await everyMessage(x, size)).map((m) => m.id), `page_size=${size}`).toEqual(expected);
      const seen: number[] = [];
      let path: string | null = `/api/messages/?page_size=${size}&before=${Date.now() + 86_400_000}.0`;
      for (let pages = 0; path; pages++) {
        expect(pages).toBeLessThanOrEqual(expected.length);
        const page: Page<Message> = await read<Page<Message>>(x, path);
        expect(page.results.length).toBeGreaterThan(0);
        seen.push(...page.results.map((m) => m.id));
        path = page.next && pathOf(page.next);
      }
      expect(seen, `before, page_size=${size}`).toEqual(expected);
    }
  });

  it("orders messages of the same millisecond on both shards by id, and a cursor between them neither repeats nor skips", async () => {
    const y = await login();
    const t0 = (await startOn(0, y, [a.user.id])).id;
    const t1 = (await startOn(1, y, [b.user.id])).id;
    // Written straight into the shards: many messages share one sent_at, across both shards.
    const at = Date.parse("2026-01-01T00:00:00.000Z");
    const times = [at - 1, at, at, at, at, at + 1];
    for (const [shard, conversation] of [[0, t0], [1, t1]] as const) {
      const d1 = shard === 0 ? env.MESSAGES_0 : env.MESSAGES_1;
      await d1.batch(
        times.map((sentAt, i) =>
          d1.prepare("INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) VALUES (?, ?, ?, ?, ?)").bind(conversation, i + 1, y.user.id, `tie ${shard}.${i}`, sentAt),
        ),
      );
    }
    const rows = [...(await rowsIn(0, t0)).map((r) => ({ ...r, apiId: r.id * SHARD_SLOTS })), ...(await rowsIn(1, t1)).map((r) => ({ ...r, apiId: r.id * SHARD_SLOTS + 1 }))];
    const ids = rows.sort((p, q) => q.sent_at - p.sent_at || q.apiId - p.apiId).map((r) => r.apiId);
    expect((await read<Page<Message>>(y, "/api/messages/?page_size=100")).results.map((m) => m.id)).toEqual(ids);
    for (let size = 1; size <= 5; size++) {
      expect((await everyMessage(y, size)).map((m) => m.id), `page_size=${size}`).toEqual(ids);
      const seen: number[] = [];
      let path: string | null = `/api/messages/?page_size=${size}&before=${at + 86_400_000}.0`;
      for (let pages = 0; path; pages++) {
        expect(pages).toBeLessThanOrEqual(ids.length);
        const page: Page<Message> = await read<Page<Message>>(y, path);
        seen.push(...page.results.map((m) => m.id));
        path = page.next && pathOf(page.next);
      }
      expect(seen, `before, page_size=${size}`).toEqual(ids);
    }
  });

  it("refuses a malformed before, a before with a page or with a conversation, as 400 problems", async () => {
    for (const before of ["abc", "1.2.3", "12", "1.", ".5", "-1.5", "1.5x", "1e3.5", `${"9".repeat(16)}.1`]) {
      const res = await api(`/api/messages/?before=${encodeURIComponent(before)}`, { token: x.token });
      expect(res.status, before).toBe(400);
      const { contentType, body } = await problemOf(res);
      expect(contentType).toBe("application/problem+json");
      expect(body.errors?.map((e) => e.path)).toEqual(["query.before"]);
    }
    const cursor = `${Date.now()}.1`;
    for (const query of [`before=${cursor}&page=2`, `before=${cursor}&conversation=${xa}`, `before=${cursor}&sender=${x.user.id}`]) {
      const res = await api(`/api/messages/?${query}`, { token: x.token });
      expect(res.status, query).toBe(400);
      const { contentType, body } = await problemOf(res);
      expect(contentType).toBe("application/problem+json");
      expect(body.detail).toMatch(/\.$/);
    }
  });
});

describe("the chat list across shards", () => {
  it("shows each conversation's last message from the copy on its row, following an edit and a delete of it", async () => {
    const p0 = (await startOn(0, a, [b.user.id])).id;
    const p1 = (await startOn(1, a, [b.user.id])).id;
    const first0 = await send(a, p0, "p0 first");
    const last0 = await send(a, p0, "p0 last");
    await send(b, p1, "p1 first");
    const last1 = await send(b, p1, "p1 last");

    // The room copies a flush's last message to the main database just after answering the send.
    let chats = await settled(
      () => chatsOf(a),
      (m) => m.get(p0)?.last_message?.id === last0.id && m.get(p1)?.last_message?.id === last1.id,
    );
    expect(chats.get(p0)!.last_message).toEqual(asChatMessage(await read<Message>(a, `/api/messages/${last0.id}/`)));
    expect(chats.get(p1)!.last_message).toEqual(asChatMessage(await read<Message>(a, `/api/messages/${last1.id}/`)));
    expect([chats.get(p0)!.conversation.last_seq, chats.get(p0)!.unread_count]).toEqual([2, 0]);
    expect([chats.get(p1)!.conversation.last_seq, chats.get(p1)!.unread_count]).toEqual([2, 2]);

    const edit = await api(`/api/messages/${last0.id}/`, { method: "PATCH", token: a.token, json: { message_body: "p0 last, edited" } });
    expect(edit.status).toBe(200);
    const edited = await json<Message>(edit);
    expect((await api(`/api/messages/${last1.id}/`, { method: "DELETE", token: b.token })).status).toBe(204);
    chats = await settled(
      () => chatsOf(a),
      (m) => m.get(p0)?.last_message?.message_body === "p0 last, edited" && m.get(p1)?.last_message?.deleted === true,
    );
    expect(chats.get(p0)!.last_message).toEqual(asChatMessage(await read<Message>(a, `/api/messages/${last0.id}/`)));
    expect(chats.get(p0)!.last_message).toMatchObject({ id: last0.id, edited_at: edited.edited_at });
    expect(chats.get(p1)!.last_message).toEqual(asChatMessage(await read<Message>(a, `/api/messages/${last1.id}/`)));
    expect(chats.get(p1)!.last_message).toMatchObject({ id: last1.id, deleted: true, message_body: "" });
    // b sees the same copies.
    const ofB = await chatsOf(b);
    expect(ofB.get(p0)!.last_message).toMatchObject({ id: last0.id, message_body: "p0 last, edited" });
    expect(ofB.get(p1)!.last_message).toMatchObject({ id: last1.id, deleted: true });

    // Editing an earlier message leaves the copy alone: after it, a later edit of the last one is what shows.
    expect((await api(`/api/messages/${first0.id}/`, { method: "PATCH", token: a.token, json: { message_body: "p0 first, edited" } })).status).toBe(200);
    expect((await api(`/api/messages/${last0.id}/`, { method: "PATCH", token: a.token, json: { message_body: "p0 last, again" } })).status).toBe(200);
    chats = await settled(
      () => chatsOf(a),
      (m) => m.get(p0)?.last_message?.message_body === "p0 last, again",
    );
    expect(chats.get(p0)!.last_message).toMatchObject({ id: last0.id, seq: 2 });
  });
});

describe("deleting a conversation", () => {
  it("purges its messages from its own shard, long histories in chunks, and its shard counts one conversation fewer", async () => {
    const keep = [(await startOn(0, a, [b.user.id])).id, (await startOn(1, a, [b.user.id])).id];
    const gone = [(await startOn(0, a, [b.user.id])).id, (await startOn(1, a, [b.user.id])).id];
    const goneMessages: Message[] = [];
    for (const id of keep) for (const body of ["one", "two"]) await send(b, id, body);
    for (const id of gone) for (const body of ["one", "two"]) goneMessages.push(await send(b, id, body));
    // A long history on shard 0, written straight into it: more than one purge chunk (1,000 rows).
    await env.MESSAGES_0.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n WHERE i < 2502)
       INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) SELECT ?, i, ?, 'old ' || i, ? FROM n`,
    )
      .bind(gone[0], a.user.id, Date.now())
      .run();
    expect(await rowsPerShard(gone[0]!)).toEqual([2502, 0]);
    expect(await rowsPerShard(gone[1]!)).toEqual([0, 2]);
    const before = await shardCounts();
    const otherRows = await Promise.all([0, 1].map(async (s) => (await allRowsIn(s)).filter((r) => !gone.includes(r.conversation_id)).length));

    for (const id of gone) expect((await api(`/api/conversations/${id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    for (const id of gone) await purged(id);

    for (const id of gone) expect(await rowsPerShard(id)).toEqual([0, 0]);
    expect(await shardCounts()).toEqual([before[0]! - 1, before[1]! - 1]);
    await expectCountsMatchRows();
    // Nothing else went.
    expect(await Promise.all([0, 1].map(async (s) => (await allRowsIn(s)).length))).toEqual(otherRows);
    expect(await rowsPerShard(keep[0]!)).toEqual([2, 0]);
    expect(await rowsPerShard(keep[1]!)).toEqual([0, 2]);
    for (const m of goneMessages) expect((await api(`/api/messages/${m.id}/`, { token: a.token })).status).toBe(404);
    for (const id of keep) expect((await read<Page<Message>>(a, `/api/messages/?conversation=${id}`)).count).toBe(2);
  });
});

describe("read bookmarks (X-Hey-Bookmark)", () => {
  // What local workerd's D1 sessions return from getBookmark(): fixed-width hex, oldest sorting first.
  const D1_BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
  const parse = (header: string | null) => new Map((header ?? "").split(",").filter(Boolean).map((part) => part.split("=") as [string, string]));
  const format = (bookmarks: Map<string, string>) => [...bookmarks].map(([k, v]) => `${k}=${v}`).join(",");
  const bookmarksOf = (res: Response) => {
    const bookmarks = parse(res.headers.get(BOOKMARK));
    for (const value of bookmarks.values()) expect(value).toMatch(D1_BOOKMARK);
    return bookmarks;
  };

  let c0: number, c1: number;
  beforeAll(async () => {
    c0 = (await startOn(0, a, [b.user.id])).id;
    c1 = (await startOn(1, a, [b.user.id])).id;
    await send(a, c0, "before bookmarks");
  });

  it("carries a bookmark for each database a read used: DB, and the shard for a history read", async () => {
    const chats = await api("/api/chats/", { token: a.token });
    expect(chats.status).toBe(200);
    expect([...bookmarksOf(chats).keys()]).toEqual(["DB"]);

    for (const [id, shard] of [[c0, "MESSAGES_0"], [c1, "MESSAGES_1"]] as const) {
      const history = await api(`/api/conversations/${id}/messages/`, { token: a.token });
      expect(history.status).toBe(200);
      expect([...bookmarksOf(history).keys()].sort()).toEqual(["DB", shard]);
    }
    // a has conversations on both shards: the list across them reads both.
    const across = await api("/api/messages/?page_size=1", { token: a.token });
    expect(across.status).toBe(200);
    expect([...bookmarksOf(across).keys()].sort()).toEqual(["DB", "MESSAGES_0", "MESSAGES_1"]);
  });

  it("takes its bookmarks back (200): a read at them sees the caller's own writes, and bookmarks only move forward", async () => {
    const first = await api(`/api/conversations/${c1}/messages/`, { token: a.token });
    const given = bookmarksOf(first);

    // A send answers with where it was written: its shard (its room checked the token, on the main primary).
    const sent = await api(`/api/conversations/${c1}/messages/`, { method: "POST", token: a.token, json: { message_body: "read me back" } });
    expect(sent.status).toBe(201);
    const message = await json<Message>(sent);
    const written = bookmarksOf(sent);
    expect([...written.keys()].sort()).toEqual(["MESSAGES_1"]);
    expect(written.get("MESSAGES_1")! >= given.get("MESSAGES_1")!).toBe(true);

    const presented = new Map([...given, ...written]);
    const again = await api(`/api/conversations/${c1}/messages/`, { token: a.token, headers: { [BOOKMARK]: format(presented) } });
    expect(again.status).toBe(200);
    expect((await json<Page<Message>>(again)).results.map((m) => m.id)).toContain(message.id);
    const after = bookmarksOf(again);
    for (const [name, bookmark] of presented) expect(after.get(name)! >= bookmark, name).toBe(true);

    const one = await api(`/api/messages/${message.id}/`, { token: a.token, headers: { [BOOKMARK]: format(after) } });
    expect(one.status).toBe(200);
    expect((await json<Message>(one)).message_body).toBe("read me back");

    // An edit answers with its shard's bookmark too, and a read at it sees the edit.
    const edit = await api(`/api/messages/${message.id}/`, { method: "PATCH", token: a.token, json: { message_body: "read me back, edited" } });
    expect(edit.status).toBe(200);
    expect([...bookmarksOf(edit).keys()].sort()).toEqual(["DB", "MESSAGES_1"]);
    const edited = await api(`/api/messages/${message.id}/`, { token: a.token, headers: { [BOOKMARK]: format(new Map([...after, ...bookmarksOf(edit)])) } });
    expect(edited.status).toBe(200);
    expect((await json<Message>(edited)).message_body).toBe("read me back, edited");

    // A delete answers with its shard's too; a receipt, written in the main database only, with DB's.
    const deleted = await api(`/api/messages/${message.id}/`, { method: "DELETE", token: a.token });
    expect(deleted.status).toBe(204);
    expect([...bookmarksOf(deleted).keys()].sort()).toEqual(["DB", "MESSAGES_1"]);
    const tombstone = await api(`/api/messages/${message.id}/`, { token: a.token, headers: { [BOOKMARK]: format(bookmarksOf(deleted)) } });
    expect(await json<Message>(tombstone)).toMatchObject({ deleted: true, message_body: "" });
    const receipt = await api(`/api/conversations/${c1}/receipts/`, { method: "POST", token: b.token, json: { read_up_to: message.seq } });
    expect(receipt.status).toBe(200);
    expect([...bookmarksOf(receipt).keys()]).toEqual(["DB"]);

    // A bookmark from before all of that still reads (at least that fresh), and the answer moves it on.
    const old = await api("/api/chats/", { token: a.token, headers: { [BOOKMARK]: `DB=${given.get("DB")}` } });
    expect(old.status).toBe(200);
    expect(bookmarksOf(old).get("DB")! >= given.get("DB")!).toBe(true);
  });

  it("refuses a malformed header with a 400 problem that says what to do, before doing anything", async () => {
    const lastSeq = async () => (await read<Page<Message>>(a, `/api/conversations/${c0}/messages/`)).count;
    const seq = await lastSeq();
    // Shaped like a bookmark, but of a database this deployment does not bind, or named twice.
    const real = `00000000-00000005-00000000-${"0".repeat(32)}`;
    const malformed = [
      ...["garbage", "DB=", "DB=x y", "DB=abc,", ",DB=abc", "db=abc", "FOO=abc", "MESSAGES_=abc", "MESSAGES_12345=abc", `DB=${"a".repeat(201)}`, "DB=abc;MESSAGES_0=abc", "DB==abc"],
      // Values Hey never sends: they would pin the client's reads (or sort after every real bookmark and be echoed forever).
      ...["DB=zzz", "DB=first-primary", "DB=first-unconstrained", `DB=0000000A${real.slice(8)}`],
      ...[`MESSAGES_2=${real}`, `MESSAGES_01=${real}`, `DB=${real},DB=${real}`],
    ];
    for (const header of malformed) {
      for (const [path, init] of [
        ["/api/chats/", {}],
        [`/api/conversations/${c0}/messages/`, {}],
        ["/api/messages/", {}],
        [`/api/conversations/${c0}/messages/`, { method: "POST", json: { message_body: "must not be stored" } }],
      ] as const) {
        const res = await api(path, { ...init, token: a.token, headers: { [BOOKMARK]: header } });
        expect(res.status, `${header} on ${path}`).toBe(400);
        const { contentType, body } = await problemOf(res);
        expect(contentType).toBe("application/problem+json");
        expect(body.detail).toMatch(/^X-Hey-Bookmark .+\.$/);
      }
    }
    expect(await lastSeq()).toBe(seq);
  });
});

describe("a room reloaded from its shard", () => {
  it("repairs a conversation summary left behind its shard (a flush whose main write failed)", async () => {
    const id = (await startOn(1, a, [b.user.id])).id;
    const m1 = await send(a, id, "one");
    const m2 = await send(a, id, "two");
    const m3 = await send(a, id, "three");
    await settled(
      () => chatsOf(a),
      (chats) => chats.get(id)?.last_message?.id === m3.id,
    );
    // Evict every room (none has work pending: the summary above is written), then put the main row
    // back to where it would be had the last flush's main write failed.
    await abortAllDurableObjects();
    await env.DB.prepare("UPDATE conversations SET last_seq = 2, last_message_id = ?, last_body = ?, last_message_at = ?, last_activity_at = ? WHERE id = ?")
      .bind(m2.id, m2.message_body, Date.parse(m2.sent_at), Date.parse(m2.sent_at), id)
      .run();
    expect((await chatsOf(a)).get(id)).toMatchObject({ conversation: { last_seq: 2 }, last_message: { id: m2.id } });

    // The next use of the room loads it from the shard, which repairs the row before the room answers:
    // b marks the third message read, and the chat list read after that answer is whole again.
    const receipt = await api(`/api/conversations/${id}/receipts/`, { method: "POST", token: b.token, json: { read_up_to: 3 } });
    expect(receipt.status).toBe(200);
    expect(await json(receipt)).toMatchObject({ user: b.user.id, read_up_to: 3 });
    const repaired = (await chatsOf(a)).get(id)!;
    expect(repaired.conversation.last_seq).toBe(3);
    expect(repaired.last_message).toEqual(asChatMessage(await read<Message>(a, `/api/messages/${m3.id}/`)));
    expect((await chatsOf(b)).get(id)!.unread_count).toBe(0);

    // And numbering goes on from the shard.
    expect((await send(b, id, "four")).seq).toBe(4);
    expect((await rowsIn(1, id)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(m1.seq).toBe(1);
  });
});
