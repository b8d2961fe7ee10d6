// Data exports (issue 17): GET/POST /api/users/me/export/ start an export that the `hey-accounts` queue
// builds part by part into R2; once ready, a signed link (no token) downloads one JSON document of
// everything Hey holds about the user. Nothing here is timed: the queue's work is waited for with `eventually`.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { ExportPart } from "../src/db/schema";
import { signLink } from "../src/auth/signed-links";
import { database } from "../src/db/client";
import { deleteMe, exportOf, person, react, readyExport } from "./support/accounts";
import { send, start } from "./support/conversations";
import { api, problemOf } from "./support/http";
import { localId, shardOf, shardOfId, startOn } from "./support/shards";
import { edit, readUpTo, unsend } from "./support/streams";
import { streamMember } from "./support/ws";

vi.setConfig({ testTimeout: 60_000 });

/** The export document's shape, as far as these tests read it. */
type ExportDocument = {
  format: string;
  exported_at: string;
  user: { id: number; email: string; first_name: string };
  grants: { client_id: string; client_name: string; scopes: string[]; revoked_at: string | null }[];
  conversations: { id: number; title: string | null; owner_id: number; read_seq: number; delivered_seq: number }[];
  blocks: { user_id: number }[];
  push_subscriptions: unknown[];
  attachments: unknown[];
  messages: { id: number; conversation_id: number; seq: number; body: string; edited_at: string | null; expires_at: string | null }[];
  reactions: { message_id: number; conversation_id: number; emoji: string }[];
};

/** Follows an export's link as a browser would: no token. */
const download = (url: string) => api(url);

async function documentAt(url: string) {
  const res = await download(url);
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { res, bytes, document: JSON.parse(new TextDecoder().decode(bytes)) as ExportDocument };
}

/** Makes a disappearing message's time come now (as if its hour had passed), before its room's alarm tombstones it. */
async function timePasses(conversationId: number, messageId: number) {
  const { d1 } = await shardOf(conversationId);
  await d1.prepare("UPDATE messages SET expires_at = ? WHERE id = ?").bind(Date.now() - 1000, localId(messageId)).run();
}

describe("a data export", () => {
  it("is built in the background (202 pending, then 200 ready) and downloads as one JSON document of the user's data and live messages on every shard", async () => {
    const [u, a, b] = [await person(), await streamMember(), await streamMember()];
    const onZero = await startOn(0, u, [a.user.id], { title: "Zero" });
    const onOne = await startOn(1, a, [u.user.id, b.user.id], { title: "One" });
    const zero1 = await send(u, onZero.id, "on shard zero");
    const fromA = await send(a, onZero.id, "a's, not u's");
    await send(a, onZero.id, "a's again, unread");
    const one1 = await send(u, onOne.id, "on shard one");
    const editedOne = await send(u, onOne.id, "before the edit");
    expect((await edit(u, onOne.id, editedOne.id, "after the edit")).status).toBe(200);
    const unsent = await send(u, onOne.id, "taken back");
    expect((await unsend(u, onOne.id, unsent.id)).status).toBe(204);
    await send(b, onOne.id, "b's, not u's");
    expect((await react(u, onZero.id, fromA.id, "🦉")).status).toBe(200);
    expect((await readUpTo(u, onZero.id, 2)).status).toBe(200);
    expect((await api("/api/users/me/blocks/", { method: "POST", token: u.token, json: { user_id: b.user.id } })).status).toBe(201);
    // Disappearing messages: one whose time has come is gone from the export, one still running is in it.
    const fleeting = await start(u, [a.user.id]);
    expect((await api(`/api/conversations/${fleeting.id}/`, { method: "PATCH", token: u.token, json: { message_ttl_seconds: 3600 } })).status).toBe(200);
    const expired = await send(u, fleeting.id, "already gone");
    const running = await send(u, fleeting.id, "still here for an hour");
    await timePasses(fleeting.id, expired.id);

    const first = await exportOf(u);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: "pending", url: null, url_expires_at: null, ready_at: null });
    const ready = await readyExport(u);
    expect(ready).toMatchObject({ id: first.body.id, status: "ready", url: expect.stringMatching(/^\/api\/exports\//), ready_at: expect.any(String), url_expires_at: expect.any(String) });
    expect(Date.parse(ready.url_expires_at!)).toBeGreaterThan(Date.now());

    const { res, bytes, document } = await documentAt(ready.url!);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(res.headers.get("Content-Disposition")).toMatch(/^attachment; filename="hey-export-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(Number(res.headers.get("Content-Length"))).toBe(bytes.byteLength);

    expect(document.format).toBe("hey-export/1");
    expect(document.user).toMatchObject({ id: u.user.id, email: u.user.email, first_name: u.user.first_name });
    expect(document.grants).toEqual([expect.objectContaining({ client_name: "Test App", revoked_at: null, scopes: expect.arrayContaining(["profile", "read:messages"]) })]);
    expect(document.conversations.map((c) => c.id).sort()).toEqual([onZero.id, onOne.id, fleeting.id].sort());
    expect(document.conversations.find((c) => c.id === onZero.id)).toMatchObject({ title: "Zero", owner_id: u.user.id, read_seq: 2 });
    expect(document.blocks).toEqual([expect.objectContaining({ user_id: b.user.id })]);
    expect(document.messages.map((m) => m.body).sort()).toEqual(["on shard zero", "on shard one", "after the edit", "still here for an hour"].sort());
    expect(document.messages.find((m) => m.id === editedOne.id)?.edited_at).toEqual(expect.any(String));
    expect(document.messages.find((m) => m.id === zero1.id)).toMatchObject({ conversation_id: onZero.id, seq: zero1.seq, edited_at: null, expires_at: null });
    expect(document.messages.find((m) => m.id === running.id)?.expires_at).toEqual(running.expires_at);
    expect(new Set(document.messages.map((m) => shardOfId(m.id)))).toEqual(new Set([0, 1]));
    expect(document.messages.some((m) => m.id === one1.id)).toBe(true);
    expect(document.reactions).toEqual([expect.objectContaining({ message_id: fromA.id, conversation_id: onZero.id, emoji: "🦉" })]);
  });

  it("says its size once ready: the download's length in bytes", async () => {
    const u = await person();
    const c = await start(u, [], { title: "Notes" });
    await send(u, c.id, "a few bytes");
    expect((await exportOf(u)).status).toBe(202);
    const ready = await readyExport(u);
    const { bytes } = await documentAt(ready.url!);
    expect(ready.size).toBe(bytes.byteLength);
  });

  it("needs the profile and read:messages scopes", async () => {
    const u = await person();
    for (const scopes of [["profile"], ["read:messages"]] as const) {
      const narrow = await streamMember({ user: u.user, scopes: [...scopes] });
      expect((await api("/api/users/me/export/", { token: narrow.token })).status).toBe(403);
      expect((await api("/api/users/me/export/", { method: "POST", token: narrow.token })).status).toBe(403);
    }
  });

  it("holds every message when they fill more than one part, and still parses", async () => {
    const u = await person();
    const [x, y] = [await startOn(0, u, [], { title: "X" }), await startOn(0, u, [], { title: "Y" })];
    await send(u, x.id, "sent the usual way");
    // Twelve hundred more, written straight into the shard (sending them one by one would take minutes): a
    // part holds a thousand, so the second part starts part-way through Y's.
    const { d1 } = await shardOf(x.id);
    const now = Date.now();
    const rows = [x.id, y.id].flatMap((c) => Array.from({ length: 600 }, (_, i) => [c, i + 2, u.user.id, `bulk ${c} ${i} "quoted" \\ ünïcödé`, now] as const));
    const insert = d1.prepare("INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) VALUES (?, ?, ?, ?, ?)");
    for (let i = 0; i < rows.length; i += 200) await d1.batch(rows.slice(i, i + 200).map((r) => insert.bind(...r)));

    expect((await exportOf(u)).status).toBe(202);
    const ready = await readyExport(u, 30_000);
    const { res, bytes, document } = await documentAt(ready.url!);
    expect(Number(res.headers.get("Content-Length"))).toBe(bytes.byteLength);
    expect(document.messages).toHaveLength(1201);
    expect(new Set(document.messages.map((m) => m.id)).size).toBe(1201);
    expect(document.messages.map((m) => [m.conversation_id, m.seq])).toEqual([
      ...Array.from({ length: 601 }, (_, i) => [x.id, i + 1]),
      ...Array.from({ length: 600 }, (_, i) => [y.id, i + 2]),
    ]);
    expect(document.messages.at(-1)!.body).toBe(`bulk ${y.id} 599 "quoted" \\ ünïcödé`);
    const stored = await env.DB.prepare("SELECT parts FROM data_exports WHERE id = ?").bind(ready.id).first<{ parts: string }>();
    expect((JSON.parse(stored!.parts) as ExportPart[]).filter((p) => p.section === "messages").length).toBeGreaterThan(1);
  });
});

describe("an export's link", () => {
  it("works only as signed: a tampered signature or a missing query is 404, an expired link 403", async () => {
    const u = await person();
    await exportOf(u);
    const ready = await readyExport(u);
    const url = new URL(ready.url!, "http://hey.test");
    const signature = url.searchParams.get("signature")!;

    const tampered = new URL(url);
    tampered.searchParams.set("signature", (signature[0] === "0" ? "1" : "0") + signature.slice(1));
    const wrong = await download(tampered.pathname + tampered.search);
    expect(wrong.status).toBe(404);
    expect((await problemOf(wrong)).body.detail).toBe("No such export.");
    const later = new URL(url);
    later.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    expect((await download(later.pathname + later.search)).status).toBe(404);
    expect((await download(url.pathname)).status).toBe(404);

    // A link signed as the server signs them, but two hours ago: its hour is over.
    const { query } = await signLink(database(env.DB), "export-links", ready.id, 3600, Date.now() - 2 * 3600_000);
    const expired = await download(`${url.pathname}?${query}`);
    expect(expired.status).toBe(403);
    expect((await problemOf(expired)).body.detail).toBe("The link has expired; ask for the export again for a new one.");

    expect((await download(ready.url!)).status).toBe(200);
  });
});

describe("starting exports", () => {
  it("POST returns the export being built rather than start another, and starts a new one once it is ready", async () => {
    const u = await person();
    const started = await exportOf(u, "POST");
    expect(started.status).toBe(202);
    expect(started.body.status).toBe("pending");
    const again = await exportOf(u, "POST");
    expect(again).toMatchObject({ status: 202, body: { id: started.body.id, status: "pending" } });
    expect((await exportOf(u)).body.id).toBe(started.body.id);

    await readyExport(u);
    const fresh = await exportOf(u, "POST");
    expect(fresh.status).toBe(202);
    expect(fresh.body.status).toBe("pending");
    expect(fresh.body.id).not.toBe(started.body.id);
    expect(await exportOf(u)).toMatchObject({ status: 202, body: { id: fresh.body.id } });
  });

  it("is each user's own: another user's GET starts and shows theirs", async () => {
    const [u, other] = [await person(), await person()];
    const mine = await exportOf(u);
    const theirs = await exportOf(other);
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(mine.body.id);
    const { document } = await documentAt((await readyExport(other)).url!);
    expect(document.user.id).toBe(other.user.id);
  });
});

describe("deleting the account", () => {
  it("deletes its exports: the old link is 404 and the parts are gone from storage", async () => {
    const u = await person();
    const c = await start(u, [], { title: "Notes" });
    await send(u, c.id, "in the export");
    await exportOf(u);
    const ready = await readyExport(u);
    expect((await download(ready.url!)).status).toBe(200);
    expect((await env.EXPORTS.list({ prefix: `${ready.id}/` })).objects.length).toBeGreaterThan(0);

    expect((await deleteMe(u, { current_password: u.password })).status).toBe(204);
    expect((await download(ready.url!)).status).toBe(404);
    expect((await env.EXPORTS.list({ prefix: `${ready.id}/` })).objects).toEqual([]);
  });
});
