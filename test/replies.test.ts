// Replies and threads (issue 13): a message may quote another of its conversation (`reply_to`); the parent
// counts its live replies, and GET …/messages/{id}/replies/ is the thread, a view of the conversation's one
// seq order. What a user notices: the quote, the counts, the 400s, the paging, and the same over a socket.
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { MessageResource } from "../src/messages/schemas";
import { json, member, start } from "./support/conversations";
import { api, problemOf } from "./support/http";
import { apiIdOf, localId, settled, shardCount, shardOfId, startOn } from "./support/shards";
import { openReady } from "./support/ws";

type Message = MessageResource;
type Page = { count: number; next: string | null; previous: string | null; results: Message[] };
type Member = Awaited<ReturnType<typeof member>>;

// Logins run PBKDF2 and every test makes dozens of real requests: generous limits, nothing here is timed.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let a: Member, b: Member, stranger: Member;

beforeAll(async () => {
  [a, b, stranger] = await Promise.all([member(), member(), member()]);
});

const messagesOf = (conversation: number) => `/api/conversations/${conversation}/messages/`;
const threadOf = (conversation: number, parent: number, query = "") => `/api/conversations/${conversation}/messages/${parent}/replies/${query}`;

/** POSTs a message (a reply when `replyTo` is given) and returns the raw response. */
function post(who: Member, conversation: number, body: string, replyTo?: number, clientMessageId?: string) {
  return api(messagesOf(conversation), {
    method: "POST",
    token: who.token,
    json: { message_body: body, ...(replyTo !== undefined ? { reply_to: replyTo } : {}), ...(clientMessageId ? { client_message_id: clientMessageId } : {}) },
  });
}

/** Sends and expects 201. */
async function sent(who: Member, conversation: number, body: string, replyTo?: number): Promise<Message> {
  const res = await post(who, conversation, body, replyTo);
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Message>(res);
}

/** GET `path` as `who`, expecting 200. */
async function read<T>(who: Member, path: string): Promise<T> {
  const res = await api(path, { token: who.token });
  expect(res.status, `${path}: ${res.status} ${await res.clone().text()}`).toBe(200);
  return json<T>(res);
}

const detail = (who: Member, conversation: number, id: number) => read<Message>(who, `${messagesOf(conversation)}${id}/`);

async function remove(who: Member, conversation: number, id: number) {
  expect((await api(`${messagesOf(conversation)}${id}/`, { method: "DELETE", token: who.token })).status).toBe(204);
}

/** The path and query of an absolute link. */
const pathOf = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

/** Follows `next` (or `previous`) links from `first` until there is none; every page 200. */
async function walk(who: Member, first: string, direction: "next" | "previous"): Promise<Page[]> {
  const pages: Page[] = [];
  let path: string | null = first;
  while (path) {
    const page: Page = await read<Page>(who, path);
    pages.push(page);
    path = page[direction] && pathOf(page[direction]!);
    if (pages.length > 50) throw new Error("links never stop");
  }
  return pages;
}

const senderOf = (m: Member) => ({ id: m.user.id, first_name: m.user.first_name, last_name: m.user.last_name });
const seqs = (messages: Message[]) => messages.map((m) => m.seq);
const REPLY_TO_SENTENCE = /^`reply_to` .+\.$/;

describe("a reply", () => {
  it("quotes its parent: id, seq, the parent sender's names, a preview of its first 140 characters, not deleted", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    // 200 characters, half of them outside the BMP: the preview counts characters, not UTF-16 units.
    const long = "é😀".repeat(100);
    const parent = await sent(b, conversation, long);
    const short = await sent(b, conversation, "short one");
    const reply = await sent(a, conversation, "answering the long one", parent.id);

    expect(reply.reply_to).toEqual({ id: parent.id, seq: parent.seq, sender: senderOf(b), preview: [...long].slice(0, 140).join(""), deleted: false });
    expect([...reply.reply_to!.preview]).toHaveLength(140);
    expect(reply.reply_count).toBe(0);
    // Read back, every view shows the same quote as the answer to the send.
    expect(await detail(b, conversation, reply.id)).toEqual({ ...reply, status: expect.any(String) });
    expect((await detail(a, conversation, reply.id)).reply_to).toEqual(reply.reply_to);
    const history = await read<Page>(b, `${messagesOf(conversation)}?page_size=100`);
    expect(history.results.find((m) => m.id === reply.id)!.reply_to).toEqual(reply.reply_to);

    // A short body is quoted whole; a message that replies to nothing has no quote.
    const toShort = await sent(a, conversation, "answering the short one", short.id);
    expect(toShort.reply_to).toEqual({ id: short.id, seq: short.seq, sender: senderOf(b), preview: "short one", deleted: false });
    expect(parent.reply_to).toBeNull();
    expect((await detail(a, conversation, parent.id)).reply_to).toBeNull();
  });

  it("counts on its parent while it is live: reply_count drops when a reply is deleted, and replies to replies count on their own parent", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const parent = await sent(a, conversation, "parent");
    const first = await sent(b, conversation, "first reply", parent.id);
    await sent(a, conversation, "second reply", parent.id);
    await sent(b, conversation, "not a reply");
    const third = await sent(b, conversation, "third reply", parent.id);
    const nested = await sent(a, conversation, "a reply to the first reply", first.id);

    expect((await detail(b, conversation, parent.id)).reply_count).toBe(3);
    expect((await detail(b, conversation, first.id)).reply_count).toBe(1);

    await remove(b, conversation, third.id);
    expect((await detail(a, conversation, parent.id)).reply_count).toBe(2);
    const history = await read<Page>(a, `${messagesOf(conversation)}?page_size=100`);
    expect(history.results.find((m) => m.id === parent.id)!.reply_count).toBe(2);

    await remove(a, conversation, nested.id);
    expect((await detail(a, conversation, first.id)).reply_count).toBe(0);
    expect((await detail(a, conversation, parent.id)).reply_count).toBe(2);
  });

  it("to a message of another conversation, a missing one, one of another shard or a deleted one is 400 with a sentence, and takes no seq", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const other = (await start(a, [b.user.id])).id;
    const elsewhere = await sent(a, other, "in another conversation");
    const parent = await sent(a, conversation, "a live parent");
    const gone = await sent(a, conversation, "soon deleted");
    await remove(a, conversation, gone.id);

    // The same row number as the live parent, in the other shard: the shard is part of the id.
    const otherShard = (shardOfId(parent.id) + 1) % shardCount();
    const wrongShard = apiIdOf(localId(parent.id), otherShard);
    expect(shardCount()).toBeGreaterThan(1);
    const missing = apiIdOf(localId(parent.id) + 100_000, shardOfId(parent.id));

    for (const replyTo of [elsewhere.id, missing, wrongShard, gone.id]) {
      const res = await post(b, conversation, "this reply must not be stored", replyTo);
      expect(res.status, `reply_to ${replyTo}`).toBe(400);
      const { contentType, body } = await problemOf(res);
      expect(contentType).toContain("application/problem+json");
      expect(body.detail).toMatch(REPLY_TO_SENTENCE);
    }

    // Nothing was stored: the next message takes the seq right after the last good one, and the history has no gap.
    const next = await sent(b, conversation, "after the rejected replies", parent.id);
    expect(next.seq).toBe(gone.seq + 1);
    const history = await read<Page>(a, `${messagesOf(conversation)}?page_size=100`);
    expect(seqs(history.results)).toEqual([1, 2, 3]);
    expect(history.results.map((m) => m.message_body)).not.toContain("this reply must not be stored");
    expect((await detail(a, conversation, parent.id)).reply_count).toBe(1);
  });

  it("keeps the conversation's gap-free seq order: a thread is a view of it", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const parent = await sent(a, conversation, "parent");
    const sentInOrder: Message[] = [parent];
    for (let i = 1; i <= 6; i++) sentInOrder.push(await sent(i % 2 ? b : a, conversation, `message ${i}`, i % 3 === 0 ? undefined : parent.id));

    const history = await read<Page>(a, `${messagesOf(conversation)}?page_size=100`);
    expect(seqs(history.results)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Replies are in the conversation's history like any message, each in the place it was sent.
    expect(history.results.map((m) => [m.id, m.reply_to?.id ?? null])).toEqual(sentInOrder.map((m) => [m.id, m.reply_to?.id ?? null]));
    const thread = await read<Page>(b, threadOf(conversation, parent.id));
    expect(seqs(thread.results)).toEqual(sentInOrder.filter((m) => m.reply_to?.id === parent.id).map((m) => m.seq));
    expect(seqs(thread.results)).toEqual([2, 3, 5, 6]);
    // A reply in the thread is the same resource as in the history.
    expect(thread.results).toEqual(history.results.filter((m) => m.reply_to?.id === parent.id).map((m) => ({ ...m, status: expect.any(String) })));
  });

  it("shows its parent deleted once it is: deleted true, an empty preview, everywhere it is read", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const parent = await sent(b, conversation, "I will take this back");
    const reply = await sent(a, conversation, "too late, I saw it", parent.id);
    await remove(b, conversation, parent.id);

    const quote = { id: parent.id, seq: parent.seq, sender: senderOf(b), preview: "", deleted: true };
    expect((await detail(a, conversation, reply.id)).reply_to).toEqual(quote);
    const history = await read<Page>(a, `${messagesOf(conversation)}?page_size=100`);
    expect(history.results.find((m) => m.id === reply.id)!.reply_to).toEqual(quote);
    const thread = await read<Page>(b, threadOf(conversation, parent.id));
    expect(thread.results.map((m) => [m.id, m.reply_to])).toEqual([[reply.id, quote]]);
    // A socket replaying the history sees the same.
    const socket = await openReady(conversation, { token: b.token, afterSeq: 0 });
    const replayed = socket.events.find((e) => e.type === "message.created" && e.message.id === reply.id);
    expect(replayed.message.reply_to).toEqual(quote);
    socket.ws.close(1000);
  });

  it("retried with the same client_message_id returns the first message with its quote, even after the parent was deleted", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const parent = await sent(b, conversation, "parent of a retried reply");
    const first = await post(a, conversation, "my reply", parent.id, "reply-1");
    expect(first.status).toBe(201);
    const original = await json<Message>(first);
    expect(original.reply_to).toMatchObject({ id: parent.id, preview: "parent of a retried reply", deleted: false });

    const again = await post(a, conversation, "my reply", parent.id, "reply-1");
    expect(again.status).toBe(200);
    expect(await json<Message>(again)).toEqual(original);

    // The retry of a send that was stored is not a new reply: a deleted parent does not turn it into a 400.
    await remove(b, conversation, parent.id);
    const late = await post(a, conversation, "my reply", parent.id, "reply-1");
    expect(late.status).toBe(200);
    expect(await json<Message>(late)).toEqual({ ...original, reply_to: { ...original.reply_to!, preview: "", deleted: true }, status: expect.any(String) });
    const history = await read<Page>(a, `${messagesOf(conversation)}?page_size=100`);
    expect(seqs(history.results)).toEqual([1, 2]);
  });
});

describe("replies over the conversation socket", () => {
  it("a send frame with reply_to is acked with the quote, and every socket's message.created carries it", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const parent = await sent(b, conversation, "ask me anything");
    const [sa, sb] = await Promise.all([openReady(conversation, { token: a.token }), openReady(conversation, { token: b.token })]);

    sa.send({ type: "send", message_body: "over the socket", client_message_id: "ws-reply-1", reply_to: parent.id });
    const ack = await sa.next((e) => e.type === "ack" && e.client_message_id === "ws-reply-1");
    const quote = { id: parent.id, seq: parent.seq, sender: senderOf(b), preview: "ask me anything", deleted: false };
    expect(ack.message).toMatchObject({ message_body: "over the socket", seq: 2, reply_to: quote, reply_count: 0 });
    for (const s of [sa, sb]) {
      const created = await s.next((e) => e.type === "message.created" && e.message.seq === 2);
      expect(created.message.reply_to).toEqual(quote);
      expect(created.message.id).toBe(ack.message.id);
    }
    // Stored as acked: the REST read shows the same quote.
    expect((await detail(b, conversation, ack.message.id)).reply_to).toEqual(quote);

    // A REST reply reaches the sockets with its quote too.
    const rest = await sent(b, conversation, "over REST", parent.id);
    for (const s of [sa, sb]) expect((await s.next((e) => e.type === "message.created" && e.message.id === rest.id)).message.reply_to).toEqual(quote);

    // A socket retry returns the first message with its quote.
    sa.send({ type: "send", message_body: "over the socket", client_message_id: "ws-reply-1", reply_to: parent.id });
    const retried = await sa.next((e) => e.type === "ack" && e.client_message_id === "ws-reply-1" && e !== ack);
    expect(retried.message).toMatchObject({ id: ack.message.id, seq: 2, reply_to: quote });
    for (const s of [sa, sb]) s.ws.close(1000);
    // The parent counts both replies, whichever way they came.
    expect((await detail(a, conversation, parent.id)).reply_count).toBe(2);
  });

  it("a send frame whose reply_to names no message of the conversation gets an error frame with a sentence, and nothing is stored", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const other = (await start(a, [b.user.id])).id;
    const elsewhere = await sent(a, other, "elsewhere");
    const gone = await sent(a, conversation, "deleted");
    await remove(a, conversation, gone.id);
    const [sa, sb] = await Promise.all([openReady(conversation, { token: a.token }), openReady(conversation, { token: b.token })]);

    sa.send({ type: "send", message_body: "bad reply", client_message_id: "bad-1", reply_to: elsewhere.id });
    sa.send({ type: "send", message_body: "bad reply", client_message_id: "bad-2", reply_to: gone.id });
    for (const key of ["bad-1", "bad-2"]) {
      const error = await sa.next((e) => e.type === "error" && e.client_message_id === key);
      expect(error.code).toBe("invalid_frame");
      expect(error.detail).toMatch(REPLY_TO_SENTENCE);
    }
    // A good message after them takes the next seq; the bad ones never reached anyone.
    sa.send({ type: "send", message_body: "good one", client_message_id: "good-1" });
    expect((await sa.next((e) => e.type === "ack" && e.client_message_id === "good-1")).message.seq).toBe(2);
    await sb.next((e) => e.type === "message.created" && e.message.seq === 2);
    expect(sb.events.filter((e) => e.type === "message.created").map((e) => e.message.message_body)).toEqual(["good one"]);
    expect(sa.events.filter((e) => e.type === "ack")).toHaveLength(1);
    for (const s of [sa, sb]) s.ws.close(1000);
  });
});

describe("the thread", () => {
  /** A conversation whose parent has 7 replies (the 3rd deleted) among other messages; returns their seqs. */
  async function threaded() {
    const conversation = (await start(a, [b.user.id])).id;
    const parent = await sent(a, conversation, "parent");
    const decoy = await sent(b, conversation, "another parent");
    const replies: Message[] = [];
    for (let i = 1; i <= 7; i++) {
      replies.push(await sent(i % 2 ? a : b, conversation, `reply ${i}`, parent.id));
      // Messages around the replies: other replies and plain messages.
      if (i % 2) await sent(b, conversation, `reply to the decoy ${i}`, decoy.id);
      else await sent(a, conversation, `plain ${i}`);
    }
    await remove(a, conversation, replies[2]!.id);
    return { conversation, parent, replies, replySeqs: seqs(replies) };
  }

  it("lists the replies oldest first by page and page_size, counting deleted replies, with next/previous links that stop", async () => {
    const { conversation, parent, replies, replySeqs } = await threaded();

    const pages = await walk(b, threadOf(conversation, parent.id, "?page_size=3"), "next");
    expect(pages.map((p) => p.results.length)).toEqual([3, 3, 1]);
    for (const p of pages) expect(p.count).toBe(7);
    expect(pages.flatMap((p) => seqs(p.results))).toEqual(replySeqs);
    expect(pages.flatMap((p) => p.results.map((m) => m.reply_to?.id))).toEqual(replies.map(() => parent.id));
    expect(pages[0]!.previous).toBeNull();
    // The deleted reply keeps its place as a tombstone.
    const tombstone = pages[0]!.results[2]!;
    expect(tombstone).toMatchObject({ id: replies[2]!.id, deleted: true, message_body: "" });
    // Back from the last page to the first.
    const back = await walk(b, pathOf(pages[1]!.next!), "previous");
    expect(back.map((p) => seqs(p.results))).toEqual([replySeqs.slice(6), replySeqs.slice(3, 6), replySeqs.slice(0, 3)]);
    // Past the end is a 404; live replies only on the parent's count.
    expect((await api(threadOf(conversation, parent.id, "?page_size=3&page=4"), { token: b.token })).status).toBe(404);
    expect((await detail(a, conversation, parent.id)).reply_count).toBe(6);
  });

  it("pages by cursor: after_seq and before_seq with limit, oldest first, next/previous links that stop", async () => {
    const { conversation, parent, replySeqs } = await threaded();

    const forward = await walk(a, threadOf(conversation, parent.id, "?after_seq=0&limit=3"), "next");
    expect(forward.map((p) => seqs(p.results))).toEqual([replySeqs.slice(0, 3), replySeqs.slice(3, 6), replySeqs.slice(6)]);
    for (const p of forward) expect(p.count).toBe(7);
    expect(forward[0]!.previous).toBeNull();

    // From after the newest, backwards: each page still oldest first.
    const backward = await walk(a, threadOf(conversation, parent.id, "?before_seq=1000&limit=3"), "previous");
    expect(backward.map((p) => seqs(p.results))).toEqual([replySeqs.slice(4), replySeqs.slice(1, 4), replySeqs.slice(0, 1)]);
    expect(backward[0]!.next).toBeNull();

    // A cursor in the middle of the thread (at a seq that is no reply) and its links both ways.
    const middle = await read<Page>(a, threadOf(conversation, parent.id, `?after_seq=${replySeqs[1]! + 1}&limit=2`));
    expect(seqs(middle.results)).toEqual(replySeqs.slice(2, 4));
    expect(seqs((await read<Page>(a, pathOf(middle.previous!))).results)).toEqual(replySeqs.slice(0, 2));
    expect(seqs((await read<Page>(a, pathOf(middle.next!))).results)).toEqual(replySeqs.slice(4, 6));

    // One cursor at a time.
    const both = await api(threadOf(conversation, parent.id, "?after_seq=1&before_seq=9"), { token: a.token });
    expect(both.status).toBe(400);
    expect((await problemOf(both)).body.detail).toMatch(/after_seq.*before_seq/);
  });

  it("of a message without replies is empty, and of a reply lists the replies to that reply", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const lonely = await sent(a, conversation, "nobody answers");
    expect(await read<Page>(b, threadOf(conversation, lonely.id))).toEqual({ count: 0, next: null, previous: null, results: [] });
    const reply = await sent(b, conversation, "I do", lonely.id);
    const nested = await sent(a, conversation, "thanks", reply.id);
    expect((await read<Page>(b, threadOf(conversation, reply.id))).results.map((m) => m.id)).toEqual([nested.id]);
    expect((await read<Page>(b, threadOf(conversation, lonely.id))).results.map((m) => m.id)).toEqual([reply.id]);
  });

  it("is a 404 to a stranger, the same as for a message that does not exist, and to a participant for a message of another conversation", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const other = (await start(a, [stranger.user.id])).id;
    const parent = await sent(a, conversation, "private");
    await sent(b, conversation, "private reply", parent.id);
    const elsewhere = await sent(stranger, other, "the stranger's own message");

    const asStranger = await api(threadOf(conversation, parent.id), { token: stranger.token });
    expect(asStranger.status).toBe(404);
    const strangerBody = (await problemOf(asStranger)).body;
    expect(JSON.stringify(strangerBody)).not.toContain("private");
    // A stranger replying into the conversation is turned away the same way.
    expect((await post(stranger, conversation, "let me in", parent.id)).status).toBe(404);

    const missing = await api(threadOf(conversation, apiIdOf(localId(parent.id) + 100_000, shardOfId(parent.id))), { token: b.token });
    expect(missing.status).toBe(404);
    // A message of a conversation b is not in, asked for under b's conversation.
    const foreign = await api(threadOf(conversation, elsewhere.id), { token: b.token });
    expect(foreign.status).toBe(404);
    expect((await problemOf(foreign)).body.detail).toBe((await problemOf(missing)).body.detail);
  });
});

describe("replies across shards", () => {
  it("a reply in a conversation of either shard quotes its parent, and a parent's id read with the other shard is no message", async () => {
    for (let shard = 0; shard < shardCount(); shard++) {
      const conversation = (await startOn(shard, a, [b.user.id])).id;
      const parent = await sent(b, conversation, `parent on shard ${shard}`);
      expect(shardOfId(parent.id)).toBe(shard);
      const reply = await sent(a, conversation, "reply", parent.id);
      expect(reply.reply_to).toMatchObject({ id: parent.id, seq: 1, preview: `parent on shard ${shard}` });
      expect((await read<Page>(a, threadOf(conversation, parent.id))).results.map((m) => m.id)).toEqual([reply.id]);
      const twin = apiIdOf(localId(parent.id), (shard + 1) % shardCount());
      expect((await post(a, conversation, "to the twin", twin)).status).toBe(400);
      expect((await api(threadOf(conversation, twin), { token: a.token })).status).toBe(404);
      // The main database recorded the reply's flush: the chat list's last_seq moved on to it.
      await settled(
        async () => (await read<{ results: { conversation: { id: number; last_seq: number } }[] }>(a, "/api/chats/?page_size=100")).results.find((c) => c.conversation.id === conversation)?.conversation.last_seq,
        (seq) => seq === 2,
      );
    }
  });
});
