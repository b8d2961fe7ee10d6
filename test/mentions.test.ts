// Mentions (issue 13): `<@USER_ID>` in a body mentions a participant. What the sender, the mentioned user
// and everyone else see of it: the message's `mentions`, the chat list's count of unread mentions, the user
// stream's `mentioned` and the receipt's `mentions`.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageResource } from "../src/messages/schemas";
import { json, send, start } from "./support/conversations";
import { api } from "./support/http";
import { settled } from "./support/shards";
import { addTo, edit, readUpTo, removeFrom, unsend } from "./support/streams";
import { collect, connectStreamReady, endStreams, openReady, streamMember } from "./support/ws";

// Users are made straight in D1 (no PBKDF2), but each test makes dozens of requests on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

type Who = Awaited<ReturnType<typeof streamMember>>;
type Chat = { conversation: { id: number }; last_message: Record<string, unknown> | null; unread_count: number; mentions: number };

// Every frame a user stream got in a test is a StreamEvent (so `mentioned` and `mentions` are there), numbered gap-free.
afterEach(() => {
  expect(endStreams()).toEqual([]);
});

const tag = (who: Who) => `<@${who.user.id}>`;
const sorted = (ids: number[]) => [...ids].sort((p, q) => p - q);

async function message(who: Who, conversationId: number, messageId: number): Promise<MessageResource> {
  const res = await api(`/api/conversations/${conversationId}/messages/${messageId}/`, { token: who.token });
  expect(res.status).toBe(200);
  return json<MessageResource>(res);
}

/** The caller's chat for a conversation, as GET /api/chats/ lists it. */
async function chatOf(who: Who, conversationId: number): Promise<Chat> {
  const res = await api("/api/chats/?page_size=100", { token: who.token });
  expect(res.status).toBe(200);
  const chat = (await json<{ results: Chat[] }>(res)).results.find((c) => c.conversation.id === conversationId);
  if (!chat) throw new Error(`conversation ${conversationId} is not in the chat list`);
  return chat;
}

/**
 * The chat once its mention count is `n` (the chat list's count follows a send by one write to the main
 * database, made after the send is answered): fails with the last count read.
 */
const mentionsReach = (who: Who, conversationId: number, n: number) =>
  settled(
    () => chatOf(who, conversationId),
    (c) => c.mentions === n,
  );

async function patched(who: Who, conversationId: number, messageId: number, body: string): Promise<MessageResource> {
  const res = await edit(who, conversationId, messageId, body);
  expect(res.status).toBe(200);
  return json<MessageResource>(res);
}

describe("resolving <@id> in a body", () => {
  it("lists a participant it names; a non-participant, an unknown id or a malformed tag stays plain text", async () => {
    const [a, b, outsider] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const body = `hi ${tag(b)}, ${tag(outsider)}, <@999999999>, <@0>, <@ ${b.user.id}>, <@-${b.user.id}> and <@${b.user.id}`;
    const sent = await send(a, c.id, body);

    expect(sent.mentions).toEqual([b.user.id]);
    // The body is stored as written: a client renders the tags.
    expect(sent.message_body).toBe(body);
    const read = await message(b, c.id, sent.id);
    expect(read.mentions).toEqual([b.user.id]);
    expect(read.message_body).toBe(body);

    // Nobody is mentioned by a message naming only people outside the conversation.
    const none = await send(a, c.id, `${tag(outsider)} <@999999999>`);
    expect(none.mentions).toEqual([]);
    expect((await message(a, c.id, none.id)).mentions).toEqual([]);
  });

  it("lists each participant once, however often the body names them", async () => {
    const [a, b, d] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id, d.user.id]);
    const sent = await send(a, c.id, `${tag(b)} ${tag(b)} ${tag(d)} ${tag(b)}${tag(d)}`);
    expect(sorted(sent.mentions)).toEqual(sorted([b.user.id, d.user.id]));
    expect(sorted((await message(d, c.id, sent.id)).mentions)).toEqual(sorted([b.user.id, d.user.id]));
  });

  it("resolves against the participants at the time: someone added later is mentioned only by later messages", async () => {
    const [a, b, late] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const before = await send(a, c.id, `waiting for ${tag(late)}`);
    expect(before.mentions).toEqual([]);
    expect((await addTo(a, c.id, late.user.id)).status).toBe(201);
    const after = await send(a, c.id, `welcome ${tag(late)}`);
    expect(after.mentions).toEqual([late.user.id]);
    // The earlier message is not re-resolved by the join.
    expect((await message(late, c.id, before.id)).mentions).toEqual([]);
    // Only the message sent after the join counts for the newcomer.
    expect((await mentionsReach(late, c.id, 1)).mentions).toBe(1);

    // Someone removed is no longer mentionable.
    expect((await removeFrom(a, c.id, b.user.id)).status).toBe(204);
    expect((await send(a, c.id, `bye ${tag(b)}`)).mentions).toEqual([]);
  });

  it("re-resolves on edit: adding and removing a mention changes the message's mentions and the chat list's count (the last message)", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const sent = await send(a, c.id, "no one yet");
    expect(sent.mentions).toEqual([]);
    await settled(() => chatOf(b, c.id), (chat) => chat.unread_count === 1);
    expect((await chatOf(b, c.id)).mentions).toBe(0);

    const added = await patched(a, c.id, sent.id, `now ${tag(b)}`);
    expect(added.mentions).toEqual([b.user.id]);
    expect((await message(b, c.id, sent.id)).mentions).toEqual([b.user.id]);
    await mentionsReach(b, c.id, 1);

    const removed = await patched(a, c.id, sent.id, "never mind");
    expect(removed.mentions).toEqual([]);
    expect((await message(b, c.id, sent.id)).mentions).toEqual([]);
    await mentionsReach(b, c.id, 0);
  });

  it("re-resolves on edit of an older message too", async () => {
    const [a, b, d] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id, d.user.id]);
    const older = await send(a, c.id, `first for ${tag(d)}`);
    await send(a, c.id, "second");
    await send(a, c.id, "third");
    await mentionsReach(d, c.id, 1);

    // The mention moves from d to b.
    expect((await patched(a, c.id, older.id, `first for ${tag(b)}`)).mentions).toEqual([b.user.id]);
    await mentionsReach(b, c.id, 1);
    await mentionsReach(d, c.id, 0);
    expect((await message(d, c.id, older.id)).mentions).toEqual([b.user.id]);

    // And away from everyone.
    expect((await patched(a, c.id, older.id, "first")).mentions).toEqual([]);
    await mentionsReach(b, c.id, 0);
    expect((await chatOf(d, c.id)).mentions).toBe(0);
  });
});

describe("the chat list's mentions", () => {
  it("counts unread messages that mention me, once each, and counts down as I read", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const m1 = await send(a, c.id, `${tag(b)} one`);
    await send(a, c.id, "two");
    const m3 = await send(a, c.id, `${tag(b)} three ${tag(b)}`);
    const m4 = await send(a, c.id, "four");

    const chat = await mentionsReach(b, c.id, 2);
    expect(chat.unread_count).toBe(4);
    // The sender mentioned nobody of theirs.
    expect((await chatOf(a, c.id)).mentions).toBe(0);

    expect((await readUpTo(b, c.id, m1.seq)).status).toBe(200);
    expect((await chatOf(b, c.id)).mentions).toBe(1);
    expect((await readUpTo(b, c.id, m3.seq - 1)).status).toBe(200);
    expect((await chatOf(b, c.id)).mentions).toBe(1);
    expect((await readUpTo(b, c.id, m3.seq)).status).toBe(200);
    expect(await chatOf(b, c.id)).toMatchObject({ mentions: 0, unread_count: 1 });
    expect((await readUpTo(b, c.id, m4.seq)).status).toBe(200);
    expect(await chatOf(b, c.id)).toMatchObject({ mentions: 0, unread_count: 0 });
  });

  it("stops counting a mentioning message once it is deleted (older or last)", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const first = await send(a, c.id, `${tag(b)} first`);
    await send(a, c.id, `${tag(b)} second`);
    const last = await send(a, c.id, `${tag(b)} last`);
    await mentionsReach(b, c.id, 3);

    expect((await unsend(a, c.id, first.id)).status).toBe(204);
    await mentionsReach(b, c.id, 2);
    const gone = await message(b, c.id, first.id);
    expect(gone).toMatchObject({ deleted: true, mentions: [] });

    expect((await unsend(a, c.id, last.id)).status).toBe(204);
    await mentionsReach(b, c.id, 1);
  });

  it("does not count my own mention of myself as unread, though the message lists me", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const note = await send(a, c.id, `${tag(a)} remember this`);
    expect(note.mentions).toEqual([a.user.id]);
    // Once b's chat counts the message, the write that records its mentions is done too.
    const bs = await settled(() => chatOf(b, c.id), (chat) => chat.unread_count === 1);
    expect(bs.mentions).toBe(0);
    expect(await chatOf(a, c.id)).toMatchObject({ mentions: 0, unread_count: 0 });
  });

  it("shows the message's mentions on the message only: the chat's last_message is a ChatMessage", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const sent = await send(a, c.id, `look ${tag(b)}`);
    const chat = await mentionsReach(b, c.id, 1);

    const full = await message(b, c.id, sent.id);
    expect(full.mentions).toEqual([b.user.id]);
    expect(full).toMatchObject({ reply_to: null, reply_count: 0, reactions: [], pinned_at: null, pinned_by: null });

    const last = chat.last_message!;
    expect(last).toMatchObject({ id: sent.id, message_body: `look ${tag(b)}` });
    for (const key of ["mentions", "reply_to", "reply_count", "reactions", "pinned_at", "pinned_by", "attachments", "expires_at", "deleted_by"]) expect(last).not.toHaveProperty(key);
    // Everything else is the message as read on its own.
    const { mentions: _m, reply_to: _r, reply_count: _c, reactions: _x, pinned_at: _p, pinned_by: _b, attachments: _a, expires_at: _e, deleted_by: _d, ...common } = full;
    expect(last).toEqual(common);
  });
});

describe("the user stream", () => {
  it("message.created says `mentioned: true` to the mentioned user only", async () => {
    const [a, b, d] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id, d.user.id]);
    const [sa, sb, sd] = await Promise.all([connectStreamReady({ token: a.token }), connectStreamReady({ token: b.token }), connectStreamReady({ token: d.token })]);
    const mentioning = await send(a, c.id, `hey ${tag(b)}`);
    const plain = await send(a, c.id, "hey all");

    const seen = (s: typeof sa) => collect(s, (e) => e.type === "message.created" && e.conversation_id === c.id, 2);
    const [ea, eb, ed] = await Promise.all([seen(sa), seen(sb), seen(sd)]);
    expect(eb.map((e) => [e.message.id, e.mentioned])).toEqual([
      [mentioning.id, true],
      [plain.id, false],
    ]);
    expect(ed.map((e) => e.mentioned)).toEqual([false, false]);
    expect(ea.map((e) => e.mentioned)).toEqual([false, false]);
  });

  it("receipt carries the unread mentions left after the move, and a fresh ready's chats carry the count", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const sb = await connectStreamReady({ token: b.token });
    const m1 = await send(a, c.id, `${tag(b)} one`);
    await send(a, c.id, `${tag(b)} two`);
    const m3 = await send(a, c.id, "three");
    await collect(sb, (e) => e.type === "message.created" && e.conversation_id === c.id, 3);

    // A stream opened now starts from the chat list, mentions included.
    const later = await connectStreamReady({ token: b.token });
    expect(later.events[0].chats.find((chat: Chat) => chat.conversation.id === c.id)).toMatchObject({ unread_count: 3, mentions: 2 });

    expect((await readUpTo(b, c.id, m1.seq)).status).toBe(200);
    const first = await sb.next((e) => e.type === "receipt" && e.conversation_id === c.id);
    expect(first).toMatchObject({ read_seq: m1.seq, unread_count: 2, mentions: 1 });

    expect((await readUpTo(b, c.id, m3.seq)).status).toBe(200);
    const second = await sb.next((e) => e.type === "receipt" && e.conversation_id === c.id && e.read_seq === m3.seq);
    expect(second).toMatchObject({ unread_count: 0, mentions: 0 });
  });
});

describe("sending over the conversation socket", () => {
  it("resolves a mention in a send frame as a REST send does", async () => {
    const [a, b, outsider] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    const ws = await openReady(c.id, { token: a.token });
    const peer = await openReady(c.id, { token: b.token });
    ws.send({ type: "send", message_body: `over the socket ${tag(b)} ${tag(outsider)}`, client_message_id: "mention-1" });

    const ack = await ws.next((e) => e.type === "ack" && e.client_message_id === "mention-1");
    expect(ack.message.mentions).toEqual([b.user.id]);
    const createdForB = await peer.next((e) => e.type === "message.created" && e.message.id === ack.message.id);
    expect(createdForB.message.mentions).toEqual([b.user.id]);
    expect((await message(b, c.id, ack.message.id)).mentions).toEqual([b.user.id]);
    await mentionsReach(b, c.id, 1);
    ws.ws.close(1000);
    peer.ws.close(1000);
  });
});
