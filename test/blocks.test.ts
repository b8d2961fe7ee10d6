import { describe, expect, it } from "vitest";
import type { MessageResource } from "../src/messages/schemas";
import { json, member, send, start } from "./support/conversations";
import { api, problemOf } from "./support/http";
import { connectStreamReady, openReady } from "./support/ws";

type Page<T> = { count: number; results: T[] };
const block = (who: { token: string }, userId: number) => api("/api/users/me/blocks/", { method: "POST", token: who.token, json: { user_id: userId } });
const unblock = (who: { token: string }, userId: number) => api(`/api/users/me/blocks/${userId}/`, { method: "DELETE", token: who.token });
const history = async (who: { token: string }, id: number) => (await json<Page<MessageResource>>(await api(`/api/conversations/${id}/messages/`, { token: who.token }))).results;

describe("blocking", () => {
  it("blocks once (201, then 200), lists whom, unblocks (204, then 404), and refuses oneself and strangers to the server", async () => {
    const [a, b] = [await member(), await member()];
    expect((await block(a, b.user.id)).status).toBe(201);
    const again = await block(a, b.user.id);
    expect(again.status).toBe(200);
    expect((await json<{ user: { id: number } }>(again)).user.id).toBe(b.user.id);
    const listed = await json<Page<{ user: { id: number; first_name: string } }>>(await api("/api/users/me/blocks/", { token: a.token }));
    expect(listed.results.map((r) => r.user)).toEqual([{ id: b.user.id, first_name: b.user.first_name, last_name: b.user.last_name }]);
    const self = await block(a, a.user.id);
    expect(self.status).toBe(400);
    expect((await problemOf(self)).body.detail).toBe("You can't block yourself.");
    expect((await block(a, 99_999_999)).status).toBe(404);
    expect((await unblock(a, b.user.id)).status).toBe(204);
    expect((await unblock(a, b.user.id)).status).toBe(404);
    expect((await json<Page<unknown>>(await api("/api/users/me/blocks/", { token: a.token }))).count).toBe(0);
  });

  it("stops the blocked user starting a conversation with the blocker or adding them; the blocker still may", async () => {
    const [a, b, c] = [await member(), await member(), await member()];
    await block(a, b.user.id);
    const direct = await api("/api/conversations/", { method: "POST", token: b.token, json: { participants: [a.user.id] } });
    expect(direct.status).toBe(403);
    expect((await problemOf(direct)).body.detail).toBe("You can't start a conversation with, or add, someone who blocked you.");
    expect((await api("/api/conversations/", { method: "POST", token: b.token, json: { participants: [c.user.id, a.user.id] } })).status).toBe(403);
    const group = await start(b, [c.user.id]);
    expect((await api(`/api/conversations/${group.id}/participants/`, { method: "POST", token: b.token, json: { user_id: a.user.id } })).status).toBe(403);
    expect((await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id] } })).status).toBe(201);
  });

  it("shows the blocker placeholders for the blocked user's messages in a shared group — lists, one message, sockets, search, chats — and everyone else the messages", async () => {
    const [a, b, c] = [await member(), await member(), await member()];
    const group = await start(c, [a.user.id, b.user.id]);
    const before = await send(b, group.id, "hello from quokka land");
    const aSocket = await openReady(group.id, { token: a.token });
    const cSocket = await openReady(group.id, { token: c.token });
    await block(a, b.user.id);
    const during = await send(b, group.id, "quokka again");
    const reply = await api(`/api/conversations/${group.id}/messages/`, { method: "POST", token: c.token, json: { message_body: "answering", reply_to: during.id } });
    const answered = await json<MessageResource>(reply);

    const forA = (await aSocket.next((e) => e.type === "message.created" && e.message.id === during.id)).message;
    expect(forA).toMatchObject({ blocked: true, message_body: "", seq: during.seq, sender: { id: b.user.id } });
    expect((await cSocket.next((e) => e.type === "message.created" && e.message.id === during.id)).message).toMatchObject({ blocked: false, message_body: "quokka again" });
    // A reply to it keeps its own text for the blocker, but not the quote.
    expect((await aSocket.next((e) => e.type === "message.created" && e.message.id === answered.id)).message).toMatchObject({ message_body: "answering", reply_to: { id: during.id, preview: "" } });

    const aSees = await history(a, group.id);
    expect(aSees.map((m) => [m.seq, m.blocked, m.message_body])).toEqual([
      [1, true, ""],
      [2, true, ""],
      [3, false, "answering"],
    ]);
    expect((await history(c, group.id)).map((m) => m.message_body)).toEqual(["hello from quokka land", "quokka again", "answering"]);
    const one = await json<MessageResource>(await api(`/api/conversations/${group.id}/messages/${before.id}/`, { token: a.token }));
    expect(one).toMatchObject({ blocked: true, message_body: "" });
    const found = await json<{ results: unknown[] }>(await api("/api/search/messages/?q=quokka", { token: a.token }));
    expect(found.results).toEqual([]);
    expect((await json<{ results: unknown[] }>(await api("/api/search/messages/?q=quokka", { token: c.token }))).results).toHaveLength(2);

    await send(b, group.id, "last word");
    const chats = await json<Page<{ last_message: { blocked: boolean; message_body: string } }>>(await api("/api/chats/", { token: a.token }));
    expect(chats.results[0]!.last_message).toMatchObject({ blocked: true, message_body: "" });
    // The user stream's chat list says the same.
    const stream = await connectStreamReady({ token: a.token });
    expect(stream.events[0].chats[0]).toMatchObject({ conversation: { id: group.id }, last_message: { blocked: true, message_body: "" } });
    stream.ws.close();

    // Unblocked, everything shows again, live and in lists.
    await unblock(a, b.user.id);
    expect((await history(a, group.id)).every((m) => !m.blocked && m.message_body !== "")).toBe(true);
    const after = await send(b, group.id, "back in view");
    expect((await aSocket.next((e) => e.type === "message.created" && e.message.id === after.id)).message).toMatchObject({ blocked: false, message_body: "back in view" });
    aSocket.ws.close();
    cSocket.ws.close();
  });

  it("gives a member added to a group the chat with the blocked user's last message as a placeholder", async () => {
    const [a, b, c] = [await member(), await member(), await member()];
    const group = await start(c, [b.user.id]);
    await block(a, b.user.id);
    await send(b, group.id, "before you came");
    const stream = await connectStreamReady({ token: a.token });
    expect((await api(`/api/conversations/${group.id}/participants/`, { method: "POST", token: c.token, json: { user_id: a.user.id } })).status).toBe(201);
    const added = await stream.next((e) => e.type === "conversation.added");
    expect(added.chat).toMatchObject({ conversation: { id: group.id }, last_message: { blocked: true, message_body: "" } });
    stream.ws.close();
  });
});
