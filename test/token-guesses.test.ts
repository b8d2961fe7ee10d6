import { afterEach, describe, expect, it, vi } from "vitest";
import { ConversationRoom } from "../src/realtime/conversation-room";
import { start } from "./support/conversations";
import { api, appWith, problemOf } from "./support/http";
import { streamMember } from "./support/ws";

// A send's or receipt's token is checked by the conversation's room, so a made-up token would wake the
// room of any conversation id it names. An address that presents more bad tokens than RATE_GUESS_* allow
// has its room-bound tokens read by the Worker first: only a known token reaches a room, answers stay the same.

const GUESSES = 2;
const call = appWith({ RATE_GUESS_LIMIT: String(GUESSES), RATE_GUESS_WINDOW_SECONDS: "60" });

/** A fresh address per test: the limiter's buckets and the isolate's memory of suspects outlive a test. */
const address = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

async function chatting() {
  const [a, b] = [await streamMember(), await streamMember()];
  const { id } = await start(a, [b.user.id]);
  return { a, b, id };
}

const sendFrom = (ip: string, token: string, conversationId: number, body: string) =>
  call(`/api/conversations/${conversationId}/messages/`, { method: "POST", ip, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ message_body: body }) });

async function expectInvalidToken(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  expect((await problemOf(res)).body.detail).toBe("The access token is invalid, expired or revoked.");
}

afterEach(() => vi.restoreAllMocks());

describe("bad tokens from one address", () => {
  it("reach a room only until the address has used up its guesses; then only known tokens do, and the answers stay the same", async () => {
    const { a, b, id } = await chatting();
    const ip = address();
    const sends = vi.spyOn(ConversationRoom.prototype, "send");
    // Within the budget and the one that empties it: each is checked by the room.
    for (let i = 0; i <= GUESSES; i++) await expectInvalidToken(await sendFrom(ip, `made-up-${i}`, id, "hi"));
    expect(sends).toHaveBeenCalledTimes(GUESSES + 1);
    // Now the Worker reads the token first: a made-up one gets the same 401 without waking the room…
    await expectInvalidToken(await sendFrom(ip, "made-up-again", id, "hi"));
    expect(sends).toHaveBeenCalledTimes(GUESSES + 1);
    // …and a member's real token still sends from that address.
    const sent = await sendFrom(ip, a.token, id, "still here");
    expect(sent.status).toBe(201);
    expect(sends).toHaveBeenCalledTimes(GUESSES + 2);
    // Another address is not affected.
    await expectInvalidToken(await sendFrom(address(), "made-up-elsewhere", id, "hi"));
    expect(sends).toHaveBeenCalledTimes(GUESSES + 3);
    const page = await (await api(`/api/conversations/${id}/messages/`, { token: b.token })).json<{ results: { message_body: string }[] }>();
    expect(page.results.map((m) => m.message_body)).toEqual(["still here"]);
  });

  it("count on any route, and a screened member's token keeps its scope checks and its receipts", async () => {
    const { a, b, id } = await chatting();
    const ip = address();
    for (let i = 0; i <= GUESSES; i++) await expectInvalidToken(await call("/api/users/me/", { ip, headers: { Authorization: `Bearer made-up-${i}` } }));
    const receipts = vi.spyOn(ConversationRoom.prototype, "receiptAs");
    const mark = (token: string) =>
      call(`/api/conversations/${id}/receipts/`, { method: "POST", ip, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ delivered_up_to: 0, read_up_to: 0 }) });
    await expectInvalidToken(await mark("made-up-receipt"));
    expect(receipts).not.toHaveBeenCalled();
    expect((await mark(b.token)).status).toBe(200);
    expect(receipts).toHaveBeenCalledTimes(1);
    // A real token without the scope gets the middleware's 403 from the Worker's own read.
    const reader = await streamMember({ user: a.user, scopes: ["read:messages"] });
    const weak = await sendFrom(ip, reader.token, id, "not allowed");
    expect(weak.status).toBe(403);
    expect((await problemOf(weak)).body.detail).toBe("This needs the send:messages scope.");
  });

  it("a missing or malformed Authorization header is not a guess", async () => {
    const { id } = await chatting();
    const ip = address();
    for (let i = 0; i <= GUESSES + 1; i++) {
      expect((await call("/api/users/me/", { ip })).status).toBe(401);
      expect((await call("/api/users/me/", { ip, headers: { Authorization: "Bearer two words" } })).status).toBe(400);
    }
    const sends = vi.spyOn(ConversationRoom.prototype, "send");
    await expectInvalidToken(await sendFrom(ip, "made-up", id, "hi"));
    expect(sends).toHaveBeenCalledTimes(1);
  });
});
