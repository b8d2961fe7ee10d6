import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { ConversationRoom } from "../src/index";

it("exports the ConversationRoom Durable Object, which starts with no messages", async () => {
  const stub = env.CONVERSATION_ROOM.getByName("conversation:1");
  await runInDurableObject(stub, async (room) => {
    expect(room).toBeInstanceOf(ConversationRoom);
    expect(await room.lastSeq(1)).toBe(0);
  });
});
