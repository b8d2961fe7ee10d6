import { expect, it } from "vitest";
import { api } from "./support/http";
import { login } from "./support/oauth";
import { openSocket } from "./support/ws";

it("a socket gets ready, then live messages, and acks its own sends", async () => {
  const a = await login();
  const b = await login();
  const conv = (await (await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [b.user.id] } })).json()) as { id: number };
  await api(`/api/conversations/${conv.id}/messages/`, { method: "POST", token: a.token, json: { message_body: "before" } });
  const { res, socket } = await openSocket(conv.id, { token: b.token, afterSeq: 0 });
  expect(res.status).toBe(101);
  const first = await socket!.next((e) => e.type === "message.created");
  expect(first.message.seq).toBe(1);
  await socket!.next((e) => e.type === "ready");
  await api(`/api/conversations/${conv.id}/messages/`, { method: "POST", token: a.token, json: { message_body: "live" } });
  const live = await socket!.next((e) => e.type === "message.created" && e.message.seq === 2);
  expect(live.message.message_body).toBe("live");
  socket!.send({ type: "send", message_body: "from ws", client_message_id: "k1" });
  const ack = await socket!.next((e) => e.type === "ack");
  expect(ack.message.seq).toBe(3);
  socket!.send("not json");
  expect((await socket!.next((e) => e.type === "error")).code).toBe("invalid_json");
  socket!.ws.close(1000);
});
