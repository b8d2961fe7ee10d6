import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { ConversationRoom } from "../src/index";
import { policy } from "../src/limits/limits";

it("exports the ConversationRoom Durable Object, which answers a stranger's send with the 404 of a missing conversation", async () => {
  const stub = env.CONVERSATION_ROOM.getByName("conversation:999999");
  await runInDurableObject(stub, async (room) => {
    expect(room).toBeInstanceOf(ConversationRoom);
    expect(await room.send(999999, { userId: 1, firstName: "", lastName: "", body: "hi", clientMessageId: null, limit: policy(env, "send") })).toEqual({ ok: false, status: 404, detail: "No such conversation." });
  });
});
