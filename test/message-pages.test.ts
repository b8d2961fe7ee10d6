import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { listChats } from "../src/chats/chats";
import { database } from "../src/db/client";
import { afterSeq, beforeSeq, bySeqRange } from "../src/messages/store";
import { api, problemOf } from "./support/http";
import { login } from "./support/oauth";
import { settled, shardOf } from "./support/shards";

type Message = { id: number; seq: number; sender: { id: number }; message_body: string; sent_at: string; status: "sent" | "delivered" | "read" | "pending" };
type Page = { count: number; next: string | null; previous: string | null; results: Message[] };
type Session = Awaited<ReturnType<typeof login>>;

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const seqsOf = (page: Page) => page.results.map((m) => m.seq);

let a: Session, b: Session, c: Session;

beforeAll(async () => {
  [a, b, c] = await Promise.all([login(), login(), login()]);
});

async function conversationOf(owner: Session, others: Session[]): Promise<number> {
  const res = await api("/api/conversations/", { method: "POST", token: owner.token, json: { participants: others.map((o) => o.user.id) } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

async function sendAll(who: Session, conversation: number, bodies: string[]) {
  const responses = await Promise.all(bodies.map((message_body) => api(`/api/conversations/${conversation}/messages/`, { method: "POST", token: who.token, json: { message_body } })));
  expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 201));
}

async function mark(who: Session, conversation: number, body: { delivered_up_to?: number; read_up_to?: number }) {
  expect((await api(`/api/conversations/${conversation}/receipts/`, { method: "POST", token: who.token, json: body })).status).toBe(200);
}

/** GETs a path or an absolute link (as found in next/previous) as `who`. */
async function get(who: Session, pathOrUrl: string): Promise<Response> {
  const url = pathOrUrl.startsWith("http") ? pathOrUrl : `http://hey.test${pathOrUrl}`;
  return SELF.fetch(url, { headers: { Authorization: `Bearer ${who.token}` } });
}

async function page(who: Session, pathOrUrl: string): Promise<Page> {
  const res = await get(who, pathOrUrl);
  expect(res.status, pathOrUrl).toBe(200);
  return (await res.json()) as Page;
}

/** Follows `link` from `start` to the end, returning every page's seqs in the order the pages came. */
async function walk(who: Session, start: string, link: "next" | "previous"): Promise<number[][]> {
  const pages: number[][] = [];
  for (let url: string | null = start; url !== null; ) {
    const p: Page = await page(who, url);
    pages.push(seqsOf(p));
    url = p[link];
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}

async function rejected(who: Session, path: string, status = 400) {
  const res = await get(who, path);
  expect(res.status, path).toBe(status);
  expect((await problemOf(res)).contentType).toBe("application/problem+json");
}

describe("a conversation of 45 messages", () => {
  let id: number;
  const path = (query: string) => `/api/conversations/${id}/messages/?${query}`;

  // b sends 1..5, then a sends 6..45. b has delivered up to 30 and read up to 20; c only delivered up to 10.
  beforeAll(async () => {
    id = await conversationOf(a, [b, c]);
    await sendAll(b, id, range(1, 5).map((i) => `from b ${i}`));
    await sendAll(a, id, range(6, 45).map((i) => `from a ${i}`));
    await mark(b, id, { delivered_up_to: 30, read_up_to: 20 });
    await mark(c, id, { delivered_up_to: 10 });
  });

  it("answers pages in the DRF shape, oldest first, with count = last_seq", async () => {
    const first = await page(a, path(""));
    expect(Object.keys(first).sort()).toEqual(["count", "next", "previous", "results"]);
    expect(first.count).toBe(45);
    expect(seqsOf(first)).toEqual(range(1, 20));
    expect(first.previous).toBeNull();
    const next = new URL(first.next!);
    expect([next.pathname, next.searchParams.get("page"), next.searchParams.get("page_size")]).toEqual([`/api/conversations/${id}/messages/`, "2", "20"]);

    const last = await page(a, path("page=5&page_size=10"));
    expect(seqsOf(last)).toEqual(range(41, 45));
    expect(last.next).toBeNull();
    expect(new URL(last.previous!).searchParams.get("page")).toBe("4");
    expect(seqsOf(await page(a, path("page_size=100")))).toEqual(range(1, 45));
  });

  it("walks the whole history with next and back with previous, with no gap and no duplicate", async () => {
    const forward = await walk(a, path("page_size=7"), "next");
    expect(forward.length).toBe(7);
    expect(forward.flat()).toEqual(range(1, 45));
    const backward = await walk(a, path("page=7&page_size=7"), "previous");
    expect(backward.reverse().flat()).toEqual(range(1, 45));
  });

  it("refuses a page size over 100 and a page number below 1 with 400, and a page past the end with 404", async () => {
    await rejected(a, path("page_size=101"));
    await rejected(a, path("page_size=0"));
    await rejected(a, path("page=0"));
    await rejected(a, path("page=two"));
    await rejected(a, path("limit=101&after_seq=0"));
    await rejected(a, path("page=4&page_size=15"), 404);
    await rejected(a, path("page=4"), 404);
    expect(seqsOf(await page(a, path("page=3&page_size=15")))).toEqual(range(31, 45));
  });

  it("gives the messages after a cursor, oldest first, with links both ways", async () => {
    const p = await page(a, path("after_seq=10&limit=5"));
    expect(p.count).toBe(45);
    expect(seqsOf(p)).toEqual(range(11, 15));
    const next = new URL(p.next!).searchParams;
    expect([next.get("after_seq"), next.get("limit"), next.get("before_seq")]).toEqual(["15", "5", null]);
    const previous = new URL(p.previous!).searchParams;
    expect([previous.get("before_seq"), previous.get("limit"), previous.get("after_seq")]).toEqual(["11", "5", null]);
    expect(seqsOf(await page(a, path("after_seq=0")))).toEqual(range(1, 45));
    const end = await page(a, path("after_seq=45"));
    expect([seqsOf(end), end.next]).toEqual([[], null]);
  });

  it("gives the newest messages before a cursor, still oldest first", async () => {
    expect(seqsOf(await page(a, path("before_seq=11&limit=5")))).toEqual(range(6, 10));
    expect(seqsOf(await page(a, path("before_seq=46&limit=3")))).toEqual([43, 44, 45]);
    const start = await page(a, path("before_seq=3&limit=5"));
    expect(seqsOf(start)).toEqual([1, 2]);
    expect(start.previous).toBeNull();
    expect(new URL(start.next!).searchParams.get("after_seq")).toBe("2");
  });

  it("walks the whole history by cursor in both directions, with no gap and no duplicate", async () => {
    const forward = await walk(a, path("after_seq=0&limit=7"), "next");
    expect(forward.flat()).toEqual(range(1, 45));
    expect(forward.every((p) => p.length > 0)).toBe(true);
    const backward = await walk(a, path("before_seq=46&limit=7"), "previous");
    expect(backward.reverse().flat()).toEqual(range(1, 45));
  });

  it("refuses both cursors at once, and a cursor with a filter, with 400", async () => {
    await rejected(a, path("after_seq=5&before_seq=10"));
    await rejected(a, path(`after_seq=5&sender=${b.user.id}`));
    await rejected(a, path("before_seq=5&status=read"));
    await rejected(a, path("after_seq=-1"));
  });

  it("filters by sender, with a count and links for the matches", async () => {
    const fromB = await page(a, path(`sender=${b.user.id}`));
    expect([fromB.count, seqsOf(fromB), fromB.next]).toEqual([5, range(1, 5), null]);
    const fromA = await page(c, path(`sender=${a.user.id}&page_size=30`));
    expect(fromA.count).toBe(40);
    expect(seqsOf(fromA)).toEqual(range(6, 35));
    expect(new URL(fromA.next!).searchParams.get("sender")).toBe(String(a.user.id));
    expect(seqsOf(await page(c, fromA.next!))).toEqual(range(36, 45));
    await rejected(a, path(`sender=${a.user.id}&page=3&page_size=30`), 404);
  });

  it("filters by status as the caller sees it, agreeing with the statuses in the full list", async () => {
    // a: its own messages wait for both b and c (c delivered to 10, read nothing); b's are read by a.
    // b: its own wait for c too; a's follow b's own watermarks. c: everything follows c's watermarks.
    const expected: [Session, Record<string, number[]>][] = [
      [a, { read: range(1, 5), delivered: range(6, 10), sent: range(11, 45) }],
      [b, { read: range(6, 20), delivered: [...range(1, 5), ...range(21, 30)], sent: range(31, 45) }],
      [c, { read: [], delivered: range(1, 10), sent: range(11, 45) }],
    ];
    for (const [who, byStatus] of expected) {
      const all = (await page(who, path("page_size=100"))).results;
      for (const [status, seqs] of Object.entries(byStatus)) {
        const filtered = await page(who, path(`status=${status}&page_size=100`));
        expect({ status, count: filtered.count, seqs: seqsOf(filtered) }).toEqual({ status, count: seqs.length, seqs });
        expect(all.filter((m) => m.status === status).map((m) => m.seq)).toEqual(seqs);
        expect(filtered.results.every((m) => m.status === status)).toBe(true);
      }
    }
    const mine = await page(b, path(`status=delivered&sender=${b.user.id}`));
    expect(seqsOf(mine)).toEqual(range(1, 5));
    await rejected(a, path("status=unread"));
  });
});

describe("a conversation of 5,000 messages written straight into its shard", () => {
  const TOTAL = 5000;
  const BASE = Date.UTC(2024, 0, 1);
  let id: number;
  const path = (query: string) => `/api/conversations/${id}/messages/?${query}`;

  beforeAll(async () => {
    id = await conversationOf(a, [b]);
    const { d1 } = await shardOf(id);
    const insert = d1.prepare("INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) VALUES (?, ?, ?, ?, ?)");
    for (let start = 1; start <= TOTAL; start += 100) {
      await d1.batch(range(start, start + 99).map((seq) => insert.bind(id, seq, seq % 2 ? a.user.id : b.user.id, `seeded ${seq}`, BASE + seq * 1000)));
    }
    await env.DB.prepare("UPDATE conversations SET last_seq = ?, last_message_at = ?, last_activity_at = ? WHERE id = ?").bind(TOTAL, BASE + TOTAL * 1000, BASE + TOTAL * 1000, id).run();
  });

  it("answers page 1 and page 250 of 20 with the right seqs", async () => {
    const first = await page(a, path("page_size=20"));
    expect([first.count, seqsOf(first)]).toEqual([TOTAL, range(1, 20)]);
    const deep = await page(a, path("page=250&page_size=20"));
    expect(seqsOf(deep)).toEqual(range(4981, 5000));
    expect(deep.results.map((m) => m.message_body)).toEqual(range(4981, 5000).map((s) => `seeded ${s}`));
    expect(deep.next).toBeNull();
    expect(new URL(deep.previous!).searchParams.get("page")).toBe("249");
    expect(seqsOf(await page(a, path("page=125&page_size=40")))).toEqual(range(4961, 5000));
    expect(seqsOf(await page(a, path("page=126&page_size=20")))).toEqual(range(2501, 2520));
    await rejected(a, path("page=251&page_size=20"), 404);
  });

  it("answers cursors deep in the history with the right seqs", async () => {
    expect(seqsOf(await page(a, path("after_seq=4990&limit=20")))).toEqual(range(4991, 5000));
    expect(seqsOf(await page(a, path("before_seq=2501&limit=3")))).toEqual([2498, 2499, 2500]);
    expect(seqsOf(await page(a, path("after_seq=2500&limit=3")))).toEqual([2501, 2502, 2503]);
  });

  it("filters by since: only messages sent at or after it", async () => {
    const since = new Date(BASE + 4990 * 1000).toISOString();
    const recent = await page(a, path(`since=${encodeURIComponent(since)}`));
    expect([recent.count, seqsOf(recent)]).toEqual([11, range(4990, 5000)]);
    const withOffset = "2024-01-01T02:23:10+01:00"; // 01:23:10Z = BASE + 4990 s
    expect(seqsOf(await page(a, path(`since=${encodeURIComponent(withOffset)}`)))).toEqual(range(4990, 5000));
    await rejected(a, path("since=yesterday"));
  });

  it("continues the seqs after the seeded history when a message is sent through the room", async () => {
    const res = await api(`/api/conversations/${id}/messages/`, { method: "POST", token: b.token, json: { message_body: "after the seed" } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as Message).seq).toBe(TOTAL + 1);
  });

  describe("query plans", () => {
    /** The conversation's shard: the store's queries are built for it and EXPLAINed on its D1. */
    const shard = () => shardOf(id);

    async function plan({ sql, params }: { sql: string; params: unknown[] }): Promise<string[]> {
      const { d1 } = await shard();
      const { results } = await d1.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>();
      return results.map((r) => r.detail);
    }

    /**
     * The page's rows come from one index walk; each row's quote, reply count and reactions are index
     * lookups on that row. The one sort allowed is of a single message's reactions by first use (at most
     * 20 groups): the co-routine that groups them, then its scan.
     */
    function expectIndexedWalk(details: string[], bounds: RegExp) {
      const onMessages = details.filter((d) => /\bmessages\b/.test(d));
      expect(onMessages, details.join("\n")).toEqual([expect.stringMatching(/^SEARCH messages USING INDEX messages_conversation_seq \(conversation_id=\? AND /)]);
      expect(onMessages[0]).toMatch(bounds);
      expect(details.filter((d) => /^(SEARCH|SCAN) (p|r|reactions)\b/.test(d)), details.join("\n")).toEqual([
        "SEARCH p USING INTEGER PRIMARY KEY (rowid=?)",
        "SEARCH r USING INDEX messages_thread (reply_to=?)",
        "SEARCH reactions USING COVERING INDEX sqlite_autoindex_reactions_1 (message_id=?)",
      ]);
      expect(details.filter((d) => /SUBQUERY \d+$/.test(d) && !/CORRELATED/.test(d)), details.join("\n")).toEqual([]);
      const [sort, ...sorts] = details.flatMap((d, i) => (/TEMP B-TREE/.test(d) ? [i] : []));
      expect(sorts, details.join("\n")).toEqual([]);
      if (sort !== undefined) expect(details[sort - 1], details.join("\n")).toMatch(/^SEARCH reactions /);
      expect(details.filter((d) => /^SCAN /.test(d) && !/^SCAN \(subquery-\d+\)$/.test(d)), details.join("\n")).toEqual([]);
    }

    it("walks a page of seqs through the (conversation_id, seq) index, with no scan and no sort", async () => {
      expectIndexedWalk(await plan(bySeqRange((await shard()).shard, id, 4980, 5000)), /seq>\? AND seq<\?\)$/);
    });

    it("walks the after_seq cursor through the index, with no scan and no sort", async () => {
      expectIndexedWalk(await plan(afterSeq((await shard()).shard, id, 4980, 20)), /seq>\?\)$/);
    });

    it("walks the before_seq cursor through the index backwards, with no scan and no sort", async () => {
      expectIndexedWalk(await plan(beforeSeq((await shard()).shard, id, 21, 20)), /seq<\?\)$/);
    });

    it("answers the chat list from the conversations' rows: no read of messages, and no scan", async () => {
      // listChats runs its queries itself: record the SQL it sends to the main D1, then EXPLAIN each statement.
      const statements: { sql: string; params: unknown[] }[] = [];
      const recording = new Proxy(env.DB, {
        get(target, prop) {
          if (prop === "prepare") {
            return (sql: string) => {
              const statement = target.prepare(sql);
              return new Proxy(statement, {
                get(st, p) {
                  if (p === "bind") return (...params: unknown[]) => (statements.push({ sql, params }), st.bind(...params));
                  const value = Reflect.get(st, p);
                  return typeof value === "function" ? value.bind(st) : value;
                },
              });
            };
          }
          const value = Reflect.get(target, prop);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const lastOf = (chats: Awaited<ReturnType<typeof listChats>>) => chats.results.find((r) => r.conversation.id === id)?.last_message?.message_body;
      // The row's copy of the last message is written right after the send was answered.
      const chats = await settled(() => listChats(database(recording), a.user.id, { unreadOnly: false, offset: 0, limit: 20 }), (c) => lastOf(c) === "after the seed");
      expect(lastOf(chats)).toBe("after the seed");
      expect(chats.results.find((r) => r.conversation.id === id)?.unread_count).toBe(TOTAL + 1); // a read none of them
      expect(statements.length).toBeGreaterThan(0);
      // The main database has no messages any more, and the list reads none of the 5,000 in the shard.
      expect(statements.filter((s) => /\bmessages\b/.test(s.sql)).map((s) => s.sql)).toEqual([]);
      for (const statement of statements) {
        const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).bind(...statement.params).all<{ detail: string }>();
        const details = results.map((r) => r.detail);
        // The caller's own rows come from the participants_user index, each conversation by its key; the only sort is of those rows.
        // The page's ids are sorted into a subquery first, and a row's members read by its key into another:
        // scanning those is reading the page and the members, nothing more.
        expect(details.filter((d) => /^SCAN /.test(d) && !/^SCAN (page|\(subquery-\d+\))$/.test(d)), details.join("\n")).toEqual([]);
      }
    });
  });
});
