// Account deletion (issue 17): DELETE /api/users/me/ with the password, or DELETE /api/users/{id}/ by staff.
// At once the user is signed out everywhere and their email is free; then the `hey-accounts` queue and the
// rooms' alarms take them out of their conversations and turn their messages into tombstones that keep
// everyone else's history in order. Nothing here is timed: background work is waited for with `eventually`.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AttachmentResource } from "../src/attachments/schemas";
import type { ChatResource } from "../src/chats/schemas";
import type { ConversationResource } from "../src/conversations/schemas";
import type { MessageResource } from "../src/messages/schemas";
import { deleteMe, deleteUser, eventually, history, person, react, sendMany } from "./support/accounts";
import { json, send, start } from "./support/conversations";
import { png } from "./support/files";
import { api, problemOf } from "./support/http";
import { Browser, authorizeUrl, csrfOf, pkce, registerClient, REDIRECT_URI } from "./support/oauth";
import { rowsIn, shardOf, shardOfConversation, startOn } from "./support/shards";
import { addTo, removeFrom, ticketOf } from "./support/streams";
import { closedWithin, collect, connectStreamReady, endStreams, openReady, openSocket, openStream, streamMember } from "./support/ws";

// Many requests and a queue that delivers a batch a second: generous, and nothing is timed.
vi.setConfig({ testTimeout: 60_000 });

afterEach(() => {
  endStreams();
});

type Page<T> = { count: number; results: T[] };
const DELETED_SENDER = { first_name: "Deleted user", last_name: "" };
const me = (who: { token: string }) => api("/api/users/me/", { token: who.token });
const conversationOf = (who: { token: string }, id: number) => api(`/api/conversations/${id}/`, { token: who.token });

/** Whether the login page accepts `email` and `password` (a 303 onwards) or refuses them. */
async function signsIn(email: string, password: string): Promise<number> {
  const client = await registerClient();
  const url = authorizeUrl({ response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT_URI, state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });
  const browser = new Browser();
  const page = await browser.fetch(url);
  return (await browser.post(url, { csrf_token: csrfOf(await page.text()), email, password })).status;
}

describe("deleting one's own account", () => {
  it("needs the current password: missing or wrong is 400 with the field's sentence and deletes nothing; the right one is 204", async () => {
    const d = await person();
    const missing = await deleteMe(d, {});
    expect(missing.status).toBe(400);
    expect((await problemOf(missing)).body.errors?.map((e) => e.path)).toEqual(["current_password"]);
    const empty = await deleteMe(d, { current_password: "" });
    expect(empty.status).toBe(400);
    expect((await problemOf(empty)).body.errors).toEqual([{ path: "current_password", message: "Enter your password to delete your account." }]);
    const wrong = await deleteMe(d, { current_password: "not my password at all" });
    expect(wrong.status).toBe(400);
    expect((await problemOf(wrong)).body).toMatchObject({ detail: "The current password is wrong.", errors: [{ path: "current_password", message: "The current password is wrong." }] });
    expect((await me(d)).status).toBe(200);

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);
    expect((await me(d)).status).toBe(401);
  });

  it("needs the profile scope", async () => {
    const d = await person();
    const narrow = await streamMember({ user: d.user, scopes: ["read:messages", "send:messages"] });
    expect((await deleteMe(narrow, { current_password: d.password })).status).toBe(403);
    expect((await me(d)).status).toBe(200);
  });

  it("signs them out everywhere and frees their email: the old password no longer signs in, the same email and phone sign up again, and staff see an anonymized row", async () => {
    const phone = "+14155550177";
    const d = await person({ phone_number: phone, bio: "soon gone" });
    const second = await streamMember({ user: d.user });
    expect(await signsIn(d.user.email, d.password)).toBe(303);

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);
    expect((await me(d)).status).toBe(401);
    expect((await me(second)).status).toBe(401);
    expect(await signsIn(d.user.email, d.password)).toBe(400);

    const again = await api("/api/users/", { method: "POST", json: { email: d.user.email, password: "another long password", first_name: "New", last_name: "Person", phone_number: phone } });
    expect(again.status).toBe(201);
    expect((await json<{ id: number }>(again)).id).not.toBe(d.user.id);

    const staff = await streamMember({ staff: true });
    const old = await api(`/api/users/${d.user.id}/`, { token: staff.token });
    expect(old.status).toBe(200);
    expect(await json(old)).toMatchObject({ id: d.user.id, email: `deleted:${d.user.id}`, ...DELETED_SENDER, phone_number: null, bio: null, is_active: false, is_staff: false });
  });

  it("closes their conversation sockets (4003) and their user stream, and voids tickets they were given", async () => {
    const [d, a] = [await person(), await streamMember()];
    const conversation = await start(d, [a.user.id]);
    const socket = await openReady(conversation.id, { token: d.token });
    const stream = await connectStreamReady({ token: d.token });
    const socketTicket = await json<{ ticket: string }>(await api("/api/realtime/tickets/", { method: "POST", token: d.token, json: { conversation: conversation.id } }));
    const streamTicket = await ticketOf(d);

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);
    expect((await closedWithin(socket)).code).toBe(4003);
    expect((await closedWithin(stream)).code).toBe(4003);
    expect((await openSocket(conversation.id, { ticket: socketTicket.ticket })).res.status).toBe(401);
    expect((await openStream({ ticket: streamTicket })).res.status).toBe(401);
  });
});

describe("what a deleted account leaves in conversations", () => {
  it("leaves the group (the owner's role passing to the longest member) and its messages become tombstones from 'Deleted user' in the same seqs", async () => {
    // a signs up before b, so a has the lower id, but b has been in the group longer.
    const [a, b, d] = [await streamMember(), await streamMember(), await person()];
    const group = await start(d, [b.user.id], { title: "Walkers" });
    expect((await addTo(d, group.id, a.user.id)).status).toBe(201);
    const d1 = await send(d, group.id, "first from d about wombats");
    const b1 = await send(b, group.id, "from b");
    const d2 = await send(d, group.id, `second from d, to <@${a.user.id}>`);
    const replyToD = await json<MessageResource>(await api(`/api/conversations/${group.id}/messages/`, { method: "POST", token: b.token, json: { message_body: "b answers d", reply_to: d1.id } }));
    expect((await react(d, group.id, b1.id, "👍")).status).toBe(200);
    expect((await react(a, group.id, b1.id, "🎉")).status).toBe(200);
    const d3 = await send(d, group.id, "last word from d");
    const chatOfA = async () => (await json<Page<ChatResource>>(await api("/api/chats/", { token: a.token }))).results.find((c) => c.conversation.id === group.id)!;
    expect((await chatOfA()).mentions).toBe(1);
    const wombats = async () => (await json<{ results: { message: { id: number } }[] }>(await api("/api/search/messages/?q=wombats", { token: a.token }))).results.map((h) => h.message.id);
    expect(await wombats()).toEqual([d1.id]);
    const socket = await openReady(group.id, { token: a.token });

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);

    const seen = await eventually(async () => {
      const messages = await history(a, group.id);
      expect(messages.filter((m) => m.deleted)).toHaveLength(3);
      return messages;
    });
    expect(seen.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const m of [d1, d2, d3]) {
      expect(seen.find((x) => x.id === m.id)).toMatchObject({ seq: m.seq, deleted: true, message_body: "", deleted_by: "sender", sender: { id: d.user.id, ...DELETED_SENDER } });
    }
    // b's message is as it was, less d's reaction.
    expect(seen.find((x) => x.id === b1.id)).toMatchObject({ message_body: "from b", deleted: false, deleted_by: null, reactions: [{ emoji: "🎉", count: 1, me: true }] });

    const after = await json<ConversationResource>(await conversationOf(b, group.id));
    expect(after.owner).toBe(b.user.id);
    expect(after.participants.map((p) => p.id).sort()).toEqual([a.user.id, b.user.id].sort());
    expect(after.last_seq).toBe(5);
    // A reply keeps its place and its words; its quote of d's message reads deleted.
    expect(seen.find((x) => x.id === replyToD.id)).toMatchObject({ message_body: "b answers d", reply_to: { id: d1.id, preview: "", deleted: true, sender: { id: d.user.id, ...DELETED_SENDER } } });

    await socket.next((e) => e.type === "participant.removed" && e.user === d.user.id);
    const deleted = await collect(socket, (e) => e.type === "message.deleted", 3, 10_000);
    expect(deleted.map((e) => e.message.id).sort()).toEqual([d1.id, d2.id, d3.id].sort());
    expect(deleted.every((e) => e.message.deleted && e.message.message_body === "" && e.message.deleted_by === "sender")).toBe(true);

    // The chat list's last message was d's: it reads deleted, and d's mention of a no longer counts. Nor is d's text found.
    await eventually(async () => {
      const chat = await chatOfA();
      expect(chat.last_message).toMatchObject({ id: d3.id, deleted: true, message_body: "", sender: { id: d.user.id, ...DELETED_SENDER } });
      expect(chat.mentions).toBe(0);
    });
    expect(await wombats()).toEqual([]);
  });

  it("deletes a conversation whose only participant they were, messages and all", async () => {
    const d = await person();
    const notes = await start(d, [], { title: "Notes to self" });
    await send(d, notes.id, "remember the milk");
    const { index } = await shardOf(notes.id);
    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);

    await eventually(async () => {
      expect(await shardOfConversation(notes.id)).toBeUndefined();
      expect(await rowsIn(index, notes.id)).toEqual([]);
    });
    const staff = await streamMember({ staff: true });
    expect((await conversationOf(staff, notes.id)).status).toBe(404);
  });

  it("tombstones their messages in conversations they had left before, on either shard", async () => {
    const [a, d] = [await streamMember(), await person()];
    const left = await Promise.all([0, 1].map((shard) => startOn(shard, a, [d.user.id])));
    const sent = await Promise.all(left.map((c) => send(d, c.id, `said before leaving ${c.id}`)));
    for (const c of left) expect((await removeFrom(d, c.id, d.user.id)).status).toBe(204);

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);

    await eventually(async () => {
      for (const [i, c] of left.entries()) {
        expect((await history(a, c.id)).find((m) => m.id === sent[i]!.id)).toMatchObject({ deleted: true, message_body: "", deleted_by: "sender", sender: { id: d.user.id, ...DELETED_SENDER } });
      }
    });
  });

  it("takes back their reactions in a conversation they had left, even where none of their messages is left", async () => {
    const [a, d] = [await streamMember(), await person()];
    const group = await start(a, [d.user.id]);
    const fromA = await send(a, group.id, "react to this");
    expect((await react(d, group.id, fromA.id, "🔥")).status).toBe(200);
    expect((await removeFrom(d, group.id, d.user.id)).status).toBe(204);
    const reactionsOf = async () => (await json<MessageResource>(await api(`/api/conversations/${group.id}/messages/${fromA.id}/`, { token: a.token }))).reactions;
    expect(await reactionsOf()).toEqual([{ emoji: "🔥", count: 1, me: false }]);

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);
    await eventually(async () => expect(await reactionsOf()).toEqual([]), 10_000);
  });

  it("is no one's to add to a conversation afterwards", async () => {
    const [a, d] = [await streamMember(), await person()];
    const group = await start(a, []);
    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);
    expect((await addTo(a, group.id, d.user.id)).status).toBe(400);
    expect((await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [d.user.id] } })).status).toBe(400);
  });

  it("tombstones every one of many messages (more than a room erases at a time), gap-free, and tells open sockets of each", async () => {
    const [a, d] = [await streamMember(), await person()];
    const conversation = await start(a, [d.user.id]);
    await send(a, conversation.id, "before");
    await sendMany(d, conversation.id, 250, "many");
    await send(a, conversation.id, "after");
    const socket = await openReady(conversation.id, { token: a.token });
    const { index } = await shardOf(conversation.id);

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);

    await eventually(async () => expect((await rowsIn(index, conversation.id)).filter((r) => r.deleted === 1)).toHaveLength(250), 30_000);
    const seen = await history(a, conversation.id);
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 252 }, (_, i) => i + 1));
    expect(seen.filter((m) => m.sender.id === d.user.id).every((m) => m.deleted && m.message_body === "" && m.sender.first_name === "Deleted user")).toBe(true);
    expect([seen[0]!.message_body, seen.at(-1)!.message_body]).toEqual(["before", "after"]);
    expect(await collect(socket, (e) => e.type === "message.deleted", 250, 10_000)).toHaveLength(250);
  });

  it("erases two accounts deleted at the same time from the group they shared", async () => {
    const [a, d, e] = [await streamMember(), await person(), await person()];
    const group = await start(a, [d.user.id, e.user.id]);
    // d's are more than a room erases at a time, so e waits its turn behind d.
    await Promise.all([sendMany(d, group.id, 101, "from d"), sendMany(e, group.id, 10, "from e")]);
    await send(a, group.id, "still here");

    const [first, second] = await Promise.all([deleteMe(d, { current_password: d.password }), deleteMe(e, { current_password: e.password })]);
    expect([first.status, second.status]).toEqual([204, 204]);

    const seen = await eventually(async () => {
      const messages = await history(a, group.id);
      expect(messages.filter((m) => m.deleted)).toHaveLength(111);
      return messages;
    }, 30_000);
    expect(seen.filter((m) => m.deleted).every((m) => m.sender.first_name === "Deleted user" && [d.user.id, e.user.id].includes(m.sender.id))).toBe(true);
    expect(seen.at(-1)).toMatchObject({ message_body: "still here", deleted: false });
    const after = await json<ConversationResource>(await conversationOf(a, group.id));
    expect(after.participants.map((p) => p.id)).toEqual([a.user.id]);
  });

  it("deletes their unsent uploads at once and their sent files with their messages", async () => {
    const [a, d] = [await streamMember(), await person()];
    const conversation = await start(a, [d.user.id]);
    const upload = async () => {
      const res = await api(`/api/conversations/${conversation.id}/attachments/?name=pic.png`, { method: "POST", token: d.token, headers: { "Content-Type": "image/png" }, body: png(4, 4) });
      expect(res.status).toBe(201);
      return json<AttachmentResource>(res);
    };
    const [unsent, sentFile] = [await upload(), await upload()];
    const res = await api(`/api/conversations/${conversation.id}/messages/`, { method: "POST", token: d.token, json: { message_body: "a picture", attachments: [sentFile.id] } });
    expect(res.status).toBe(201);
    const message = await json<MessageResource>(res);
    expect(await env.ATTACHMENTS.head(unsent.id)).not.toBeNull();

    expect((await deleteMe(d, { current_password: d.password })).status).toBe(204);
    expect(await env.ATTACHMENTS.head(unsent.id)).toBeNull();
    await eventually(async () => {
      expect(await env.ATTACHMENTS.head(sentFile.id)).toBeNull();
      const seen = await json<MessageResource>(await api(`/api/conversations/${conversation.id}/messages/${message.id}/`, { token: a.token }));
      expect(seen).toMatchObject({ deleted: true, attachments: [] });
    });
  });
});

describe("deleting someone else's account", () => {
  it("is for a staff administrator (204); a user's token or staff without the admin scope get 403; an unknown or deleted id 404", async () => {
    const target = await streamMember();
    const [user, staff] = [await streamMember(), await streamMember({ staff: true })];
    const staffWithoutAdmin = await streamMember({ user: staff.user, scopes: ["profile", "read:messages"] });
    expect((await deleteUser(user, target.user.id)).status).toBe(403);
    expect((await deleteUser(staffWithoutAdmin, target.user.id)).status).toBe(403);
    expect((await me(target)).status).toBe(200);

    expect((await deleteUser(staff, target.user.id)).status).toBe(204);
    expect((await me(target)).status).toBe(401);
    expect((await deleteUser(staff, target.user.id)).status).toBe(404);
    expect((await deleteUser(staff, 99_999_999)).status).toBe(404);
  });

  it("erases the account as deleting one's own does: its messages become tombstones", async () => {
    const [a, target, staff] = [await streamMember(), await streamMember(), await streamMember({ staff: true })];
    const conversation = await start(a, [target.user.id]);
    const said = await send(target, conversation.id, "soon a tombstone");
    expect((await deleteUser(staff, target.user.id)).status).toBe(204);
    await eventually(async () => {
      expect((await history(a, conversation.id)).find((m) => m.id === said.id)).toMatchObject({ deleted: true, message_body: "", sender: { id: target.user.id, ...DELETED_SENDER } });
    });
    expect((await json<ConversationResource>(await conversationOf(a, conversation.id))).participants.map((p) => p.id)).toEqual([a.user.id]);
  });
});
