import { describe, expect, it } from "vitest";
import type { components } from "../src/client/api-types";
import { json, send, start } from "./support/conversations";
import { api, problemOf } from "./support/http";
import { openReady, streamMember } from "./support/ws";

type Report = components["schemas"]["Report"];
type Page<T> = { count: number; results: T[] };

const report = (who: { token: string }, conversationId: number, messageId: number, reason: string) =>
  api(`/api/conversations/${conversationId}/messages/${messageId}/report/`, { method: "POST", token: who.token, json: { reason } });
const decide = (staff: { token: string }, id: number, decision: string, note?: string) =>
  api(`/api/moderation/reports/${id}/${decision}/`, { method: "POST", token: staff.token, json: note === undefined ? {} : { note } });

async function reported() {
  const [a, b, staff] = [await streamMember(), await streamMember(), await streamMember({ staff: true })];
  const c = await start(a, [b.user.id]);
  const bad = await send(b, c.id, "something abusive");
  const res = await report(a, c.id, bad.id, "harassment");
  expect(res.status).toBe(201);
  return { a, b, staff, c, bad, filed: await json<{ id: number; status: string }>(res) };
}

describe("reporting a message", () => {
  it("files a report a participant can file once, with a copy of the message staff see in the queue", async () => {
    const { a, staff, c, bad, filed } = await reported();
    expect(filed.status).toBe("open");
    const again = await report(a, c.id, bad.id, "again");
    expect(again.status).toBe(200);
    expect((await json<{ id: number }>(again)).id).toBe(filed.id);

    const queue = await json<Page<Report>>(await api("/api/moderation/reports/?status=open", { token: staff.token }));
    expect(queue.results.find((r) => r.id === filed.id)).toMatchObject({ conversation_id: c.id, message_id: bad.id, seq: bad.seq, sender_id: bad.sender.id, message_body: "something abusive", reporter_id: a.user.id, reason: "harassment", status: "open" });
  });

  it("refuses strangers (404 as for any message of theirs), one's own message (400), deleted messages (409) and empty reasons (400)", async () => {
    const { a, b, c, bad } = await reported();
    const stranger = await streamMember();
    expect((await report(stranger, c.id, bad.id, "nosy")).status).toBe(404);
    const own = await report(b, c.id, bad.id, "me");
    expect(own.status).toBe(400);
    expect((await problemOf(own)).body.detail).toBe("You can't report your own message; delete it instead.");
    expect((await report(a, c.id, bad.id, "   ")).status).toBe(400);
    const gone = await send(b, c.id, "soon gone");
    await api(`/api/conversations/${c.id}/messages/${gone.id}/`, { method: "DELETE", token: b.token });
    expect((await report(a, c.id, gone.id, "late")).status).toBe(409);
  });

  it("is for staff only to review: 403 for a user token, and reporters never see the queue", async () => {
    const { a } = await reported();
    expect((await api("/api/moderation/reports/", { token: a.token })).status).toBe(403);
    expect((await api("/api/moderation/actions/", { token: a.token })).status).toBe(403);
  });
});

describe("deciding", () => {
  it("dismissing keeps the message, resolves the report once, and is logged with the note", async () => {
    const { a, staff, c, bad, filed } = await reported();
    const res = await decide(staff, filed.id, "dismiss", "banter between friends");
    expect(res.status).toBe(200);
    expect(await json<Report>(res)).toMatchObject({ status: "dismissed", resolved_by: staff.user.id });
    expect((await decide(staff, filed.id, "delete-message")).status).toBe(409);
    const message = await json<{ deleted: boolean }>(await api(`/api/conversations/${c.id}/messages/${bad.id}/`, { token: a.token }));
    expect(message.deleted).toBe(false);
    const log = await json<Page<{ report_id: number; actor_id: number; action: string; note: string | null }>>(await api("/api/moderation/actions/", { token: staff.token }));
    expect(log.results[0]).toMatchObject({ report_id: filed.id, actor_id: staff.user.id, action: "dismiss", note: "banter between friends" });
  });

  it("deleting the message tombstones it as the moderator's for everyone, live, and resolves every report of it", async () => {
    const { a, b, staff, c, bad, filed } = await reported();
    const third = await streamMember();
    await api(`/api/conversations/${c.id}/participants/`, { method: "POST", token: a.token, json: { user_id: third.user.id } });
    const second = await json<{ id: number }>(await report(third, c.id, bad.id, "spam"));
    const socket = await openReady(c.id, { token: b.token });

    expect((await decide(staff, filed.id, "delete-message")).status).toBe(200);
    const event = await socket.next((e) => e.type === "message.deleted" && e.message.id === bad.id);
    expect(event.message).toMatchObject({ deleted: true, message_body: "", deleted_by: "moderator", seq: bad.seq });
    const seen = await json<{ deleted: boolean; deleted_by: string }>(await api(`/api/conversations/${c.id}/messages/${bad.id}/`, { token: a.token }));
    expect(seen).toMatchObject({ deleted: true, deleted_by: "moderator" });
    expect((await json<Report>(await api(`/api/moderation/reports/${second.id}/`, { token: staff.token }))).status).toBe("message_deleted");
    socket.ws.close();
  });

  it("deactivating the sender signs them out at once and resolves every open report of their messages", async () => {
    const { b, staff, filed } = await reported();
    expect((await api("/api/users/me/", { token: b.token })).status).toBe(200);
    const res = await decide(staff, filed.id, "deactivate-sender", "repeat offender");
    expect((await json<Report>(res)).status).toBe("sender_deactivated");
    expect((await api("/api/users/me/", { token: b.token })).status).toBe(401);
    const log = await json<Page<{ action: string }>>(await api("/api/moderation/actions/", { token: staff.token }));
    expect(log.results[0]!.action).toBe("deactivate_sender");
  });

  it("a sender deleting their own message and an owner deleting someone else's are told apart", async () => {
    const { a, b, c } = await reported();
    const mine = await send(b, c.id, "mine");
    const theirs = await send(b, c.id, "theirs");
    const ownersOwn = await send(a, c.id, "owner's own");
    await api(`/api/conversations/${c.id}/messages/${mine.id}/`, { method: "DELETE", token: b.token });
    await api(`/api/conversations/${c.id}/messages/${theirs.id}/`, { method: "DELETE", token: a.token });
    await api(`/api/conversations/${c.id}/messages/${ownersOwn.id}/`, { method: "DELETE", token: a.token });
    const by = async (id: number) => (await json<{ deleted_by: string | null }>(await api(`/api/conversations/${c.id}/messages/${id}/`, { token: a.token }))).deleted_by;
    expect([await by(mine.id), await by(theirs.id), await by(ownersOwn.id)]).toEqual(["sender", "owner", "sender"]);
  });
});
