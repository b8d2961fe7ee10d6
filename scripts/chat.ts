// npm run chat -- --conversation ID [--url http://127.0.0.1:8787] [--after-seq N]
// A small terminal chat client: prints the conversation's events and sends each typed line.
// The access token comes from HEY_TOKEN (scopes read:messages and send:messages).
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import type { ServerEvent } from "../src/realtime/protocol";

const { values } = parseArgs({
  options: { conversation: { type: "string" }, url: { type: "string", default: "http://127.0.0.1:8787" }, "after-seq": { type: "string" } },
});
const token = process.env.HEY_TOKEN;
if (!values.conversation || !token) {
  console.error("usage: HEY_TOKEN=<access token> npm run chat -- --conversation ID [--url URL] [--after-seq N]");
  process.exit(2);
}

let lastSeq = values["after-seq"] === undefined ? null : Number(values["after-seq"]);
let socket: WebSocket | null = null;
let backoff = 500;
const unsent: string[] = [];

const show = (event: ServerEvent) => {
  switch (event.type) {
    case "message.created":
    case "ack":
      lastSeq = Math.max(lastSeq ?? 0, event.message.seq);
      if (event.type === "message.created") console.log(`[${event.message.seq}] ${event.message.sender.first_name || `user ${event.message.sender.id}`}: ${event.message.message_body}`);
      return;
    case "message.updated":
    case "message.deleted":
      return console.log(`[${event.message.seq}] ${event.type === "message.deleted" ? "(deleted)" : `(edited) ${event.message.message_body}`}`);
    case "typing":
      return console.log(`… user ${event.user} is typing`);
    case "ready":
      lastSeq = event.last_seq;
      return console.log(`— connected; last message is #${event.last_seq} —`);
    case "error":
      return console.log(`! ${event.code}: ${event.detail}`);
    default:
      return;
  }
};

function connect(): void {
  const url = new URL(`/api/conversations/${values.conversation}/ws`, values.url!.replace(/^http/, "ws"));
  if (lastSeq !== null) url.searchParams.set("after_seq", String(lastSeq));
  socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
  socket.on("open", () => {
    backoff = 500;
    for (const frame of unsent.splice(0)) socket?.send(frame);
  });
  socket.on("message", (data) => show(JSON.parse(String(data)) as ServerEvent));
  socket.on("unexpected-response", (_req, res) => {
    console.error(`refused: HTTP ${res.statusCode}`);
    process.exit(1);
  });
  socket.on("close", (code, reason) => {
    if (code === 4001 || code === 4003 || code === 4029 || code === 1008) {
      console.error(`closed (${code}): ${reason}`);
      process.exit(1);
    }
    console.error(`disconnected (${code}); reconnecting in ${backoff} ms`);
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10_000);
  });
  socket.on("error", () => {});
}

connect();
createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  // The id makes a resend after a reconnect safe: the server answers it with the stored message.
  const frame = JSON.stringify({ type: "send", message_body: line, client_message_id: randomUUID() });
  if (socket?.readyState === WebSocket.OPEN) socket.send(frame);
  else unsent.push(frame);
});
