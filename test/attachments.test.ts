// Attachments (issue 14): files uploaded as their own bytes into R2, sent with a message (REST or socket),
// downloaded by participants with a bearer token or by anyone holding a signed link, and removed with
// their message, their conversation, or by the hourly cleanup when never sent. What a user notices: the
// resource (type, size, SHA-256, pixel size), the refusals with their sentences, the bytes and headers of
// a download, and that deleted files are really gone from the bucket.
import { createExecutionContext, createScheduledController, env, runDurableObjectAlarm, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { signedLink } from "../src/attachments/links";
import type { AttachmentResource } from "../src/attachments/schemas";
import { database } from "../src/db/client";
import type { MessageResource } from "../src/messages/schemas";
import { json, member, start } from "./support/conversations";
import { concat, gif, jpeg, pdf, png, sha256Hex } from "./support/files";
import { api, appWith, ORIGIN, problemOf } from "./support/http";
import { login } from "./support/oauth";
import { settled } from "./support/shards";
import { openReady, type Socket } from "./support/ws";

type Member = Awaited<ReturnType<typeof member>>;
type Attachment = AttachmentResource;
type Message = MessageResource;
type Links = { links: Record<string, { url: string; expires_at: string }> };

// Logins run PBKDF2 and every test makes dozens of real requests on a small machine: nothing here is timed.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const HOUR = 60 * 60 * 1000;
const NOT_ATTACHABLE = "`attachments` names a file that is not your upload to this conversation from the last hour, or one already sent.";

let a: Member, b: Member, stranger: Member;
/** a and b talk here; a and b also share `other`. */
let conversation: number, other: number;

beforeAll(async () => {
  [a, b, stranger] = await Promise.all([member(), member(), member()]);
  conversation = (await start(a, [b.user.id])).id;
  other = (await start(a, [b.user.id])).id;
});

const text = (s: string) => new TextEncoder().encode(s);
const uploadPath = (conversationId: number, name?: string) => `/api/conversations/${conversationId}/attachments/${name === undefined ? "" : `?name=${encodeURIComponent(name)}`}`;

/** POSTs `data` as an upload with its declared `type` (none when undefined). */
function upload(who: { token: string }, conversationId: number, data: Uint8Array, type: string | undefined, name = "file.bin") {
  return api(uploadPath(conversationId, name), { method: "POST", token: who.token, headers: type === undefined ? {} : { "Content-Type": type }, body: data });
}

/** Uploads and expects 201. */
async function uploaded(who: { token: string }, conversationId: number, data: Uint8Array, type: string | undefined, name = "file.bin"): Promise<Attachment> {
  const res = await upload(who, conversationId, data, type, name);
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Attachment>(res);
}

/** A plain-text upload with a distinct body. */
const note = (who: { token: string }, conversationId: number, words = crypto.randomUUID()) => uploaded(who, conversationId, text(`note ${words}\n`), "text/plain", `${words}.txt`);

const messagesOf = (conversationId: number) => `/api/conversations/${conversationId}/messages/`;

function sendWith(who: { token: string }, conversationId: number, attachments: string[] | undefined, message_body = "", extra: Record<string, unknown> = {}) {
  return api(messagesOf(conversationId), { method: "POST", token: who.token, json: { message_body, ...(attachments && { attachments }), ...extra } });
}

async function sentWith(who: { token: string }, conversationId: number, attachments: string[], message_body = ""): Promise<Message> {
  const res = await sendWith(who, conversationId, attachments, message_body);
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Message>(res);
}

const download = (id: string, token?: string, headers: Record<string, string> = {}) => api(`/api/attachments/${id}/`, { token, headers });
const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

/** Every key in the bucket, sorted. */
async function bucketKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.ATTACHMENTS.list({ cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

const without = (keys: string[], gone: string[]) => keys.filter((k) => !gone.includes(k));

/** Waits until the bucket holds exactly `expected` (removals run after the answer), and returns it. */
const bucketSettles = (expected: string[]) => settled(bucketKeys, (keys) => JSON.stringify(keys) === JSON.stringify([...expected].sort()), 10_000).catch(() => bucketKeys());

/** The attachments' rows in the main database: id → message_id. */
async function rowsOf(ids: string[]): Promise<Map<string, number | null>> {
  const { results } = await env.DB.prepare(`SELECT id, message_id FROM attachments WHERE id IN (${ids.map(() => "?").join(", ")})`)
    .bind(...ids)
    .all<{ id: string; message_id: number | null }>();
  return new Map(results.map((r) => [r.id, r.message_id]));
}

/** Waits until the main database records the uploads as sent with `messageId` (it does right after the answer). */
const attachedTo = (ids: string[], messageId: number) => settled(() => rowsOf(ids), (rows) => ids.every((id) => rows.get(id) === messageId));

/** Makes the uploads look `ms` old. */
const backdate = (ids: string[], ms: number) =>
  env.DB.prepare(`UPDATE attachments SET created_at = ? WHERE id IN (${ids.map(() => "?").join(", ")})`)
    .bind(Date.now() - ms, ...ids)
    .run();

/** A Worker in this isolate with some vars replaced, called with `who`'s token. */
function uploadWith(vars: Record<string, string>) {
  const call = appWith(vars);
  return (who: { token: string }, conversationId: number, data: Uint8Array | ReadableStream, headers: Record<string, string> = {}) =>
    call(uploadPath(conversationId, "limited.bin"), {
      method: "POST",
      // A request made in this isolate has no Content-Length until sent: give it as a client would.
      headers: { Authorization: `Bearer ${who.token}`, "Content-Type": "application/octet-stream", ...(data instanceof Uint8Array && { "Content-Length": String(data.length) }), ...headers },
      body: data,
    });
}

describe("uploading", () => {
  it("stores a PNG as image/png with its size in bytes and pixels and the SHA-256 of its bytes", async () => {
    const data = png(3, 2);
    const res = await upload(a, conversation, data, "image/png", "dot.png");
    expect(res.status).toBe(201);
    const body = await json<Attachment>(res);
    expect(body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{16,64}$/),
      name: "dot.png",
      content_type: "image/png",
      size: data.length,
      sha256: await sha256Hex(data),
      width: 3,
      height: 2,
      created_at: expect.any(String),
    });
    expect(new Date(body.created_at).toISOString()).toBe(body.created_at);
    expect(await bucketKeys()).toContain(body.id);
  });

  it("reads the pixel size of a GIF and of a JPEG whose frame follows its APP segments", async () => {
    const g = gif(5, 4);
    const j = jpeg(640, 480, { exifBytes: 300 });
    const [gifAttachment, jpegAttachment] = [await uploaded(a, conversation, g, "image/gif", "anim.gif"), await uploaded(a, conversation, j, "image/jpeg", "photo.jpg")];
    expect(gifAttachment).toMatchObject({ content_type: "image/gif", width: 5, height: 4, size: g.length, sha256: await sha256Hex(g) });
    expect(jpegAttachment).toMatchObject({ content_type: "image/jpeg", width: 640, height: 480, size: j.length, sha256: await sha256Hex(j) });
  });

  it("keeps a PDF as application/pdf, without a pixel size", async () => {
    const data = pdf();
    expect(await uploaded(a, conversation, data, "application/pdf", "report.pdf")).toMatchObject({ content_type: "application/pdf", size: data.length, width: null, height: null, name: "report.pdf" });
  });

  it("stores a file declared image/png whose bytes are not a PNG as application/octet-stream, and serves it as a download", async () => {
    const data = text("<html><script>alert(document.cookie)</script></html>");
    const stored = await uploaded(a, conversation, data, "image/png", "cat.png");
    expect(stored).toMatchObject({ content_type: "application/octet-stream", width: null, height: null, size: data.length });
    const res = await download(stored.id, b.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/octet-stream");
    expect(res.headers.get("Content-Disposition")).toMatch(/^attachment;/);
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(await bytesOf(res)).toEqual(data);
  });

  it("stores a type it does not serve (SVG), or one not declared at all, as application/octet-stream, downloaded as an attachment", async () => {
    const svg = text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const declared = await uploaded(a, conversation, svg, "image/svg+xml", "logo.svg");
    const undeclared = await uploaded(a, conversation, png(2, 2), undefined, "mystery");
    for (const stored of [declared, undeclared]) {
      expect(stored.content_type).toBe("application/octet-stream");
      const res = await download(stored.id, a.token);
      expect(res.headers.get("Content-Type")).toBe("application/octet-stream");
      expect(res.headers.get("Content-Disposition")).toMatch(/^attachment;/);
      await res.arrayBuffer();
    }
  });

  it("takes a file far larger than a JSON body may be, in any type but JSON (the JSON body rules do not apply)", async () => {
    // 200 KB of UTF-8 text whose first 64 KiB (what the type check reads) ends inside a character.
    const data = text(`a${"é".repeat(100_000)}`);
    const stored = await uploaded(a, conversation, data, "text/plain; charset=utf-8", "long.txt");
    expect(stored).toMatchObject({ content_type: "text/plain", size: data.length, sha256: await sha256Hex(data) });
    const res = await download(stored.id, b.token);
    expect(res.headers.get("Content-Length")).toBe(String(data.length));
    expect(await bytesOf(res)).toEqual(data);
  });

  it("refuses a body sent without Content-Length with 411, storing nothing", async () => {
    const before = await bucketKeys();
    // A stream of unknown length goes out chunked, without Content-Length.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(png(2, 2));
        controller.close();
      },
    });
    const res = await SELF.fetch(`${ORIGIN}${uploadPath(conversation, "chunked.png")}`, { method: "POST", headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "image/png" }, body });
    expect(res.status).toBe(411);
    expect((await problemOf(res)).body.detail).toBe("Send the file with a Content-Length.");
    expect(await bucketKeys()).toEqual(before);
  });

  it("refuses a body shorter or longer than its Content-Length with 400, and leaves nothing in the bucket nor a row", async () => {
    const limited = uploadWith({});
    const before = await bucketKeys();
    const { n: rowsBefore } = (await env.DB.prepare("SELECT count(*) AS n FROM attachments WHERE uploader_id = ?").bind(a.user.id).first<{ n: number }>())!;
    const stream = (data: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(data);
          controller.close();
        },
      });
    const short = await limited(a, conversation, stream(text("only 14 bytes.")), { "Content-Length": "100" });
    expect(short.status).toBe(400);
    expect((await problemOf(short)).body.detail).toBe("The body did not hold the 100 bytes its Content-Length announced.");
    const long = await limited(a, conversation, stream(new Uint8Array(300).fill(7)), { "Content-Length": "100" });
    expect(long.status).toBe(400);
    await long.arrayBuffer();
    expect(await bucketKeys()).toEqual(before);
    const { n: rowsAfter } = (await env.DB.prepare("SELECT count(*) AS n FROM attachments WHERE uploader_id = ?").bind(a.user.id).first<{ n: number }>())!;
    expect(rowsAfter).toBe(rowsBefore);
  });

  it("refuses an empty file with 400", async () => {
    const res = await upload(a, conversation, new Uint8Array(0), "text/plain", "empty.txt");
    expect(res.status).toBe(400);
    expect((await problemOf(res)).body.detail).toBe("The file is empty.");
  });

  it("refuses a file over MAX_ATTACHMENT_BYTES with 413 and a sentence, storing nothing; one at the limit is fine", async () => {
    const limited = uploadWith({ MAX_ATTACHMENT_BYTES: "1000" });
    const before = await bucketKeys();
    const over = await limited(a, conversation, new Uint8Array(1001).fill(1));
    expect(over.status).toBe(413);
    const problem = await problemOf(over);
    expect(problem.contentType).toBe("application/problem+json");
    expect(problem.body.detail).toBe("A file is at most 1000 bytes; this one is 1001.");
    expect(await bucketKeys()).toEqual(before);
    const at = await limited(a, conversation, new Uint8Array(1000).fill(1));
    expect(at.status).toBe(201);
    expect((await json<Attachment>(at)).size).toBe(1000);
  });

  it("refuses an upload past the user's quota with 413 and a sentence; deleting a message with files frees room", async () => {
    const q = await member();
    const own = (await start(q, [])).id;
    const limited = uploadWith({ ATTACHMENT_QUOTA_BYTES: "1500" });
    const first = await limited(q, own, new Uint8Array(1000).fill(2));
    expect(first.status).toBe(201);
    const big = await json<Attachment>(first);
    const before = await bucketKeys();
    const over = await limited(q, own, new Uint8Array(600).fill(3));
    expect(over.status).toBe(413);
    expect((await problemOf(over)).body.detail).toBe("Your attachments would take more than your 1500 bytes; delete some messages with files first.");
    expect(await bucketKeys()).toEqual(before);
    // Up to the quota exactly is fine.
    const rest = await limited(q, own, new Uint8Array(500).fill(4));
    expect(rest.status).toBe(201);
    expect((await limited(q, own, new Uint8Array(1).fill(4))).status).toBe(413);

    const message = await sentWith(q, own, [big.id]);
    await attachedTo([big.id], message.id);
    expect((await api(`${messagesOf(own)}${message.id}/`, { method: "DELETE", token: q.token })).status).toBe(204);
    await settled(() => rowsOf([big.id]), (rows) => rows.size === 0);
    const after = await limited(q, own, new Uint8Array(600).fill(5));
    expect(after.status).toBe(201);
  });

  it("answers 404 to someone outside the conversation, and to a conversation that does not exist, storing nothing", async () => {
    const before = await bucketKeys();
    const res = await upload(stranger, conversation, png(2, 2), "image/png", "intruder.png");
    expect(res.status).toBe(404);
    expect((await upload(a, 999_999, png(2, 2), "image/png", "nowhere.png")).status).toBe(404);
    expect(await bucketKeys()).toEqual(before);
  });

  it("needs the send:messages scope", async () => {
    const reader = await login({ user: a.user, scopes: ["read:messages"] });
    const res = await upload(reader, conversation, png(2, 2), "image/png", "scoped.png");
    expect(res.status).toBe(403);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["blank", "   "],
    ["with a slash", "../../etc/passwd"],
    ["with a backslash", "C:\\temp\\x.png"],
    ["with a control character", "bell\u0007.png"],
    ["with a newline", "two\nlines.txt"],
    ["too long", `${"x".repeat(252)}.png`],
  ])("refuses a file name that is %s with 400, storing nothing", async (_, name) => {
    const before = await bucketKeys();
    const res = await api(uploadPath(conversation, name), { method: "POST", token: a.token, headers: { "Content-Type": "image/png" }, body: png(2, 2) });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.body.errors?.map((e) => e.path)).toContain("query.name");
    expect(await bucketKeys()).toEqual(before);
  });

  it("keeps a file name with spaces and any script as given", async () => {
    const name = "Été 2024 — Привет 🎉 (final).png";
    expect((await uploaded(a, conversation, png(1, 1), "image/png", name)).name).toBe(name);
  });
});

describe("sending with attachments", () => {
  it("lists the files in the order given, with an empty body, in the answer, the message and the list", async () => {
    const p = await uploaded(a, conversation, png(3, 2), "image/png", "p.png");
    const d = await uploaded(a, conversation, pdf(), "application/pdf", "d.pdf");
    const g = await uploaded(a, conversation, gif(5, 4), "image/gif", "g.gif");
    const message = await sentWith(a, conversation, [d.id, p.id, g.id], "");
    expect(message.message_body).toBe("");
    expect(message.attachments).toEqual([d, p, g]);
    const detail = await json<Message>(await api(`${messagesOf(conversation)}${message.id}/`, { token: b.token }));
    expect(detail.attachments).toEqual([d, p, g]);
    const page = await json<{ results: Message[] }>(await api(`${messagesOf(conversation)}?page_size=100`, { token: b.token }));
    expect(page.results.find((m) => m.id === message.id)?.attachments).toEqual([d, p, g]);
    // A message without files lists none.
    const plain = await sentWith(a, conversation, [], "just words");
    expect(plain.attachments).toEqual([]);
  });

  it("sends files through the flat POST /api/messages/ too, and deleting there removes them", async () => {
    const f = await uploaded(a, conversation, gif(3, 3), "image/gif", "flat.gif");
    const res = await api("/api/messages/", { method: "POST", token: a.token, json: { conversation, message_body: "", attachments: [f.id] } });
    expect(res.status).toBe(201);
    const message = await json<Message>(res);
    expect(message.attachments).toEqual([f]);
    await attachedTo([f.id], message.id);
    expect((await api(`/api/messages/${message.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    await settled(() => rowsOf([f.id]), (rows) => rows.size === 0);
    expect(await env.ATTACHMENTS.head(f.id)).toBeNull();
  });

  it("refuses an empty body without files, with an empty list too", async () => {
    for (const attachments of [undefined, []]) {
      const res = await sendWith(a, conversation, attachments, "");
      expect(res.status).toBe(400);
      expect((await problemOf(res)).body.errors?.map((e) => e.path)).toContain("message_body");
    }
  });

  it("takes ten files in one message and refuses eleven with 400", async () => {
    const eleven = await Promise.all(Array.from({ length: 11 }, (_, i) => note(a, conversation, `eleven-${i}-${crypto.randomUUID()}`)));
    const res = await sendWith(a, conversation, eleven.map((f) => f.id));
    expect(res.status).toBe(400);
    expect((await problemOf(res)).body.errors?.map((e) => e.path)).toContain("attachments");
    const ten = await sentWith(a, conversation, eleven.slice(0, 10).map((f) => f.id), "ten files");
    expect(ten.attachments.map((f) => f.id)).toEqual(eleven.slice(0, 10).map((f) => f.id));
  });

  it("refuses someone else's upload, an upload to another conversation, one already sent, a repeated one, an unknown one and an hour-old one, with 400 and the sentence", async () => {
    const bs = await note(b, conversation);
    const elsewhere = await note(a, other);
    const sent = await note(a, conversation);
    await sentWith(a, conversation, [sent.id], "first time");
    const twice = await note(a, conversation);
    const old = await note(a, conversation);
    await backdate([old.id], 2 * HOUR);
    const cases: [string, string[]][] = [
      ["someone else's", [bs.id]],
      ["another conversation's", [elsewhere.id]],
      ["already sent", [sent.id]],
      ["repeated", [twice.id, twice.id]],
      ["unknown", ["AAAAAAAAAAAAAAAAAAAAAAAA"]],
      ["an hour old", [old.id]],
    ];
    for (const [label, ids] of cases) {
      const res = await sendWith(a, conversation, ids, `with ${label}`);
      expect(res.status, label).toBe(400);
      expect((await problemOf(res)).body.detail, label).toBe(NOT_ATTACHABLE);
    }
    // Nothing was sent by those, and the files that were fine stay sendable.
    expect((await rowsOf([bs.id, elsewhere.id, twice.id])).get(twice.id)).toBeNull();
    expect((await sentWith(a, conversation, [twice.id])).attachments.map((f) => f.id)).toEqual([twice.id]);
    expect((await sentWith(b, conversation, [bs.id])).attachments.map((f) => f.id)).toEqual([bs.id]);
    expect((await sentWith(a, other, [elsewhere.id])).attachments.map((f) => f.id)).toEqual([elsewhere.id]);
  });

  it("refuses a send naming one good and one bad file as a whole, and the good one can be sent after", async () => {
    const good = await note(a, conversation);
    const bad = await note(b, conversation);
    const res = await sendWith(a, conversation, [good.id, bad.id], "mixed");
    expect(res.status).toBe(400);
    expect((await problemOf(res)).body.detail).toBe(NOT_ATTACHABLE);
    expect((await sentWith(a, conversation, [good.id], "only the good one")).attachments.map((f) => f.id)).toEqual([good.id]);
  });

  it("answers a retry with the same client_message_id and files with the first message (200), sending it once", async () => {
    const f1 = await note(a, conversation);
    const f2 = await note(a, conversation);
    const first = await sendWith(a, conversation, [f1.id, f2.id], "retry me", { client_message_id: "files-retry-1" });
    expect(first.status).toBe(201);
    const message = await json<Message>(first);
    const retry = await sendWith(a, conversation, [f1.id, f2.id], "retry me", { client_message_id: "files-retry-1" });
    expect(retry.status).toBe(200);
    const again = await json<Message>(retry);
    expect(again.id).toBe(message.id);
    expect(again.attachments).toEqual(message.attachments);
    expect(again.attachments.map((f) => f.id)).toEqual([f1.id, f2.id]);
    // Once recorded, a retry still finds the first message.
    await attachedTo([f1.id, f2.id], message.id);
    const late = await sendWith(a, conversation, [f1.id, f2.id], "retry me", { client_message_id: "files-retry-1" });
    expect(late.status).toBe(200);
    expect((await json<Message>(late)).id).toBe(message.id);
    const page = await json<{ results: Message[] }>(await api(`${messagesOf(conversation)}?page_size=100`, { token: a.token }));
    expect(page.results.filter((m) => m.client_message_id === "files-retry-1")).toHaveLength(1);
  });

  it("sends files over the socket: the ack and everyone's message.created carry them, in order", async () => {
    const mine = await openReady(conversation, { token: a.token });
    const theirs = await openReady(conversation, { token: b.token });
    try {
      const p = await uploaded(a, conversation, png(4, 4), "image/png", "ws.png");
      const d = await uploaded(a, conversation, pdf(), "application/pdf", "ws.pdf");
      mine.send({ type: "send", message_body: "", client_message_id: "ws-files-1", attachments: [d.id, p.id] });
      const ack = await mine.next((e) => e.type === "ack" && e.client_message_id === "ws-files-1");
      expect(ack.message.attachments).toEqual([d, p]);
      expect(ack.message.message_body).toBe("");
      const created = await theirs.next((e) => e.type === "message.created" && e.message.id === ack.message.id);
      expect(created.message.attachments).toEqual([d, p]);
      const echoed = await mine.next((e) => e.type === "message.created" && e.message.id === ack.message.id);
      expect(echoed.message.attachments).toEqual([d, p]);

      // The same refusals as REST, as error frames.
      mine.send({ type: "send", message_body: "again", client_message_id: "ws-files-2", attachments: [p.id] });
      const refused = await mine.next((e) => e.type === "error" && e.client_message_id === "ws-files-2");
      expect(refused).toMatchObject({ code: "invalid_frame", detail: NOT_ATTACHABLE });
      mine.send({ type: "send", message_body: "", client_message_id: "ws-files-3" });
      const empty = await mine.next((e) => e.type === "error" && (e.client_message_id === "ws-files-3" || /empty/.test(e.detail)));
      expect(empty.code).toBe("invalid_frame");
    } finally {
      close(mine);
      close(theirs);
    }
  });
});

function close(socket: Socket) {
  try {
    socket.ws.close(1000, "done");
  } catch {
    // already closed
  }
}

describe("downloading", () => {
  let image: Attachment, imageBytes: Uint8Array, doc: Attachment, docBytes: Uint8Array;

  beforeAll(async () => {
    imageBytes = png(8, 6);
    image = await uploaded(a, conversation, imageBytes, "image/png", "chart.png");
    docBytes = concat(pdf(), new Uint8Array(500).fill(0x20));
    doc = await uploaded(a, conversation, docBytes, "application/pdf", "Résumé final.pdf");
    await sentWith(a, conversation, [image.id, doc.id], "two files");
  });

  it("gives a participant the bytes with their ETag, caching, sandboxing and inline disposition for an image", async () => {
    const res = await download(image.id, b.token);
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(imageBytes);
    expect(res.headers.get("ETag")).toBe(`"${await sha256Hex(imageBytes)}"`);
    expect(res.headers.get("Content-Type")).toBe("image/png");
    expect(res.headers.get("Content-Length")).toBe(String(imageBytes.length));
    expect(res.headers.get("Cache-Control")).toBe("private, max-age=3600");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Content-Security-Policy")).toBe("sandbox; default-src 'none'");
    expect(res.headers.get("Accept-Ranges")).toBe("bytes");
    expect(res.headers.get("Content-Disposition")).toBe(`inline; filename="chart.png"; filename*=UTF-8''chart.png`);
  });

  it("serves anything but an image as an attachment, its non-ASCII name in filename* and an ASCII stand-in", async () => {
    const res = await download(doc.id, a.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/pdf");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="R_sum_ final.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20final.pdf`);
    expect(await bytesOf(res)).toEqual(docBytes);
  });

  it("writes filename* with only the characters RFC 8187 allows, so quotes and brackets in a name survive", async () => {
    const name = "it's (v2) *draft*.pdf";
    const stored = await uploaded(a, conversation, pdf(), "application/pdf", name);
    const res = await download(stored.id, a.token);
    await res.arrayBuffer();
    const disposition = res.headers.get("Content-Disposition")!;
    const extended = /filename\*=UTF-8''(\S+)/.exec(disposition)?.[1];
    expect(extended).toBeDefined();
    // attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~", else %XX.
    expect(extended).toMatch(/^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+$/);
    expect(decodeURIComponent(extended!)).toBe(name);
  });

  it("answers If-None-Match with the ETag with 304 and no body; another ETag gets the bytes", async () => {
    const etag = `"${image.sha256}"`;
    const same = await download(image.id, b.token, { "If-None-Match": etag });
    expect(same.status).toBe(304);
    expect(same.headers.get("ETag")).toBe(etag);
    expect((await same.arrayBuffer()).byteLength).toBe(0);
    const listed = await download(image.id, b.token, { "If-None-Match": `"nope", ${etag}` });
    expect(listed.status).toBe(304);
    await listed.arrayBuffer();
    const changed = await download(image.id, b.token, { "If-None-Match": `"${doc.sha256}"` });
    expect(changed.status).toBe(200);
    expect(await bytesOf(changed)).toEqual(imageBytes);
  });

  it("answers a Range with 206, its Content-Range and exactly those bytes", async () => {
    const size = docBytes.length;
    const cases: [string, number, number][] = [
      ["bytes=0-7", 0, 7],
      ["bytes=2-5", 2, 5],
      ["bytes=100-", 100, size - 1],
      ["bytes=-10", size - 10, size - 1],
      ["bytes=500-999999", 500, size - 1],
    ];
    for (const [range, from, to] of cases) {
      const res = await download(doc.id, b.token, { Range: range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get("Content-Range"), range).toBe(`bytes ${from}-${to}/${size}`);
      expect(res.headers.get("Content-Length"), range).toBe(String(to - from + 1));
      expect(await bytesOf(res), range).toEqual(docBytes.slice(from, to + 1));
    }
  });

  it("answers a range outside the file with 416 and the file's size", async () => {
    const size = docBytes.length;
    for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, "bytes=-0", "bytes=9-3"]) {
      const res = await download(doc.id, b.token, { Range: range });
      expect(res.status, range).toBe(416);
      expect(res.headers.get("Content-Range"), range).toBe(`bytes */${size}`);
      expect((await problemOf(res)).body.status).toBe(416);
    }
  });

  it("answers 404 to a stranger, and for an id that does not exist, without the bytes", async () => {
    const res = await download(image.id, stranger.token);
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.headers.get("ETag")).toBeNull();
    await res.arrayBuffer();
    expect((await download("AAAAAAAAAAAAAAAAAAAAAAAA", a.token)).status).toBe(404);
    expect((await download("not*an*id", a.token)).status).toBe(404);
  });

  it("answers 401 without any credential", async () => {
    const res = await download(image.id);
    expect(res.status).toBe(401);
    await res.arrayBuffer();
  });

  it("answers 404 to a participant once removed from the conversation, and makes them no links", async () => {
    const c = await member();
    const shared = (await start(a, [c.user.id])).id;
    const file = await uploaded(c, shared, png(2, 2), "image/png", "mine.png");
    await sentWith(c, shared, [file.id], "before I leave");
    expect((await download(file.id, c.token)).status).toBe(200);
    expect((await api(`/api/conversations/${shared}/participants/${c.user.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    expect((await download(file.id, c.token)).status).toBe(404);
    const links = await api("/api/attachments/links/", { method: "POST", token: c.token, json: { ids: [file.id] } });
    expect(await json<Links>(links)).toEqual({ links: {} });
    // The owner, still there, can.
    expect((await download(file.id, a.token)).status).toBe(200);
  });

  it("names the status in the problem's title for 411 and 416", async () => {
    const res = await download(doc.id, b.token, { Range: `bytes=${docBytes.length}-` });
    expect((await problemOf(res)).body.title).toBe("Range Not Satisfiable");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(text("x"));
        controller.close();
      },
    });
    const chunked = await SELF.fetch(`${ORIGIN}${uploadPath(conversation, "x.txt")}`, { method: "POST", headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "text/plain" }, body });
    expect((await problemOf(chunked)).body.title).toBe("Length Required");
  });

  describe("signed links", () => {
    const links = (who: { token: string }, ids: string[]) => api("/api/attachments/links/", { method: "POST", token: who.token, json: { ids } });
    const fetchLink = (url: string, headers: Record<string, string> = {}) => SELF.fetch(`${ORIGIN}${url}`, { headers });

    it("gives links only for the files the caller can see", async () => {
      const strangers = await uploaded(stranger, (await start(stranger, [])).id, png(2, 2), "image/png", "private.png");
      const unsent = await uploaded(a, conversation, png(2, 3), "image/png", "unsent.png");
      const res = await links(b, [image.id, doc.id, strangers.id, "AAAAAAAAAAAAAAAAAAAAAAAA", unsent.id]);
      expect(res.status).toBe(200);
      const body = await json<Links>(res);
      expect(Object.keys(body.links).sort()).toEqual([image.id, doc.id, unsent.id].sort());
      for (const [id, link] of Object.entries(body.links)) {
        const url = new URL(link.url, ORIGIN);
        expect(url.pathname).toBe(`/api/attachments/${id}/`);
        expect(url.searchParams.get("signature")).toMatch(/^[0-9a-f]{64}$/);
        const expires = Number(url.searchParams.get("expires"));
        expect(link.expires_at).toBe(new Date(expires * 1000).toISOString());
        expect(expires * 1000).toBeGreaterThan(Date.now());
      }
      // A stranger gets none of them.
      expect(await json<Links>(await links(stranger, [image.id, doc.id]))).toEqual({ links: {} });
    });

    it("lets anyone with a link download without a token, with the same headers, ranges and ETag", async () => {
      const { links: got } = await json<Links>(await links(b, [image.id, doc.id]));
      const res = await fetchLink(got[image.id]!.url);
      expect(res.status).toBe(200);
      expect(await bytesOf(res)).toEqual(imageBytes);
      expect(res.headers.get("ETag")).toBe(`"${image.sha256}"`);
      expect(res.headers.get("Content-Security-Policy")).toBe("sandbox; default-src 'none'");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("Content-Disposition")).toMatch(/^inline;/);
      const part = await fetchLink(got[doc.id]!.url, { Range: "bytes=0-4" });
      expect(part.status).toBe(206);
      expect(new TextDecoder().decode(await bytesOf(part))).toBe("%PDF-");
      const cached = await fetchLink(got[doc.id]!.url, { "If-None-Match": `"${doc.sha256}"` });
      expect(cached.status).toBe(304);
    });

    it("answers 404 to a tampered link: another signature, another id, another expiry", async () => {
      const { links: got } = await json<Links>(await links(b, [image.id, doc.id]));
      const url = new URL(got[image.id]!.url, ORIGIN);
      const signature = url.searchParams.get("signature")!;
      const expires = url.searchParams.get("expires")!;
      const flipped = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`;
      const attempts = [
        `/api/attachments/${image.id}/?expires=${expires}&signature=${flipped}`,
        `/api/attachments/${doc.id}/?expires=${expires}&signature=${signature}`,
        `/api/attachments/${image.id}/?expires=${Number(expires) + 3600}&signature=${signature}`,
        `/api/attachments/${image.id}/?expires=${expires}&signature=`,
        `/api/attachments/${image.id}/?expires=${expires}&signature=${signature.toUpperCase()}`,
      ];
      for (const attempt of attempts) {
        const res = await fetchLink(attempt);
        expect(res.status, attempt).toBe(404);
        expect(res.headers.get("ETag"), attempt).toBeNull();
        await res.arrayBuffer();
      }
    });

    it("answers 403 with a sentence to a link that expired", async () => {
      const expired = await signedLink(database(env.DB), image.id, Date.now() - 2 * HOUR);
      expect(new Date(expired.expires_at).getTime()).toBeLessThan(Date.now());
      const res = await fetchLink(expired.url);
      expect(res.status).toBe(403);
      expect((await problemOf(res)).body.detail).toBe("The link has expired; ask for a new one.");
      // The same call now makes a link that works: the expired one failed for its age alone.
      const fresh = await signedLink(database(env.DB), image.id);
      const ok = await fetchLink(fresh.url);
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    });

    it("refuses an empty list, more than 100 ids, and a body that is not JSON", async () => {
      expect((await links(b, [])).status).toBe(400);
      expect((await links(b, Array.from({ length: 101 }, () => image.id))).status).toBe(400);
      const notJson = await api("/api/attachments/links/", { method: "POST", token: b.token, headers: { "Content-Type": "text/plain" }, body: image.id });
      expect(notJson.status).toBe(415);
    });
  });
});

describe("deletion", () => {
  it("deleting a message deletes its files' objects and rows, and nothing else", async () => {
    const x1 = await uploaded(a, conversation, png(2, 2), "image/png", "x1.png");
    const x2 = await uploaded(a, conversation, pdf(), "application/pdf", "x2.pdf");
    const y = await note(a, conversation, "kept-with-its-message");
    const z = await note(a, conversation, "kept-unsent");
    const doomed = await sentWith(a, conversation, [x1.id, x2.id], "to be deleted");
    const kept = await sentWith(a, conversation, [y.id], "to be kept");
    const { links: got } = await json<Links>(await api("/api/attachments/links/", { method: "POST", token: b.token, json: { ids: [x1.id] } }));
    const before = await bucketKeys();
    expect(before).toEqual(expect.arrayContaining([x1.id, x2.id, y.id, z.id]));

    expect((await api(`${messagesOf(conversation)}${doomed.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    expect(await bucketSettles(without(before, [x1.id, x2.id]))).toEqual(without(before, [x1.id, x2.id]));
    const rows = await rowsOf([x1.id, x2.id, y.id, z.id]);
    expect([...rows.keys()].sort()).toEqual([y.id, z.id].sort());
    expect(rows.get(y.id)).toBe(kept.id);
    expect(rows.get(z.id)).toBeNull();

    // The tombstone lists no files, and the files are gone for token and link alike.
    const tombstone = await json<Message>(await api(`${messagesOf(conversation)}${doomed.id}/`, { token: b.token }));
    expect(tombstone).toMatchObject({ deleted: true, attachments: [] });
    expect((await download(x1.id, b.token)).status).toBe(404);
    expect((await SELF.fetch(`${ORIGIN}${got[x1.id]!.url}`)).status).toBe(404);
    expect((await download(y.id, b.token)).status).toBe(200);
  });

  it("deleting a conversation removes all of its files, sent or not, and no one else's", async () => {
    const doomed = (await start(a, [b.user.id])).id;
    const x1 = await uploaded(a, doomed, png(2, 2), "image/png", "x1.png");
    const x2 = await uploaded(b, doomed, gif(2, 2), "image/gif", "x2.gif");
    const x3 = await note(b, doomed);
    const unsent = await note(a, doomed);
    const m1 = await sentWith(a, doomed, [x1.id], "one");
    const m2 = await sentWith(b, doomed, [x2.id, x3.id], "two");
    await attachedTo([x1.id], m1.id);
    await attachedTo([x2.id, x3.id], m2.id);
    const elsewhere = await uploaded(a, other, png(3, 3), "image/png", "elsewhere.png");
    await sentWith(a, other, [elsewhere.id], "kept");
    const gone = [x1.id, x2.id, x3.id, unsent.id];
    const before = await bucketKeys();
    expect(before).toEqual(expect.arrayContaining([...gone, elsewhere.id]));

    expect((await api(`/api/conversations/${doomed}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    // Straight away, no one can fetch them.
    for (const id of gone) expect((await download(id, a.token)).status).toBe(404);
    // The room's alarm purges in chunks; the runtime may be running it already, so run it here until the row is gone.
    const stub = env.CONVERSATION_ROOM.getByName(`conversation:${doomed}`);
    await settled(
      async () => {
        await runDurableObjectAlarm(stub);
        return env.DB.prepare("SELECT id FROM conversations WHERE id = ?").bind(doomed).first();
      },
      (row) => row === null,
      20_000,
    );
    expect(await bucketSettles(without(before, gone))).toEqual(without(before, gone));
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM attachments WHERE conversation_id = ?").bind(doomed).first<{ n: number }>())!;
    expect(n).toBe(0);
    const res = await download(elsewhere.id, b.token);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it("the hourly cleanup deletes uploads never sent within the hour, and keeps fresh and sent ones", async () => {
    const stale = await note(a, conversation, "stale");
    const staleToo = await uploaded(b, other, png(2, 2), "image/png", "stale.png");
    const fresh = await note(a, conversation, "fresh");
    const recent = await note(a, conversation, "forty-minutes");
    const sentLongAgo = await note(a, conversation, "sent");
    const message = await sentWith(a, conversation, [sentLongAgo.id], "sent within the hour");
    await attachedTo([sentLongAgo.id], message.id);
    await backdate([stale.id, staleToo.id, sentLongAgo.id], 2 * HOUR);
    await backdate([recent.id], 40 * 60 * 1000);
    const before = await bucketKeys();
    expect(before).toEqual(expect.arrayContaining([stale.id, staleToo.id, fresh.id, recent.id, sentLongAgo.id]));
    // What is due: these two, and any other unsent upload of this file's tests made to look old.
    const { results } = await env.DB.prepare("SELECT id FROM attachments WHERE message_id IS NULL AND created_at < ?").bind(Date.now() - HOUR).all<{ id: string }>();
    const due = results.map((r) => r.id);
    expect(due).toEqual(expect.arrayContaining([stale.id, staleToo.id]));
    for (const kept of [fresh.id, recent.id, sentLongAgo.id]) expect(due).not.toContain(kept);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/10 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    expect(await bucketKeys()).toEqual(without(before, due));
    const { n: left } = (await env.DB.prepare("SELECT count(*) AS n FROM attachments WHERE message_id IS NULL AND created_at < ?").bind(Date.now() - HOUR).first<{ n: number }>())!;
    expect(left).toBe(0);
    const rows = await rowsOf([stale.id, staleToo.id, fresh.id, recent.id, sentLongAgo.id]);
    expect([...rows.keys()].sort()).toEqual([fresh.id, recent.id, sentLongAgo.id].sort());
    expect((await download(stale.id, a.token)).status).toBe(404);
    const still = await download(sentLongAgo.id, b.token);
    expect(still.status).toBe(200);
    expect(new TextDecoder().decode(await bytesOf(still))).toBe("note sent\n");
    // A fresh one can still be sent.
    expect((await sentWith(a, conversation, [fresh.id, recent.id])).attachments.map((f) => f.id)).toEqual([fresh.id, recent.id]);
  });
});
