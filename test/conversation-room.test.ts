import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { ConversationRoom } from "../src/index";
import { policy } from "../src/limits/limits";
import { hashSecret } from "../src/auth/secrets";
import { member, send, start } from "./support/conversations";
import { api } from "./support/http";

it("exports the ConversationRoom Durable Object, which answers a stranger's send with the 404 of a missing conversation", async () => {
  const stranger = await member();
  const stub = env.CONVERSATION_ROOM.getByName("conversation:999999");
  await runInDurableObject(stub, async (room) => {
    expect(room).toBeInstanceOf(ConversationRoom);
    const token = { hash: hashSecret(stranger.token), scopes: ["send:messages"] };
    const { access, outcome } = await room.send(999999, token, { body: "hi", clientMessageId: null, replyTo: null, attachments: [], limit: policy(env, "send") });
    expect(access?.userId).toBe(stranger.user.id);
    expect(outcome).toEqual({ ok: false, status: 404, detail: "No such conversation." });
  });
});

it("does not remember a conversation as missing: one created after a stranger knocked on its id works", async () => {
  const owner = await member();
  const first = await start(owner, []);
  // The next id, asked for before it exists: its room looks and finds nothing.
  const next = first.id + 1;
  const early = await api(`/api/conversations/${next}/messages/`, { method: "POST", token: owner.token, json: { message_body: "too soon" } });
  expect(early.status).toBe(404);
  const created = await start(owner, []);
  expect(created.id).toBe(next);
  await send(owner, next, "now it exists");
});
