import { describe, expect, it } from "vitest";
import { api } from "./support/http";
import { member, send, start } from "./support/conversations";
import { openStreamReady } from "./support/ws";

describe("user stream smoke", () => {
  it("ready snapshot, message.created for another conversation, presence", async () => {
    const a = await member();
    const b = await member();
    const conv = await start(a, [b.user.id]);
    await send(a, conv.id, "before");
    const sb = await openStreamReady({ token: b.token });
    const ready = sb.events[0];
    expect(ready).toMatchObject({ type: "ready", resumed: false, chats_count: 1 });
    expect(ready.chats[0].unread_count).toBe(1);
    const sa = await openStreamReady({ token: a.token });
    expect(sa.events[0].presence).toEqual([expect.objectContaining({ user: b.user.id, online: true })]);
    await sb.next((e) => e.type === "presence" && e.user === a.user.id && e.online);
    await send(a, conv.id, "hello");
    const created = await sb.next((e) => e.type === "message.created" && e.message.preview === "hello");
    expect(created).toMatchObject({ conversation_id: conv.id, unread_count: 2, event_seq: ready.event_seq + 2 });
    const mine = await sa.next((e) => e.type === "message.created" && e.message.preview === "hello");
    expect(mine.unread_count).toBe(0);
    const r = await api(`/api/conversations/${conv.id}/receipts/`, { method: "POST", token: b.token, json: { read_up_to: 2 } });
    console.log(r.status, await r.text());
    await sb.next((e) => e.type === "receipt" && e.unread_count === 0);
    const u = await api(`/api/users/${a.user.id}/`, { token: b.token });
    expect(await u.json()).toMatchObject({ online: true });
    sa.ws.close(1000);
    await sb.next((e) => e.type === "presence" && e.user === a.user.id && !e.online, 5000);
    console.log(JSON.stringify(sb.events, null, 1).slice(0, 3000));
  });
});
