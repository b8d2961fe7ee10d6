// `npm run chat` for real: the terminal client as a child process (stdin and stdout are pipes) against a
// real wrangler dev, driven through its stdin and checked through its output and the API.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { startDevServer, UNLIMITED, type DevServer } from "../../scripts/dev-server";
import { allMessages, world, type World } from "./support";

let server: DevServer;
let w: World;
const clients: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  server = await startDevServer({ vars: UNLIMITED });
  w = await world(server, 2);
});
afterAll(async () => {
  for (const child of clients) if (child.exitCode === null) child.kill("SIGKILL");
  await server?.kill();
});

type Client = { stdin: NodeJS.WritableStream; out: () => string; err: () => string; exited: Promise<number | null>; until: (what: string, stream: "out" | "err", pattern: RegExp) => Promise<void> };

/** `npm run chat` with `env` (HEY_TOKEN and friends), for the world's conversation unless `args` say otherwise. */
function chat(env: Record<string, string>, args = ["--conversation", String(w.conversationId)]): Client {
  const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
  const child = spawn(tsx, ["scripts/chat.ts", ...args, "--url", server.url], {
    env: { ...process.env, HEY_TOKEN: "", HEY_REFRESH: "", HEY_CLIENT_ID: "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  clients.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const until = async (what: string, stream: "out" | "err", pattern: RegExp) => {
    const deadline = Date.now() + 15_000;
    while (!pattern.test(stream === "out" ? out : err)) {
      if (Date.now() > deadline) throw new Error(`no ${what} (${pattern})\n--- stdout:\n${out.slice(-1500)}\n--- stderr:\n${err.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { stdin: child.stdin, out: () => out, err: () => err, exited, until };
}

const occurrences = (text: string, part: string) => text.split(part).length - 1;
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

it("shows the last 20 messages, sends a line once, shows others' messages, refuses a long line locally, and exits 0 on Ctrl-D", async () => {
  const a = w.users[0]!;
  const b = w.users[1]!;
  const path = `/api/conversations/${w.conversationId}/messages/`;
  for (let i = 1; i <= 25; i++) {
    const sent = await w.client.json(path, { method: "POST", token: (i % 2 ? b : a).token, body: { message_body: `history ${i}` } });
    expect(sent.status).toBe(201);
  }

  const client = chat({ HEY_TOKEN: a.token });

  // The last 20 messages on connect, oldest first; the viewer's own as "you".
  await client.until("connection", "err", /connected/);
  const history = client.out().split("\n").filter((l) => /history \d+$/.test(l));
  expect(history.map((l) => Number(/history (\d+)$/.exec(l)![1]))).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
  expect(history[0]).toMatch(/you: history 6$/);
  expect(history[1]).toMatch(/: history 7$/);
  expect(history[1]).not.toMatch(/you:/);

  // A typed line is shown once, pending, then confirmed.
  const line = "hello from the terminal client, sent once";
  client.stdin.write(`${line}\n`);
  await client.until("confirmation", "out", /✓ sent: “hello from the terminal …”/);
  expect(occurrences(client.out(), line)).toBe(1);
  expect(client.out()).toMatch(new RegExp(`^⋯ .*you: ${line}$`, "m"));

  // A message from B shows up in A's output, and A's client marks it read.
  const fromB = await w.client.json(path, { method: "POST", token: b.token, body: { message_body: "a reply from B" } });
  expect(fromB.status).toBe(201);
  await client.until("B's message", "out", /: a reply from B$/m);
  const statusForB = async () => (await w.client.json(`${path}?before_seq=${fromB.body.seq + 1}&limit=1`, { token: b.token })).body.results[0].status;
  await expect.poll(statusForB, { timeout: 10_000 }).toBe("read");

  // A line over 4,000 characters never leaves the client.
  client.stdin.write(`${"x".repeat(4001)}\n`);
  await client.until("refusal", "err", /Not sent: the line is 4,001 characters; a message holds at most 4,000\./);

  // Ctrl-D (the end of stdin) quits cleanly.
  client.stdin.end();
  expect(await client.exited).toBe(0);

  const stored = await allMessages(w.client, w.conversationId, b.token);
  const mine = stored.filter((m) => m.message_body === line);
  expect(mine).toHaveLength(1);
  expect(mine[0]!.client_message_id).toBeTruthy();
  expect(stored.some((m) => m.message_body.startsWith("xxxx"))).toBe(false);
  expect(stored).toHaveLength(27);
});

it("renews a revoked access token with the refresh token and keeps the lines typed meanwhile; without one it says so and exits", async () => {
  const a = w.users[0]!;
  const b = w.users[1]!;
  const renewing = chat({ HEY_TOKEN: a.token, HEY_REFRESH: a.refreshToken, HEY_CLIENT_ID: a.clientId });
  const stuck = chat({ HEY_TOKEN: a.token });
  await renewing.until("connection", "err", /connected/);
  await stuck.until("connection", "err", /connected/);

  // Revoking the access token closes the grant's sockets with 4001.
  const revoke = await fetch(`${server.url}/o/revoke_token/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: a.token, client_id: a.clientId }),
  });
  expect(revoke.status).toBe(200);
  const lines = ["typed around the reconnect 1", "typed around the reconnect 2", "typed around the reconnect 3"];
  for (const line of lines) renewing.stdin.write(`${line}\n`);

  expect(await stuck.exited).toBe(1);
  expect(stuck.err()).toMatch(/no refresh token/);

  await renewing.until("reconnection", "err", /reconnected/);
  await expect.poll(() => occurrences(renewing.out(), "✓ sent: “typed around the reconne…”"), { timeout: 10_000 }).toBe(3);
  renewing.stdin.end();
  expect(await renewing.exited).toBe(0);
  // The refresh token given at start is spent now: the client says which one to use next time.
  expect(renewing.err()).toMatch(/HEY_REFRESH=\S+/);

  const stored = await allMessages(w.client, w.conversationId, b.token);
  for (const line of lines) expect(stored.filter((m) => m.message_body === line), line).toHaveLength(1);
});

it("in inbox mode prints the chat list, then new messages, a rename, unread cleared and a contact going online and offline, and resumes after a reconnect", async () => {
  // Users of their own: the tests above spent the world's tokens.
  const v = await world(server, 2);
  const a = v.users[0]!;
  const b = v.users[1]!;
  const bName = b.email.split("@")[0]!;
  const path = `/api/conversations/${v.conversationId}/messages/`;
  expect((await v.client.json(path, { method: "POST", token: a.token, body: { message_body: "before the inbox opened" } })).status).toBe(201);

  const inbox = chat({ HEY_TOKEN: a.token, HEY_REFRESH: a.refreshToken, HEY_CLIENT_ID: a.clientId }, ["--inbox"]);
  await inbox.until("connection", "err", /connected: 1 chat; Ctrl-D quits/);
  // The chat is named by the other participant, with its last message; no one else is online yet.
  await inbox.until("chat list", "out", new RegExp(`^• ${bName} — \\d\\d:\\d\\d you: before the inbox opened$`, "m"));
  await inbox.until("presence snapshot", "out", /^no one else is online$/m);

  const stream = new WebSocket(`${server.url.replace(/^http/, "ws")}/api/events/ws/`, { headers: { Authorization: `Bearer ${b.token}` } });
  await inbox.until("B online", "out", new RegExp(`^\\d\\d:\\d\\d ${bName} is online$`, "m"));

  expect((await v.client.json(path, { method: "POST", token: b.token, body: { message_body: "hello, inbox" } })).status).toBe(201);
  await inbox.until("B's message", "out", new RegExp(`^\\d\\d:\\d\\d new message from ${bName}: hello, inbox \\(unread 1\\)$`, "m"));

  const renamed = await v.client.json(`/api/conversations/${v.conversationId}/`, { method: "PATCH", token: b.token, body: { title: "Plans" } });
  expect(renamed.status).toBe(200);
  await inbox.until("rename", "out", new RegExp(`${bName} is now called “Plans”$`, "m"));

  const read = await v.client.json(`/api/conversations/${v.conversationId}/receipts/`, { method: "POST", token: a.token, body: { read_up_to: 2 } });
  expect(read.status).toBe(200);
  await inbox.until("unread cleared", "out", /unread cleared in “Plans”$/m);

  // A revoked token closes the stream (4001): the client renews it and resumes after the last event it
  // printed, so nothing is printed twice and the chat list is not printed again.
  const revoke = await fetch(`${server.url}/o/revoke_token/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: a.token, client_id: a.clientId }),
  });
  expect(revoke.status).toBe(200);
  await inbox.until("reconnection", "err", /reconnected/);
  expect((await v.client.json(path, { method: "POST", token: b.token, body: { message_body: "after the reconnect" } })).status).toBe(201);
  await inbox.until("the message after the reconnect", "out", /new message in “Plans” from \S+: after the reconnect \(unread 1\)$/m);

  stream.close(1000);
  await inbox.until("B offline", "out", new RegExp(`${bName} is offline$`, "m"));

  inbox.stdin.end();
  expect(await inbox.exited).toBe(0);
  expect(occurrences(inbox.out(), "• ")).toBe(1);
  expect(occurrences(inbox.out(), "hello, inbox")).toBe(1);
  expect(inbox.err()).toMatch(/HEY_REFRESH=\S+/);
});

it("replies to and reacts to a message named by its seq, which the other side sees over REST, shows a mention of the viewer by name, and mutes and unmutes the conversation", async () => {
  // Users of their own, so seqs start at 1 and no earlier test's tokens are spent.
  const v = await world(server, 2);
  const a = v.users[0]!;
  const b = v.users[1]!;
  const [aName, bName] = [a.email, b.email].map((email) => email.split("@")[0]!);
  const path = `/api/conversations/${v.conversationId}/messages/`;
  const asked = await v.client.json(path, { method: "POST", token: b.token, body: { message_body: "lunch at noon?" } });
  expect(asked.status).toBe(201);
  const seq: number = asked.body.seq;

  const client = chat({ HEY_TOKEN: a.token }, ["--conversation", String(v.conversationId)]);
  await client.until("connection", "err", /connected/);
  // Messages are shown with the seq that commands name them by.
  await client.until("B's message", "out", new RegExp(`#${seq} ${bName}: lunch at noon\\?$`, "m"));

  client.stdin.write(`/reply ${seq} yes, see you there\n`);
  await client.until("the reply stored", "out", /✓ sent: “yes, see you there”/);
  expect(client.out()).toMatch(new RegExp(`you: yes, see you there\\n  ↳ replying to ${bName}: lunch at noon\\?$`, "m"));

  client.stdin.write(`/react #${seq} 👍\n`);
  await client.until("the reaction event", "out", new RegExp(`you reacted 👍 to #${seq} \\(1\\)$`, "m"));

  const seen = (await v.client.json(`${path}?after_seq=0&limit=10`, { token: b.token })).body.results as any[];
  const reply = seen.find((m) => m.message_body === "yes, see you there");
  expect(reply.reply_to).toMatchObject({ id: asked.body.id, seq, deleted: false });
  const parent = seen.find((m) => m.id === asked.body.id);
  expect(parent.reactions).toEqual([{ emoji: "👍", count: 1, me: false }]);
  expect(parent.reply_count).toBe(1);

  client.stdin.write(`/pin ${seq}\n`);
  await client.until("the pin event", "out", new RegExp(`you pinned #${seq}: “lunch at noon\\?”$`, "m"));

  // B mentions A: A's client names A.
  expect((await v.client.json(path, { method: "POST", token: b.token, body: { message_body: `thanks <@${a.userId}>!` } })).status).toBe(201);
  await client.until("the mention by name", "out", new RegExp(`${bName}: thanks @${aName}!$`, "m"));

  // Search shows the matches in brackets.
  client.stdin.write("/search lunch\n");
  await client.until("the search hit", "out", new RegExp(`#${seq} ${bName}: \\[lunch\\] at noon\\?$`, "m"));

  // Muting is A's own setting, stored by the server (the chat list shows it); /unmute lifts it.
  const mutedUntil = async () => ((await v.client.json("/api/chats/", { token: a.token })).body.results as any[])[0].muted_until;
  client.stdin.write("/mute 8h\n");
  await client.until("the mute", "err", /muted until .*: push notifications only when someone mentions you/);
  const until = Date.parse(await mutedUntil());
  expect(until - Date.now()).toBeGreaterThan(7.9 * 3_600_000);
  expect(until - Date.now()).toBeLessThan(8.1 * 3_600_000);
  client.stdin.write("/unmute\n");
  await client.until("the unmute", "err", /unmuted: push notifications for every message/);
  expect(await mutedUntil()).toBeNull();

  // An unknown command prints the help and sends nothing; `//` sends a line that starts with `/`.
  client.stdin.write("/frobnicate now\n");
  await client.until("the help", "err", /unknown command \/frobnicate; commands: \/reply SEQ text/);
  client.stdin.write("//shrug\n");
  await client.until("the slash line stored", "out", /✓ sent: “\/shrug”/);

  client.stdin.end();
  expect(await client.exited).toBe(0);
  const bodies = (await allMessages(v.client, v.conversationId, b.token)).map((m) => m.message_body);
  expect(bodies).toEqual(["lunch at noon?", "yes, see you there", `thanks <@${a.userId}>!`, "/shrug"]);
});

it("attaches a file with a caption, which the other side sees and downloads byte for byte, shows the other side's file, and downloads it without overwriting", async () => {
  const v = await world(server, 2);
  const a = v.users[0]!;
  const b = v.users[1]!;
  const bName = b.email.split("@")[0]!;
  const path = `/api/conversations/${v.conversationId}/messages/`;
  const dir = await mkdtemp(join(tmpdir(), "hey-chat-"));
  try {
    const bytes = Buffer.from("meeting notes\n— naïve café, 3 items\n");
    await writeFile(join(dir, "notes.txt"), bytes);

    const client = chat({ HEY_TOKEN: a.token }, ["--conversation", String(v.conversationId)]);
    await client.until("connection", "err", /connected/);
    client.stdin.write(`/attach ${join(dir, "notes.txt")} here are the notes\n`);
    await client.until("the upload", "err", new RegExp(`uploading notes\\.txt \\(${bytes.length} B\\)…`));
    await client.until("the message stored", "out", /✓ sent: “here are the notes”/);
    expect(client.out()).toMatch(new RegExp(`you: here are the notes\\n  📎 notes\\.txt \\(${bytes.length} B, text/plain\\)$`, "m"));

    // B sees the message with its file over REST, and downloads the same bytes.
    const [sent] = (await allMessages(v.client, v.conversationId, b.token)) as any[];
    expect(sent.message_body).toBe("here are the notes");
    expect(sent.attachments).toEqual([expect.objectContaining({ name: "notes.txt", content_type: "text/plain", size: bytes.length })]);
    const download = await fetch(`${server.url}/api/attachments/${sent.attachments[0].id}/`, { headers: { Authorization: `Bearer ${b.token}` } });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

    // A file from B, sent without text, prints under B's line.
    const upload = await fetch(`${server.url}/api/conversations/${v.conversationId}/attachments/?name=from-b.txt`, {
      method: "POST",
      headers: { Authorization: `Bearer ${b.token}`, "Content-Type": "text/plain" },
      body: "hello",
    });
    expect(upload.status).toBe(201);
    const fromB = await v.client.json(path, { method: "POST", token: b.token, body: { message_body: "", attachments: [(await upload.json()).id] } });
    expect(fromB.status).toBe(201);
    await client.until("B's file", "out", new RegExp(`#${fromB.body.seq} ${bName}:\\n  📎 from-b\\.txt \\(5 B, text/plain\\)$`, "m"));

    // /download saves the files into the directory given; a second time, beside the first.
    const saved = join(dir, "saved");
    client.stdin.write(`/download ${sent.seq} ${saved}\n`);
    await client.until("the download", "err", new RegExp(literally(`saved ${join(saved, "notes.txt")} (${bytes.length} B)`)));
    client.stdin.write(`/download #${sent.seq} ${saved}\n`);
    await client.until("the second download", "err", new RegExp(literally(`saved ${join(saved, "notes (1).txt")}`)));
    expect(await readFile(join(saved, "notes.txt"))).toEqual(bytes);
    expect(await readFile(join(saved, "notes (1).txt"))).toEqual(bytes);

    client.stdin.end();
    expect(await client.exited).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
