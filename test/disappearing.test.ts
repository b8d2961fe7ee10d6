import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ConversationResource } from "../src/conversations/schemas";
import type { MessageResource } from "../src/messages/schemas";
import { room } from "../src/realtime/room-stub";
import { json, member, send, start } from "./support/conversations";
import { api, problemOf } from "./support/http";
import { localId, shardOf } from "./support/shards";
import { openReady } from "./support/ws";

const DAY = 86_400;
const setTtl = (who: { token: string }, id: number, ttl: number | null) => api(`/api/conversations/${id}/`, { method: "PATCH", token: who.token, json: { message_ttl_seconds: ttl } });
const messageOf = (who: { token: string }, id: number, messageId: number) => api(`/api/conversations/${id}/messages/${messageId}/`, { token: who.token }).then((r) => json<MessageResource>(r));

/** Makes the messages' time come now (as if their day had passed), and the room's alarm due with them. */
async function timePasses(conversationId: number, messageIds: number[]) {
  const { d1 } = await shardOf(conversationId);
  const rows = messageIds.map(localId);
  await d1.prepare(`UPDATE messages SET expires_at = ? WHERE id IN (${rows.join(",")})`).bind(Date.now() - 1000).run();
  await runInDurableObject(room(env, conversationId), async (_, state) => state.storage.put("expiring", { conversationId, at: Date.now() - 1000 }));
}

describe("disappearing messages", () => {
  it("only the owner turns them on, from an hour to a year, and everyone's sockets hear it", async () => {
    const [a, b] = [await member(), await member()];
    const c = await start(a, [b.user.id]);
    const socket = await openReady(c.id, { token: b.token });

    const notOwner = await setTtl(b, c.id, DAY);
    expect(notOwner.status).toBe(403);
    expect((await problemOf(notOwner)).body.detail).toBe("Only the owner turns disappearing messages on or off.");
    for (const ttl of [59, 3599, 366 * DAY]) expect((await setTtl(a, c.id, ttl)).status).toBe(400);

    const on = await setTtl(a, c.id, DAY);
    expect(on.status).toBe(200);
    expect((await json<ConversationResource>(on)).message_ttl_seconds).toBe(DAY);
    const told = await socket.next((e) => e.type === "conversation.updated");
    expect(told.conversation.message_ttl_seconds).toBe(DAY);
    expect((await json<ConversationResource>(await api(`/api/conversations/${c.id}/`, { token: b.token }))).message_ttl_seconds).toBe(DAY);
    socket.ws.close();
  });

  it("a message sent while it is on expires that long after it was sent; one sent before or after it is off never does", async () => {
    const [a, b] = [await member(), await member()];
    const c = await start(a, [b.user.id]);
    const before = await send(a, c.id, "before");
    await setTtl(a, c.id, 3600);
    const during = await send(b, c.id, "during");
    await setTtl(a, c.id, null);
    const after = await send(a, c.id, "after");
    expect(before.expires_at).toBeNull();
    expect(Date.parse(during.expires_at!) - Date.parse(during.sent_at)).toBe(3600 * 1000);
    expect((await messageOf(a, c.id, during.id)).expires_at).toBe(during.expires_at);
    expect(after.expires_at).toBeNull();
  });

  it("at its time a message becomes a tombstone that keeps its seq, everywhere: history, sockets, search and the chat list", async () => {
    const [a, b] = [await member(), await member()];
    const c = await start(a, [b.user.id]);
    await setTtl(a, c.id, DAY);
    const first = await send(a, c.id, "zebrafish secrets one");
    const second = await send(b, c.id, "zebrafish secrets two");
    const socket = await openReady(c.id, { token: b.token });

    await timePasses(c.id, [first.id, second.id]);
    // Past its time, a message reads as deleted even before the alarm writes it so.
    expect(await messageOf(b, c.id, first.id)).toMatchObject({ deleted: true, message_body: "", expires_at: null, seq: first.seq });
    const hits = await json<{ results: unknown[] }>(await api(`/api/search/messages/?q=zebrafish`, { token: a.token }));
    expect(hits.results).toEqual([]);

    await runDurableObjectAlarm(room(env, c.id));
    const deleted = [await socket.next((e) => e.type === "message.deleted" && e.message.id === first.id), await socket.next((e) => e.type === "message.deleted" && e.message.id === second.id)];
    expect(deleted.map((e) => e.message.seq)).toEqual([first.seq, second.seq]);
    expect(deleted.every((e) => e.message.message_body === "" && e.message.deleted && e.message.deleted_by === "expiry")).toBe(true);

    const { d1 } = await shardOf(c.id);
    const rows = await d1.prepare("SELECT seq, body, deleted FROM messages WHERE conversation_id = ? ORDER BY seq").bind(c.id).all();
    expect(rows.results).toEqual([
      { seq: first.seq, body: "", deleted: 1 },
      { seq: second.seq, body: "", deleted: 1 },
    ]);
    const page = await json<{ results: MessageResource[] }>(await api(`/api/conversations/${c.id}/messages/`, { token: a.token }));
    expect(page.results.map((m) => [m.seq, m.deleted, m.message_body])).toEqual([
      [1, true, ""],
      [2, true, ""],
    ]);
    const chats = await json<{ results: { last_message: { deleted: boolean; message_body: string } }[] }>(await api("/api/chats/", { token: a.token }));
    expect(chats.results[0]!.last_message).toMatchObject({ deleted: true, message_body: "" });
    // The next message continues the seqs.
    expect((await send(a, c.id, "still here")).seq).toBe(3);
    socket.ws.close();
  });
});
