// Reactions (issue 13): PUT/DELETE …/messages/{id}/reactions/{emoji}/ adds or takes back the caller's
// reaction. What a user notices: each viewer's `reactions` with their own `me`, one reaction per emoji
// however it is spelled, the 400/403/404/409s, that a reaction is no new message (no seq, no unread), and
// the live events on the conversation's socket.
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { MessageResource } from "../src/messages/schemas";
import { json, member, send, start } from "./support/conversations";
import { api, problemOf } from "./support/http";
import { login } from "./support/oauth";
import { apiIdOf, localId, settled, shardOfId } from "./support/shards";
import { collect, openReady, streamMember, type Socket } from "./support/ws";

type Message = MessageResource;
type Page = { count: number; next: string | null; previous: string | null; results: Message[] };
type Chat = { conversation: { id: number; last_seq: number; last_activity_at: string }; last_message: { id: number; seq: number } | null; unread_count: number };
type Member = Awaited<ReturnType<typeof member>>;

// Logins run PBKDF2 and every test makes dozens of real requests: generous limits, nothing here is timed.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let a: Member, b: Member, stranger: Member;

beforeAll(async () => {
  [a, b, stranger] = await Promise.all([member(), member(), member()]);
});

const ONE_EMOJI = "`emoji` must be exactly one emoji, such as 👍.";
const reactionPath = (conversation: number, message: number, emoji: string) =>
  `/api/conversations/${conversation}/messages/${message}/reactions/${encodeURIComponent(emoji)}/`;

/** PUT (react) or DELETE (take back) `emoji` on a message as `who`: the raw response. */
const react = (who: { token: string }, conversation: number, message: number, emoji: string, method: "PUT" | "DELETE" = "PUT") =>
  api(reactionPath(conversation, message, emoji), { method, token: who.token });

/** Reacts (or takes back) and expects 200 with the message. */
async function reacted(who: { token: string }, conversation: number, message: number, emoji: string, method: "PUT" | "DELETE" = "PUT"): Promise<Message> {
  const res = await react(who, conversation, message, emoji, method);
  expect(res.status, `${method} ${emoji}: ${await res.clone().text()}`).toBe(200);
  return json<Message>(res);
}

async function read<T>(who: { token: string }, path: string): Promise<T> {
  const res = await api(path, { token: who.token });
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return json<T>(res);
}

const detail = (who: Member, conversation: number, id: number) => read<Message>(who, `/api/conversations/${conversation}/messages/${id}/`);

async function remove(who: Member, conversation: number, id: number) {
  expect((await api(`/api/conversations/${conversation}/messages/${id}/`, { method: "DELETE", token: who.token })).status).toBe(204);
}

/** `who`'s chat of a conversation, as GET /api/chats/ lists it. */
async function chatOf(who: Member, conversation: number): Promise<Chat> {
  const page = await read<{ results: Chat[] }>(who, "/api/chats/?page_size=100");
  return page.results.find((c) => c.conversation.id === conversation)!;
}

const reactionEvents = (s: Socket) => s.events.filter((e) => e.type === "reaction.added" || e.type === "reaction.removed");

describe("reacting", () => {
  it("adds the caller's reaction once, however often it is put, and takes it back once, however often it is deleted", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "react to me");

    expect((await reacted(a, conversation, m.id, "👍")).reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    expect((await reacted(a, conversation, m.id, "👍")).reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    expect((await reacted(b, conversation, m.id, "👍")).reactions).toEqual([{ emoji: "👍", count: 2, me: true }]);
    expect((await detail(a, conversation, m.id)).reactions).toEqual([{ emoji: "👍", count: 2, me: true }]);

    expect((await reacted(a, conversation, m.id, "👍", "DELETE")).reactions).toEqual([{ emoji: "👍", count: 1, me: false }]);
    expect((await reacted(a, conversation, m.id, "👍", "DELETE")).reactions).toEqual([{ emoji: "👍", count: 1, me: false }]);
    expect((await detail(b, conversation, m.id)).reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    expect((await reacted(b, conversation, m.id, "👍", "DELETE")).reactions).toEqual([]);
    // Taking back what was never there changes nothing either.
    expect((await reacted(b, conversation, m.id, "🎉", "DELETE")).reactions).toEqual([]);
    expect((await detail(a, conversation, m.id)).reactions).toEqual([]);
  });

  it("shows each viewer their own side: one entry per emoji in order of first use, with its count and whether the viewer is among them", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(b, conversation, "what do you think?");
    await reacted(a, conversation, m.id, "👍");
    await reacted(b, conversation, m.id, "🎉");
    await reacted(a, conversation, m.id, "🎉");
    await reacted(b, conversation, m.id, "👀");

    expect((await detail(a, conversation, m.id)).reactions).toEqual([
      { emoji: "👍", count: 1, me: true },
      { emoji: "🎉", count: 2, me: true },
      { emoji: "👀", count: 1, me: false },
    ]);
    expect((await detail(b, conversation, m.id)).reactions).toEqual([
      { emoji: "👍", count: 1, me: false },
      { emoji: "🎉", count: 2, me: true },
      { emoji: "👀", count: 1, me: true },
    ]);
    // The history shows the same, per viewer.
    const history = await read<Page>(b, `/api/conversations/${conversation}/messages/`);
    expect(history.results[0]!.reactions).toEqual((await detail(b, conversation, m.id)).reactions);
    // The first emoji keeps its place even once its first reactor took it back and another put it again.
    await reacted(a, conversation, m.id, "👍", "DELETE");
    await reacted(b, conversation, m.id, "👍");
    expect((await detail(a, conversation, m.id)).reactions.map((r) => r.emoji)).toEqual(["🎉", "👀", "👍"]);
  });

  it("takes ❤ and ❤️ as one reaction, and whole emoji sequences (skin tones, ZWJ sequences, flags, keycaps) as one emoji", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "love it");
    expect((await reacted(a, conversation, m.id, "\u2764")).reactions).toEqual([{ emoji: "\u2764\uFE0F", count: 1, me: true }]);
    expect((await reacted(b, conversation, m.id, "\u2764\uFE0F")).reactions).toEqual([{ emoji: "\u2764\uFE0F", count: 2, me: true }]);
    // Either spelling takes it back.
    expect((await reacted(a, conversation, m.id, "\u2764\uFE0F", "DELETE")).reactions).toEqual([{ emoji: "\u2764\uFE0F", count: 1, me: false }]);
    expect((await reacted(b, conversation, m.id, "\u2764", "DELETE")).reactions).toEqual([]);

    for (const emoji of ["👍🏽", "👩🏽‍💻", "🇫🇷", "1️⃣"]) await reacted(a, conversation, m.id, emoji);
    expect((await detail(b, conversation, m.id)).reactions).toEqual(["👍🏽", "👩🏽‍💻", "🇫🇷", "1️⃣"].map((emoji) => ({ emoji, count: 1, me: false })));
  });

  it("is 400 with the sentence for anything but exactly one emoji, and changes nothing", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "try me");
    for (const emoji of ["a", "👍👍", "👍 ", ":+1:", "👍".repeat(33), "x".repeat(65)]) {
      const res = await react(a, conversation, m.id, emoji);
      expect(res.status, JSON.stringify(emoji)).toBe(400);
      const { contentType, body } = await problemOf(res);
      expect(contentType).toContain("application/problem+json");
      expect(body.detail).toContain(ONE_EMOJI);
      // DELETE checks the same.
      expect((await react(a, conversation, m.id, emoji, "DELETE")).status).toBe(400);
    }
    expect((await detail(a, conversation, m.id)).reactions).toEqual([]);
  });

  it("says so once: the detail of a 400 is the sentence itself, for a long non-emoji too", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "try me at length");
    for (const emoji of ["a", "x".repeat(65)]) {
      const res = await react(a, conversation, m.id, emoji);
      expect(res.status).toBe(400);
      const { body } = await problemOf(res);
      expect(body.detail, `${emoji.length} characters`).toBe(ONE_EMOJI);
      expect(body.errors).toEqual([{ path: "param.emoji", message: ONE_EMOJI }]);
    }
  });

  it("is 404 without an emoji: no route names a reaction with none, and the message keeps none", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "try me with nothing");
    for (const method of ["PUT", "DELETE"]) {
      const empty = await api(`/api/conversations/${conversation}/messages/${m.id}/reactions//`, { method, token: a.token });
      expect(empty.status, `${method} reactions//`).toBe(404);
    }
    expect((await detail(a, conversation, m.id)).reactions).toEqual([]);
  });

  it("takes at most 20 different emoji: the 21st is 409, while an emoji the message has still works, and taking one back makes room", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "a popular message");
    const twenty = ["😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😌", "😍", "🥰", "😘", "😗", "😙", "😚"];
    for (const emoji of twenty) await reacted(a, conversation, m.id, emoji);

    const over = await react(b, conversation, m.id, "🐢");
    expect(over.status).toBe(409);
    expect((await problemOf(over)).body.detail).toMatch(/20/);
    // One the message has: b joins it, a puts theirs again.
    expect((await reacted(b, conversation, m.id, "😀")).reactions[0]).toEqual({ emoji: "😀", count: 2, me: true });
    expect((await reacted(a, conversation, m.id, "😚")).reactions).toHaveLength(20);
    expect((await detail(a, conversation, m.id)).reactions.map((r) => r.emoji)).toEqual(twenty);

    // With one emoji gone entirely, a new one fits (and is the last).
    await reacted(a, conversation, m.id, "😚", "DELETE");
    expect((await reacted(b, conversation, m.id, "🐢")).reactions.map((r) => r.emoji)).toEqual([...twenty.slice(0, 19), "🐢"]);
    expect((await react(b, conversation, m.id, "🦊")).status).toBe(409);
  });

  it("is 409 on a deleted message, whose reactions are gone with it", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "about to go");
    await reacted(a, conversation, m.id, "👍");
    await reacted(b, conversation, m.id, "😢");
    await remove(a, conversation, m.id);

    const gone = await detail(b, conversation, m.id);
    expect(gone).toMatchObject({ deleted: true, message_body: "", reactions: [] });
    const res = await react(b, conversation, m.id, "👍");
    expect(res.status).toBe(409);
    expect((await problemOf(res)).body.detail).toMatch(/deleted/);
    expect((await detail(a, conversation, m.id)).reactions).toEqual([]);
  });

  it("is 404 to a stranger, with the same body as for a message that does not exist", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "members only");
    const other = (await start(stranger, [b.user.id])).id;
    const theirs = await send(stranger, other, "the stranger's own");

    const missing = await react(a, conversation, apiIdOf(localId(m.id) + 100_000, shardOfId(m.id)), "👍");
    expect(missing.status).toBe(404);
    const missingBody = (await problemOf(missing)).body;
    for (const method of ["PUT", "DELETE"] as const) {
      const res = await react(stranger, conversation, m.id, "👍", method);
      expect(res.status).toBe(404);
      expect((await problemOf(res)).body).toEqual(missingBody);
    }
    // A message of another conversation, named under this one, is missing too.
    const foreign = await react(a, conversation, theirs.id, "👍");
    expect(foreign.status).toBe(404);
    expect((await problemOf(foreign)).body).toEqual(missingBody);
    expect((await detail(b, conversation, m.id)).reactions).toEqual([]);
    expect((await read<Message>(stranger, `/api/conversations/${other}/messages/${theirs.id}/`)).reactions).toEqual([]);
  });

  it("needs the send:messages scope (403), while reading the reactions needs only read:messages", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "scoped");
    await reacted(b, conversation, m.id, "👍");
    const readOnly = await login({ user: a.user, scopes: ["read:messages"] });
    for (const method of ["PUT", "DELETE"] as const) expect((await react(readOnly, conversation, m.id, "👍", method)).status).toBe(403);
    expect((await read<Message>(readOnly, `/api/conversations/${conversation}/messages/${m.id}/`)).reactions).toEqual([{ emoji: "👍", count: 1, me: false }]);
    expect((await detail(b, conversation, m.id)).reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
  });

  it("is no new message: the conversation's last_seq, the last message and everyone's unread counts stay as they were", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m1 = await send(a, conversation, "one");
    await send(a, conversation, "two");
    const m3 = await send(a, conversation, "three");
    expect((await api(`/api/conversations/${conversation}/receipts/`, { method: "POST", token: b.token, json: { read_up_to: 1 } })).status).toBe(200);
    const before = await settled(
      () => chatOf(b, conversation),
      (c) => c.conversation.last_seq === 3 && c.unread_count === 2,
    );
    expect(before.last_message?.id).toBe(m3.id);

    await reacted(b, conversation, m1.id, "👍");
    await reacted(a, conversation, m1.id, "🎉");
    await reacted(a, conversation, m3.id, "👍");
    await reacted(a, conversation, m3.id, "👍", "DELETE");

    // A message after the reactions: once the chat list has it, it has whatever the reactions did too.
    const m4 = await send(a, conversation, "four");
    const after = await settled(
      () => chatOf(b, conversation),
      (c) => c.last_message?.id === m4.id,
    );
    expect(after.conversation.last_seq).toBe(4);
    expect(after.unread_count).toBe(3);
    expect((await chatOf(a, conversation)).unread_count).toBe(0);
    expect(m4.seq).toBe(4);
    const history = await read<Page>(a, `/api/conversations/${conversation}/messages/`);
    expect(history.results.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe("reactions on the conversation socket", () => {
  it("every socket gets reaction.added / reaction.removed with the emoji's count after the change, once per change", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m = await send(a, conversation, "watch the counts");
    const [sa, sb] = await Promise.all([openReady(conversation, { token: a.token }), openReady(conversation, { token: b.token })]);

    await reacted(a, conversation, m.id, "👍");
    await reacted(b, conversation, m.id, "👍");
    await reacted(b, conversation, m.id, "👍"); // no change, no event
    await reacted(a, conversation, m.id, "👍", "DELETE");
    await reacted(a, conversation, m.id, "👍", "DELETE"); // no change, no event
    await reacted(b, conversation, m.id, "\u2764");
    await reacted(b, conversation, m.id, "👍", "DELETE");

    const base = { message_id: m.id, seq: m.seq };
    const expected = [
      { type: "reaction.added", ...base, emoji: "👍", user: a.user.id, count: 1 },
      { type: "reaction.added", ...base, emoji: "👍", user: b.user.id, count: 2 },
      { type: "reaction.removed", ...base, emoji: "👍", user: a.user.id, count: 1 },
      { type: "reaction.added", ...base, emoji: "\u2764\uFE0F", user: b.user.id, count: 1 },
      { type: "reaction.removed", ...base, emoji: "👍", user: b.user.id, count: 0 },
    ];
    for (const s of [sa, sb]) {
      await collect(s, (e) => e.type === "reaction.added" || e.type === "reaction.removed", expected.length);
      expect(reactionEvents(s)).toEqual(expected);
      // A reaction is no message: nothing was created or updated on the live sockets.
      expect(s.events.filter((e) => e.type.startsWith("message."))).toEqual([]);
    }
    for (const s of [sa, sb]) s.ws.close(1000);
  });

  it("reactions made at once are each counted once: the events' counts run 1..N in the order sockets get them, and the message shows N", async () => {
    // Many participants, made straight in D1 (no sign-up or login pages needed for this).
    const others = await Promise.all(Array.from({ length: 7 }, () => streamMember()));
    const conversation = (await start(a, others.map((o) => o.user.id))).id;
    const m = await send(a, conversation, "everyone at once");
    const socket = await openReady(conversation, { token: a.token });
    const everyone = [a, ...others];

    const answers = await Promise.all(everyone.map((u) => react(u, conversation, m.id, "👍")));
    expect(answers.map((r) => r.status)).toEqual(everyone.map(() => 200));
    const events = await collect(socket, (e) => e.type === "reaction.added", everyone.length);
    expect(events.map((e) => e.count)).toEqual(everyone.map((_, i) => i + 1));
    expect(events.map((e) => e.user).sort()).toEqual(everyone.map((u) => u.user.id).sort());
    expect((await detail(a, conversation, m.id)).reactions).toEqual([{ emoji: "👍", count: everyone.length, me: true }]);

    // 21 different emoji at once: 20 stick, one is 409, and only the 20 reach the socket.
    const other = await send(a, conversation, "so many feelings");
    const emoji = ["😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😌", "😍", "🥰", "😘", "😗", "😙", "😚", "🐢"];
    const burst = await Promise.all(emoji.map((e, i) => react(everyone[i % everyone.length]!, conversation, other.id, e)));
    expect(burst.map((r) => r.status).sort()).toEqual([...Array(20).fill(200), 409]);
    const shown = (await detail(a, conversation, other.id)).reactions;
    expect(shown).toHaveLength(20);
    const added = await collect(socket, (e) => e.type === "reaction.added" && e.message_id === other.id, 20);
    expect(added.map((e) => e.emoji).sort()).toEqual(shown.map((r) => r.emoji).sort());
    expect(socket.events.filter((e) => e.type === "reaction.added" && e.message_id === other.id)).toHaveLength(20);
    socket.ws.close(1000);
  });

  it("a socket resuming with after_change gets a message reacted to while away again, as message.updated with the viewer's side", async () => {
    const conversation = (await start(a, [b.user.id])).id;
    const m1 = await send(a, conversation, "one");
    await send(a, conversation, "two");
    const first = await openReady(conversation, { token: b.token });
    const ready = first.events.find((e) => e.type === "ready");
    first.ws.close(1000);

    // While b is away, a reacts to the first message.
    await reacted(a, conversation, m1.id, "👍");
    const back = await openReady(conversation, { token: b.token, afterSeq: ready.last_seq, afterChange: ready.change_seq });
    expect(back.events.map((e) => [e.type, e.message?.id])).toEqual([
      ["message.updated", m1.id],
      ["ready", undefined],
    ]);
    expect(back.events[0].message).toMatchObject({ id: m1.id, message_body: "one", reactions: [{ emoji: "👍", count: 1, me: false }] });
    const resumed = back.events[1];
    expect(resumed.change_seq).toBeGreaterThan(ready.change_seq);
    back.ws.close(1000);

    // a's own socket, resuming from the same point, sees its own reaction; a taken-back one comes again too.
    const mine = await openReady(conversation, { token: a.token, afterSeq: ready.last_seq, afterChange: ready.change_seq });
    expect(mine.events[0].message.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    mine.ws.close(1000);
    await reacted(a, conversation, m1.id, "👍", "DELETE");
    const later = await openReady(conversation, { token: b.token, afterSeq: resumed.last_seq, afterChange: resumed.change_seq });
    expect(later.events.map((e) => e.type)).toEqual(["message.updated", "ready"]);
    expect(later.events[0].message).toMatchObject({ id: m1.id, reactions: [] });
    later.ws.close(1000);
  });
});
