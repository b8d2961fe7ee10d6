// Full-text search (issue 13): GET /api/search/messages/ over the caller's conversations on every shard,
// and the query building behind it (src/search/query.ts).
import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { MessageResource } from "../src/messages/schemas";
import { matchExpression, searchTerms } from "../src/search/query";
import { snippetOf } from "../src/search/snippet";
import { json, send, start } from "./support/conversations";
import { api, type Problem } from "./support/http";
import { shardOf, shardOfId, startOn } from "./support/shards";
import { edit, removeFrom, unsend } from "./support/streams";
import { streamMember } from "./support/ws";

// Users are made straight in D1 (no PBKDF2); the property test makes a hundred requests on a busy machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

type Who = Awaited<ReturnType<typeof streamMember>>;
type Hit = { message: MessageResource; snippet: string };
type Results = { next: string | null; results: Hit[] };

const SEARCH = "/api/search/messages/";

/** Query parameters, numbers written out. */
const paramsOf = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));

function search(who: Who, params: Record<string, string | number>) {
  const query = paramsOf(params);
  return api(`${SEARCH}?${query}`, { token: who.token });
}

/** A search that must answer 200. */
async function found(who: Who, params: Record<string, string | number>): Promise<Results> {
  const res = await search(who, params);
  expect(res.status, `${JSON.stringify(params)}: ${res.status}`).toBe(200);
  return json<Results>(res);
}

/** The bodies a search finds, in the order given. */
const bodies = async (who: Who, q: string, extra: Record<string, string | number> = {}) => (await found(who, { q, ...extra })).results.map((h) => h.message.message_body);

/** A search that must answer 400 with a problem whose detail is a sentence. */
async function refused(who: Who, params: Record<string, string | number>): Promise<Problem> {
  const res = await search(who, params);
  expect(res.status, `${JSON.stringify(params)}`).toBe(400);
  expect(res.headers.get("Content-Type")).toContain("application/problem+json");
  const problem = await json<Problem>(res);
  expect(problem.detail).toMatch(/^[A-Z`].*\.$/s);
  return problem;
}

/** The path and query of an absolute `next` link. */
const pathOf = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

/** Every hit of a search, following `next` from the first page; also the pages' sizes. */
async function allPages(who: Who, params: Record<string, string | number>) {
  const hits: Hit[] = [];
  const sizes: number[] = [];
  const first = paramsOf(params);
  let path: string | null = `${SEARCH}?${first}`;
  for (let pages = 0; path; pages++) {
    expect(pages).toBeLessThan(20);
    const res = await api(path, { token: who.token });
    expect(res.status, path).toBe(200);
    const page = await json<Results>(res);
    hits.push(...page.results);
    sizes.push(page.results.length);
    if (page.next) expect(page.next.startsWith("http://hey.test/api/search/messages/?")).toBe(true);
    path = page.next && pathOf(page.next);
  }
  return { ids: hits.map((h) => h.message.id), sizes };
}

/** Lets the clock move, so the next message gets a later sent_at. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

describe("matching", () => {
  it("finds messages by word, whatever the case and accents, and gives each as the message resource", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const cafe = await send(a, c.id, "Meet at the Café au lait");
    const hello = await send(b, c.id, "HELLO there");
    await send(a, c.id, "nothing to see");

    for (const q of ["cafe", "CAFE", "café", "Cafè", "lait"]) expect(await bodies(b, q), q).toEqual([cafe.message_body]);
    for (const q of ["hello", "Hello", "hellò"]) expect(await bodies(a, q), q).toEqual([hello.message_body]);
    expect(await bodies(a, "zebra")).toEqual([]);

    // The hit's message is the message as the caller reads it.
    const [hit] = (await found(b, { q: "cafe" })).results;
    const read = await api(`/api/conversations/${c.id}/messages/${cafe.id}/`, { token: b.token });
    expect(hit!.message).toEqual(await json(read));
  });

  it("matches the last word as a prefix, and the others only as whole words", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    await send(a, c.id, "hello world");
    expect(await bodies(a, "hel")).toEqual(["hello world"]);
    expect(await bodies(a, "h")).toEqual(["hello world"]);
    expect(await bodies(a, "world hel")).toEqual(["hello world"]);
    // "hel" is not the last word here: it must be a whole word.
    expect(await bodies(a, "hel world")).toEqual([]);
    expect(await bodies(a, "helloo")).toEqual([]);
    // A space after the last word finishes it: then it too must be a whole word.
    expect(await bodies(a, "hel ")).toEqual([]);
    expect(await bodies(a, "hello ")).toEqual(["hello world"]);
    const [hit] = (await found(a, { q: "hello " })).results;
    expect(hit!.snippet).toBe("<mark>hello</mark> world");
  });

  it("needs every word to match, and treats operators and punctuation as text", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    await send(a, c.id, "red apple");
    await tick();
    await send(a, c.id, "green apple");
    await tick();
    await send(a, c.id, "red car");

    expect(await bodies(a, "red apple")).toEqual(["red apple"]);
    expect(await bodies(a, "apple red")).toEqual(["red apple"]);
    expect(await bodies(a, "apple")).toEqual(["green apple", "red apple"]);
    expect(await bodies(a, "red")).toEqual(["red car", "red apple"]);
    // OR and NOT are words to find, not operators: no message has "or" or "not".
    expect(await bodies(a, "apple OR car")).toEqual([]);
    expect(await bodies(a, "red NOT car")).toEqual([]);
    // "-car" is the word car, not its exclusion; quotes and stars are text.
    expect(await bodies(a, "red -car")).toEqual(["red car"]);
    expect(await bodies(a, '"red car"')).toEqual(["red car"]);
    expect(await bodies(a, "car*")).toEqual(["red car"]);
    expect(await bodies(a, "body:red")).toEqual([]);
  });
});

describe("whose messages are searched", () => {
  it("only the conversations the caller is in now: a removed participant stops finding them", async () => {
    const [a, b, outsider] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    await send(a, c.id, "the quokka plan");
    expect(await bodies(b, "quokka")).toEqual(["the quokka plan"]);
    expect(await bodies(outsider, "quokka")).toEqual([]);

    expect((await removeFrom(a, c.id, b.user.id)).status).toBe(204);
    expect(await bodies(b, "quokka")).toEqual([]);
    expect(await bodies(a, "quokka")).toEqual(["the quokka plan"]);
  });

  it("searches one conversation with `conversation`; a stranger's is 404, word for word a nonexistent one's", async () => {
    const [a, b, outsider] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const one = await start(a, [b.user.id]);
    const two = await start(a, [outsider.user.id]);
    await send(a, one.id, "walrus in one");
    await send(a, two.id, "walrus in two");

    expect(sortedBodies(await bodies(a, "walrus"))).toEqual(["walrus in one", "walrus in two"]);
    expect(await bodies(a, "walrus", { conversation: one.id })).toEqual(["walrus in one"]);
    expect(await bodies(a, "walrus", { conversation: two.id })).toEqual(["walrus in two"]);

    const stranger = await search(b, { q: "walrus", conversation: two.id });
    const missing = await search(b, { q: "walrus", conversation: 999_999_999 });
    expect(stranger.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await stranger.json()).toEqual(await missing.json());

    // A participant removed from a conversation is a stranger to it.
    expect((await removeFrom(a, one.id, b.user.id)).status).toBe(204);
    expect((await search(b, { q: "walrus", conversation: one.id })).status).toBe(404);
  });

  it("never finds a deleted message, in either order", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const doomed = await send(a, c.id, "ephemeral thought");
    await send(a, c.id, "ephemeral but kept");
    expect(await bodies(b, "ephemeral thought")).toEqual(["ephemeral thought"]);

    expect((await unsend(a, c.id, doomed.id)).status).toBe(204);
    for (const order of ["newest", "rank"]) {
      expect(await bodies(b, "ephemeral thought", { order })).toEqual([]);
      expect(await bodies(b, "ephemeral", { order })).toEqual(["ephemeral but kept"]);
    }
  });

  it("finds an edited message by its new words, not its old ones", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const m = await send(a, c.id, "original draft");
    expect((await edit(a, c.id, m.id, "final version")).status).toBe(200);

    expect(await bodies(b, "original")).toEqual([]);
    expect(await bodies(b, "draft")).toEqual([]);
    const hits = (await found(b, { q: "final" })).results;
    expect(hits.map((h) => [h.message.id, h.message.message_body, h.message.edited_at !== null])).toEqual([[m.id, "final version", true]]);

    // And back again.
    expect((await edit(a, c.id, m.id, "original draft again")).status).toBe(200);
    expect(await bodies(b, "final")).toEqual([]);
    expect(await bodies(b, "original")).toEqual(["original draft again"]);
  });
});

const sortedBodies = (list: string[]) => [...list].sort();

describe("snippets", () => {
  it("are the body HTML-escaped, with each match in <mark>", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    await send(a, c.id, `<script>alert("x")</script> & 'hello' there, hello`);
    await send(a, c.id, "Déjà vu at the Café");

    const [hit] = (await found(b, { q: "hello" })).results;
    expect(hit!.snippet).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;<mark>hello</mark>&#39; there, <mark>hello</mark>");
    expect(hit!.message.message_body).toBe(`<script>alert("x")</script> & 'hello' there, hello`);

    // The match is marked as written in the body, accents and case included.
    expect((await found(b, { q: "deja cafe" })).results.map((h) => h.snippet)).toEqual(["<mark>Déjà</mark> vu at the <mark>Café</mark>"]);
    // A prefix marks the whole word.
    expect((await found(b, { q: "scri" })).results.map((h) => h.snippet)).toEqual([
      "&lt;<mark>script</mark>&gt;alert(&quot;x&quot;)&lt;/<mark>script</mark>&gt; &amp; &#39;hello&#39; there, hello",
    ]);
  });

  it("cut a long body around the match with an ellipsis", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const filler = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    await send(a, c.id, `${filler} needle ${filler}`);
    const [hit] = (await found(b, { q: "needle" })).results;
    expect(hit!.snippet).toContain("<mark>needle</mark>");
    expect(hit!.snippet).toContain("…");
    expect(hit!.snippet.length).toBeLessThan(filler.length);
  });

  it("never turn a body's own characters into markup (control characters U+0002 and U+0003 included)", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    // Control characters are allowed in a body (the API stores a body as sent).
    const sent = await send(a, c.id, "x\u0003y \u0002z hello");
    const [hit] = (await found(b, { q: "hello" })).results;
    expect(hit!.message.message_body).toBe(sent.message_body);
    // Exactly one match, so exactly one <mark>…</mark>, around it.
    expect(hit!.snippet.match(/<\/?mark>/g)).toEqual(["<mark>", "</mark>"]);
    expect(hit!.snippet).toMatch(/<mark>hello<\/mark>$/);
  });
});

describe("order", () => {
  it("is newest first by default; by rank, a message with the words many times comes before one with them once", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    // Same length, so only how often the word occurs tells them apart; the better match is the older.
    const many = await send(a, c.id, "banana banana banana banana");
    await tick();
    const once = await send(a, c.id, "banana pear plum fig");
    await tick();
    const other = await send(b, c.id, "banana split kiwi lime");

    const ids = async (order?: string) => (await found(a, { q: "banana", ...(order ? { order } : {}) })).results.map((h) => h.message.id);
    expect(await ids()).toEqual([other.id, once.id, many.id]);
    expect(await ids("newest")).toEqual([other.id, once.id, many.id]);
    const ranked = await ids("rank");
    expect(ranked[0]).toBe(many.id);
    expect(new Set(ranked)).toEqual(new Set([many.id, once.id, other.id]));
  });
});

describe("paging across both shards", () => {
  let a: Who;
  let b: Who;
  /** The matching messages, oldest first. */
  const matches: MessageResource[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([streamMember(), streamMember()]);
    const zero = await startOn(0, a, [b.user.id]);
    const one = await startOn(1, a, [b.user.id]);
    const alsoOne = await startOn(1, b, [a.user.id]);
    expect((await shardOf(zero.id)).index).toBe(0);
    expect((await shardOf(one.id)).index).toBe(1);
    const rooms = [zero.id, one.id, alsoOne.id];
    // Five matches, alternating shards, among messages that do not match; one sent by b.
    for (let i = 0; i < 5; i++) {
      matches.push(await send(i === 3 ? b : a, rooms[i % 3]!, `lighthouse number ${i}${" glow".repeat(i)}`));
      await send(a, rooms[(i + 1) % 3]!, `unrelated ${i}`);
      await tick();
    }
    expect(new Set(matches.map((m) => shardOfId(m.id)))).toEqual(new Set([0, 1]));
  });

  const newestFirst = () => [...matches].sort((p, q) => Date.parse(q.sent_at) - Date.parse(p.sent_at) || q.id - p.id).map((m) => m.id);

  it("newest first: following `next` with limit=2 visits the five matches once each, in order, three pages", async () => {
    const { ids, sizes } = await allPages(a, { q: "lighthouse", limit: 2 });
    expect(ids).toEqual(newestFirst());
    expect(sizes).toEqual([2, 2, 1]);
    // The same as one page holding them all.
    expect((await found(a, { q: "lighthouse", limit: 50 })).results.map((h) => h.message.id)).toEqual(newestFirst());
    expect((await found(a, { q: "lighthouse", limit: 5 })).next).toBeNull();
  });

  it("by rank: following `next` with limit=2 visits the five matches once each, in the one-page order", async () => {
    const { ids, sizes } = await allPages(a, { q: "lighthouse", order: "rank", limit: 2 });
    expect(sizes).toEqual([2, 2, 1]);
    expect(new Set(ids).size).toBe(5);
    expect([...ids].sort()).toEqual(matches.map((m) => m.id).sort());
    expect(ids).toEqual((await found(a, { q: "lighthouse", order: "rank", limit: 50 })).results.map((h) => h.message.id));
  });

  it("every page size visits every match once, in both orders", async () => {
    for (const order of ["newest", "rank"]) {
      const whole = (await found(a, { q: "lighthouse", order, limit: 50 })).results.map((h) => h.message.id);
      for (let limit = 1; limit <= 6; limit++) {
        const { ids, sizes } = await allPages(a, { q: "lighthouse", order, limit });
        expect(ids, `${order}, limit ${limit}`).toEqual(whole);
        expect(sizes.length).toBe(Math.max(1, Math.ceil(5 / limit)));
      }
    }
  });

  it("newest first, a match arriving between pages neither repeats nor skips the rest", async () => {
    const first = await found(a, { q: "lighthouse", limit: 2 });
    expect(first.results.map((h) => h.message.id)).toEqual(newestFirst().slice(0, 2));
    const c = await start(a, [b.user.id]);
    const newer = await send(b, c.id, "lighthouse arrives late");
    const rest: number[] = [];
    let path: string | null = pathOf(first.next!);
    while (path) {
      const page: Results = await json<Results>(await api(path, { token: a.token }));
      rest.push(...page.results.map((h) => h.message.id));
      path = page.next && pathOf(page.next);
    }
    expect(rest).toEqual(newestFirst().slice(2));
    // It is the newest match now.
    expect((await found(a, { q: "lighthouse", limit: 1 })).results[0]!.message.id).toBe(newer.id);
    expect((await unsend(b, c.id, newer.id)).status).toBe(204);
  });

  it("refuses a cursor it did not give with 400", async () => {
    await refused(a, { q: "lighthouse", cursor: "abc" });
    await refused(a, { q: "lighthouse", cursor: "" + "1.2.3" });
    // A rank cursor is no newest-first cursor, and the other way round.
    await refused(a, { q: "lighthouse", cursor: "2" });
    await refused(a, { q: "lighthouse", order: "rank", cursor: "1700000000000.5" });
    await refused(a, { q: "lighthouse", order: "rank", cursor: "-1" });
    await refused(a, { q: "lighthouse", cursor: "x".repeat(101) });
  });
});

describe("what a search must say", () => {
  it("refuses an empty, blank or wordless q, or none, with a 400 sentence", async () => {
    const a = await streamMember();
    const c = await start(a, []);
    await send(a, c.id, "something to find");
    for (const q of ["", "   ", "\t\n", "!!! ... --- ***", '"" () : ^ *', "-"]) await refused(a, { q });
    const res = await api(SEARCH, { token: a.token });
    expect(res.status).toBe(400);
  });

  it("takes limit 1 to 50 and refuses anything else, and refuses an unknown order", async () => {
    const a = await streamMember();
    await found(a, { q: "x", limit: 50 });
    await found(a, { q: "x", limit: 1 });
    await refused(a, { q: "x", limit: 51 });
    await refused(a, { q: "x", limit: 0 });
    await refused(a, { q: "x", limit: "ten" });
    await refused(a, { q: "x", order: "oldest" });
  });

  it("needs a bearer token with read:messages", async () => {
    expect((await api(`${SEARCH}?q=x`)).status).toBe(401);
    const narrow = await streamMember({ scopes: ["send:messages"] });
    expect((await api(`${SEARCH}?q=x`, { token: narrow.token })).status).toBe(403);
  });
});

// What people type, and what FTS5 would read as syntax if it reached MATCH unquoted.
const SYNTAX = ['"', "*", "-", ".", "NEAR", "NEAR(", "AND", "OR", "NOT", "(", ")", ":", "^", "body:", "+", "{body}", "''", "\\", "\u0000", "hello", "héllo", "é", " ", "  "];
const piece = fc.oneof(
  fc.constantFrom(...SYNTAX),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.string({ unit: "binary-ascii", maxLength: 6 }),
  fc.string({ unit: "grapheme", maxLength: 4 }),
);
/** Any query text: pieces joined with or without spaces. */
const anyQuery = fc.tuple(fc.array(piece, { maxLength: 10 }), fc.constantFrom("", " ")).map(([parts, sep]) => parts.join(sep));

describe("any q", () => {
  let a: Who;

  beforeAll(async () => {
    a = await streamMember();
    const b = await streamMember();
    // Something to search on both shards, so each query reaches FTS5 on each.
    for (const shard of [0, 1]) {
      const c = await startOn(shard, a, [b.user.id]);
      await send(a, c.id, `hello héllo NEAR AND OR NOT "quoted" body:text a*b (x) ^y shard ${shard}`);
    }
  });

  it("answers 200 or a 400 problem, never a server error", async () => {
    await fc.assert(
      fc.asyncProperty(anyQuery, fc.constantFrom("newest", "rank"), async (q, order) => {
        const res = await search(a, { q, order });
        const text = await res.text();
        expect([200, 400], `q=${JSON.stringify(q)} → ${res.status} ${text.slice(0, 200)}`).toContain(res.status);
        if (res.status === 200) expect(JSON.parse(text)).toHaveProperty("results");
      }),
      { numRuns: 100 },
    );
  });

  it("a NUL character inside a word is only text (200 or 400, never 500)", async () => {
    for (const q of ["a\u0000b", "hello\u0000", "hello wo\u0000rld"]) {
      const res = await search(a, { q });
      expect([200, 400], `q=${JSON.stringify(q)} → ${res.status}`).toContain(res.status);
    }
  });
});

describe("matchExpression (src/search/query.ts)", () => {
  it("is null for a q without any letter or digit", () => {
    for (const q of ["", " ", "\t\n ", "!!!", '" * - . ( ) : ^', "\u0301", "😀 🎉"]) expect(matchExpression(q), JSON.stringify(q)).toBeNull();
  });

  it("quotes every word, doubles quotes inside, and makes the last a prefix", () => {
    expect(matchExpression("hello")).toBe('"hello" *');
    expect(matchExpression("  Hello   world")).toBe('"Hello" "world" *');
    // A space after the last word finishes it: no prefix.
    expect(matchExpression("  Hello   world  ")).toBe('"Hello" "world"');
    expect(matchExpression('say "hi"')).toBe('"say" """hi""" *');
    expect(matchExpression("a OR b NOT c")).toBe('"a" "OR" "b" "NOT" "c" *');
    expect(matchExpression("NEAR(a b)")).toBe('"NEAR(a" "b)" *');
    // Words without a letter or digit are dropped, wherever they are.
    expect(matchExpression("- hello * world .")).toBe('"hello" "world" *');
  });

  it("normalizes to NFC, so a decomposed accent matches the composed one", () => {
    expect(matchExpression("cafe\u0301")).toBe('"caf\u00e9" *');
  });

  it("keeps at most 16 words", () => {
    const words = Array.from({ length: 20 }, (_, i) => `w${i}`);
    expect(matchExpression(words.join(" "))).toBe(`${words.slice(0, 15).map((w) => `"${w}"`).join(" ")} "w15" *`);
  });

  it("is, for any text, null exactly when it has no letter or digit, and otherwise a query FTS5 accepts", async () => {
    const shard = env.MESSAGES_0;
    const samples = fc.sample(anyQuery, { numRuns: 300, seed: 13 });
    const failures: string[] = [];
    for (const q of samples) {
      const match = matchExpression(q);
      expect(match === null, JSON.stringify(q)).toBe(!/[\p{L}\p{N}]/u.test(q.normalize("NFC")));
      if (match === null) continue;
      try {
        await shard.prepare("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH ?").bind(match).first();
      } catch (error) {
        failures.push(`${JSON.stringify(q)} → ${JSON.stringify(match)}: ${String(error).slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe("snippetOf (src/search/snippet.ts)", () => {
  const snippet = (body: string, q: string) => snippetOf(body, searchTerms(q));

  it("escapes the five HTML characters and marks the words that match, as the index compares them", () => {
    expect(snippet(`<a href="x">Tom & Jerry's</a>`, "jerry")).toBe("&lt;a href=&quot;x&quot;&gt;Tom &amp; <mark>Jerry</mark>&#39;s&lt;/a&gt;");
    expect(snippet("Un Café crème", "CAFE")).toBe("Un <mark>Café</mark> crème");
    expect(snippet("hello help helium", "xyz hel")).toBe("<mark>hello</mark> <mark>help</mark> <mark>helium</mark>");
    expect(snippet("a \u0002b\u0003 c", "c")).toBe("a \u0002b\u0003 <mark>c</mark>");
  });

  it("cuts a long body to a window around the first match, with … where it was cut", () => {
    const body = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
    expect(snippet(body, "w20")).toBe(`…${Array.from({ length: 16 }, (_, i) => (i === 4 ? "<mark>w20</mark>" : `w${16 + i}`)).join(" ")}…`);
  });

  it("gives text with no match back as text: no tag, and unescaping restores it", () => {
    const unescape = (html: string) => html.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!);
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !/[\p{L}\p{N}]/u.test(s)), (s) => {
        const html = snippet(s, "zzz");
        expect(html).not.toMatch(/[<>"']/);
        expect(unescape(html)).toBe(s);
      }),
      { numRuns: 200 },
    );
  });
});
