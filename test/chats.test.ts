import { describe, expect, it, vi } from "vitest";
import { api, problemOf } from "./support/http";
import { asChatMessage, json, send, start } from "./support/conversations";
import { login } from "./support/oauth";

type Conversation = { id: number; last_seq: number; last_activity_at: string; participants: { id: number }[] };
type Message = { id: number; seq: number; message_body: string; deleted: boolean; edited_at: string | null; status: string; sender: { id: number } };
type Chat = { conversation: Conversation; last_message: Message | null; unread_count: number };
type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };
type Login = Awaited<ReturnType<typeof login>>;

// Each test signs people up and logs them in through the real OAuth pages (PBKDF2 on every password):
// seconds when the machine is busy, so the default 5 s limit is too tight. Nothing here measures time.
vi.setConfig({ testTimeout: 30_000 });




async function chats(who: Login, query = ""): Promise<Page<Chat>> {
  const res = await api(`/api/chats/${query}`, { token: who.token });
  expect(res.status).toBe(200);
  return json<Page<Chat>>(res);
}

/** conversation id → unread count, as `who` sees it. */
const unread = async (who: Login) => new Map((await chats(who, "?page_size=100")).results.map((c) => [c.conversation.id, c.unread_count]));

const readUpTo = (who: Login, conversationId: number, seq: number) =>
  api(`/api/conversations/${conversationId}/receipts/`, { method: "POST", token: who.token, json: { read_up_to: seq } });

/** Lets the clock move, so the next write gets a later activity time than the previous one. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("the chat list", () => {
  it("has one entry per conversation with its last message and unread count, newest activity first", async () => {
    const a = await login();
    const b = await login();
    const c = await login();
    const quiet = await start(a, [b.user.id]);
    await tick();
    const withB = await start(a, [b.user.id]);
    const withC = await start(a, [c.user.id]);
    await send(b, withB.id, "b1");
    await send(b, withB.id, "b2");
    await tick();
    const last = await send(c, withC.id, "c1");

    const page = await chats(a);
    expect(page.count).toBe(3);
    expect(page.next).toBeNull();
    expect(page.results.map((r) => r.conversation.id)).toEqual([withC.id, withB.id, quiet.id]);
    const [first, second, third] = page.results;
    expect(Object.keys(first!).sort()).toEqual(["conversation", "last_message", "mentions", "muted_until", "unread_count"]);
    expect(first!.conversation).toEqual(await json(await api(`/api/conversations/${withC.id}/`, { token: a.token })));
    expect(first!.last_message).toEqual(asChatMessage(await json(await api(`/api/conversations/${withC.id}/messages/${last.id}/`, { token: a.token }))));
    expect(first!.unread_count).toBe(1);
    expect(second!.last_message?.message_body).toBe("b2");
    expect(second!.unread_count).toBe(2);
    expect(third!.last_message).toBeNull();
    expect(third!.unread_count).toBe(0);

    // A message into the oldest conversation brings it to the top.
    await tick();
    await send(b, quiet.id, "wake up");
    expect((await chats(a)).results.map((r) => r.conversation.id)).toEqual([quiet.id, withC.id, withB.id]);
  });

  it("never counts the caller's own messages as unread, and a send marks what came before as read", async () => {
    const a = await login();
    const b = await login();
    const conversation = await start(a, [b.user.id]);
    for (const body of ["1", "2", "3"]) await send(a, conversation.id, body);
    expect((await unread(a)).get(conversation.id)).toBe(0);
    expect((await unread(b)).get(conversation.id)).toBe(3);

    await send(b, conversation.id, "reply");
    expect((await unread(b)).get(conversation.id)).toBe(0);
    expect((await unread(a)).get(conversation.id)).toBe(1);
  });

  it("lowers the unread count as the caller marks messages read, and never raises it back", async () => {
    const a = await login();
    const b = await login();
    const conversation = await start(a, [b.user.id]);
    for (const body of ["1", "2", "3"]) await send(a, conversation.id, body);

    const res = await readUpTo(b, conversation.id, 2);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: b.user.id, delivered_up_to: 2, read_up_to: 2 });
    expect((await unread(b)).get(conversation.id)).toBe(1);

    expect((await readUpTo(b, conversation.id, 1)).status).toBe(200);
    expect((await unread(b)).get(conversation.id)).toBe(1);

    const past = await readUpTo(b, conversation.id, 99);
    expect((await json<{ read_up_to: number }>(past)).read_up_to).toBe(3);
    expect((await unread(b)).get(conversation.id)).toBe(0);
    expect((await unread(a)).get(conversation.id)).toBe(0);
  });

  it("with unread=true keeps only conversations that have unread messages", async () => {
    const a = await login();
    const b = await login();
    const read = await start(a, [b.user.id]);
    const pending = await start(a, [b.user.id]);
    const empty = await start(a, [b.user.id]);
    await send(b, read.id, "seen");
    await send(b, pending.id, "not yet");
    expect((await readUpTo(a, read.id, 1)).status).toBe(200);

    const only = await chats(a, "?unread=true");
    expect(only.count).toBe(1);
    expect(only.results.map((r) => r.conversation.id)).toEqual([pending.id]);
    expect(only.results[0]!.unread_count).toBe(1);

    const all = await chats(a, "?unread=false");
    expect(all.count).toBe(3);
    expect(all.results.map((r) => r.conversation.id).sort((x, y) => x - y)).toEqual([read.id, pending.id, empty.id].sort((x, y) => x - y));

    const bad = await api("/api/chats/?unread=yes", { token: a.token });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).contentType).toBe("application/problem+json");
  });

  it("shows the last message as it is now: edited, or a deleted tombstone", async () => {
    const a = await login();
    const b = await login();
    const conversation = await start(a, [b.user.id]);
    await send(a, conversation.id, "first");
    const message = await send(a, conversation.id, "helo");
    const path = `/api/conversations/${conversation.id}/messages/${message.id}/`;

    expect((await api(path, { method: "PATCH", token: a.token, json: { message_body: "hello" } })).status).toBe(200);
    const edited = (await chats(b)).results[0]!.last_message!;
    expect(edited.id).toBe(message.id);
    expect(edited.message_body).toBe("hello");
    expect(edited.edited_at).not.toBeNull();

    expect((await api(path, { method: "DELETE", token: a.token })).status).toBe(204);
    const chat = (await chats(b)).results[0]!;
    expect(chat.last_message).toMatchObject({ id: message.id, seq: 2, deleted: true, message_body: "" });
  });

  it("shows the last message's status as the caller sees it", async () => {
    const a = await login();
    const b = await login();
    const conversation = await start(a, [b.user.id]);
    await send(a, conversation.id, "did you get this?");
    expect((await chats(a)).results[0]!.last_message?.status).toBe("sent");
    expect((await chats(b)).results[0]!.last_message?.status).toBe("sent");
    expect((await readUpTo(b, conversation.id, 1)).status).toBe(200);
    expect((await chats(a)).results[0]!.last_message?.status).toBe("read");
    expect((await chats(b)).results[0]!.last_message?.status).toBe("read");
  });

  it("returns all of a busy user's 30 chats in one page, with the right counts", async () => {
    const me = await login();
    const friends = [await login(), await login(), await login()];
    // Conversation i gets i % 4 messages from a friend; the conversations are filled side by side.
    const filled = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const friend = friends[i % friends.length]!;
        const conversation = await start(me, [friend.user.id]);
        let last: string | null = null;
        for (let n = 0; n < i % 4; n++) {
          last = `c${i} m${n}`;
          await send(friend, conversation.id, last);
        }
        return [conversation.id, { unread: i % 4, last }] as const;
      }),
    );
    const expected = new Map(filled);

    const page = await chats(me, "?page_size=50");
    expect(page.count).toBe(30);
    expect(page.next).toBeNull();
    expect(page.results).toHaveLength(30);
    expect(new Map(page.results.map((r) => [r.conversation.id, { unread: r.unread_count, last: r.last_message?.message_body ?? null }]))).toEqual(expected);
    for (const r of page.results) {
      expect(r.conversation.participants).toHaveLength(2);
      expect(r.last_message?.seq ?? 0).toBe(r.conversation.last_seq);
    }
    const times = page.results.map((r) => Date.parse(r.conversation.last_activity_at));
    expect(times).toEqual([...times].sort((x, y) => y - x));

    const past = await api("/api/chats/?page=2&page_size=50", { token: me.token });
    expect(past.status).toBe(404);
    expect((await problemOf(past)).contentType).toBe("application/problem+json");
  });
});
