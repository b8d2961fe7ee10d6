import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deleteUser, history } from "./support/accounts";
import { start } from "./support/conversations";
import { api, ORIGIN, problemOf } from "./support/http";
import { streamMember } from "./support/ws";

// A REST send's or receipt's token is checked by the conversation's room, which remembers the tokens of
// members it checked (a send then costs one D1 round trip, like a socket's). What it remembers must never
// outlive a revocation, a deactivation or a removal.

type Member = Awaited<ReturnType<typeof streamMember>>;

const sendAs = (who: { token: string }, conversationId: number, body: string) =>
  api(`/api/conversations/${conversationId}/messages/`, { method: "POST", token: who.token, json: { message_body: body } });

const revoke = (who: Member) =>
  SELF.fetch(`${ORIGIN}/o/revoke_token/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: who.token, client_id: who.client.clientId }).toString(),
  });

/** The bodies of a conversation's messages, as `who` reads them. */
const bodies = async (who: { token: string }, conversationId: number) => (await history(who, conversationId)).map((m) => m.message_body);

/** Two members of a new conversation; `a` has sent once, so its room remembers a's token. */
async function chatting() {
  const [a, b] = [await streamMember(), await streamMember()];
  const { id } = await start(a, [b.user.id]);
  expect((await sendAs(a, id, "first")).status).toBe(201);
  return { a, b, id };
}

async function expectInvalidToken(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  expect((await problemOf(res)).body.detail).toBe("The access token is invalid, expired or revoked.");
}

describe("the token of a REST send or receipt, checked by the room", () => {
  it("is refused as soon as it is revoked, though the room had accepted it a moment before", async () => {
    const { a, b, id } = await chatting();
    expect((await sendAs(a, id, "second")).status).toBe(201);
    expect((await revoke(a)).status).toBe(200);
    await expectInvalidToken(await sendAs(a, id, "after revoking"));
    expect(await bodies(b, id)).toEqual(["first", "second"]);
  });

  it("is refused as soon as staff deactivate its user", async () => {
    const { a, id } = await chatting();
    const staff = await streamMember({ staff: true });
    expect((await api(`/api/users/${a.user.id}/`, { method: "PATCH", token: staff.token, json: { is_active: false } })).status).toBe(200);
    await expectInvalidToken(await sendAs(a, id, "after deactivation"));
  });

  it("is refused as soon as staff delete its user's account", async () => {
    const { a, b, id } = await chatting();
    const staff = await streamMember({ staff: true });
    expect((await deleteUser(staff, a.user.id)).status).toBe(204);
    await expectInvalidToken(await sendAs(a, id, "after deletion"));
    // The erasure may have tombstoned "first" by now; either way nothing more was stored.
    expect(await history(b, id)).toHaveLength(1);
  });

  it("of a user removed, then revoked away from the room, then added back, is read again and refused", async () => {
    const { a, b, id } = await chatting();
    // b sends once, so the room remembers b's token, then leaves: the room forgets it.
    expect((await sendAs(b, id, "hello")).status).toBe(201);
    expect((await api(`/api/conversations/${id}/participants/${b.user.id}/`, { method: "DELETE", token: b.token })).status).toBe(204);
    // Revoked while b is in no room of this conversation: the revocation does not reach it.
    expect((await revoke(b)).status).toBe(200);
    expect((await api(`/api/conversations/${id}/participants/`, { method: "POST", token: a.token, json: { user_id: b.user.id } })).status).toBe(201);
    await expectInvalidToken(await sendAs(b, id, "with a revoked token"));
    expect(await bodies(a, id)).toEqual(["first", "hello"]);
  });

  it("without send:messages gets the middleware's 403 and stores nothing, and a stranger's live token the 404", async () => {
    const { a, id } = await chatting();
    const reader = await streamMember({ user: a.user, scopes: ["read:messages"] });
    const weak = await sendAs(reader, id, "not allowed");
    expect(weak.status).toBe(403);
    expect(weak.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
    expect((await problemOf(weak)).body.detail).toBe("This needs the send:messages scope.");
    const stranger = await streamMember();
    const refused = await sendAs(stranger, id, "let me in");
    expect(refused.status).toBe(404);
    expect((await problemOf(refused)).body.detail).toBe("No such conversation.");
    expect(await bodies(a, id)).toEqual(["first"]);
  });

  it("a receipt's token too: accepted, remembered, refused once revoked, and a stranger's gets the 404", async () => {
    const { a, b, id } = await chatting();
    const mark = (who: { token: string }, readUpTo: number) => api(`/api/conversations/${id}/receipts/`, { method: "POST", token: who.token, json: { read_up_to: readUpTo } });
    expect((await mark(b, 1)).status).toBe(200);
    expect(await (await mark(b, 1)).json()).toMatchObject({ user: b.user.id, read_up_to: 1 });
    const stranger = await streamMember();
    expect((await mark(stranger, 1)).status).toBe(404);
    expect((await revoke(b)).status).toBe(200);
    await expectInvalidToken(await mark(b, 1));
    const reader = await streamMember({ user: a.user, scopes: ["profile"] });
    const weak = await mark(reader, 1);
    expect(weak.status).toBe(403);
    expect((await problemOf(weak)).body.detail).toBe("This needs the read:messages scope.");
  });

  it("an unknown token gets the 401 from the room's check too, with the same challenge", async () => {
    const { id } = await chatting();
    await expectInvalidToken(await sendAs({ token: "not-a-token-anyone-was-given" }, id, "hi"));
  });

  it("is checked before the request's other faults: a bad token gets its 401 or 403 before a bad body's or path's 400", async () => {
    const { a, id } = await chatting();
    const unknown = { token: "not-a-token-anyone-was-given" };
    const post = (who: { token: string }, path: string, json: unknown) => api(path, { method: "POST", token: who.token, json });
    await expectInvalidToken(await post(unknown, `/api/conversations/${id}/messages/`, { message_body: "" }));
    await expectInvalidToken(await post(unknown, `/api/conversations/${id}/receipts/`, { read_up_to: -1 }));
    await expectInvalidToken(await api(`/api/conversations/${id}/messages/?page_size=0`, { token: unknown.token }));
    await expectInvalidToken(await api("/api/conversations/abc/messages/", { token: unknown.token }));
    const reader = await streamMember({ user: a.user, scopes: ["read:messages"] });
    expect((await post(reader, `/api/conversations/${id}/messages/`, { message_body: "" })).status).toBe(403);
    // A good token gets the 400 that names the field.
    const bad = await post(a, `/api/conversations/${id}/messages/`, { message_body: "" });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).body.errors?.[0]?.path).toBe("message_body");
  });
});
