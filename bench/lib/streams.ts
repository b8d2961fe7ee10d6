// Fan-out to user streams: REST sends into a conversation whose members all have a user stream open
// (GET /api/events/ws/). A send's latency to each member runs from the request's start to the member's
// `message.created` frame with the message's seq. The same sends with no member online come first: rooms
// publish only to users online, so the difference is what online members cost a send.
import { setTimeout as sleep } from "node:timers/promises";
import type WebSocket from "ws";
import type { Row, Runtime } from "./report";
import { pool } from "./seed";
import { closeAll, openSocket } from "./sockets";
import { summarize, type Latency } from "./stats";

export type StreamResult = {
  members: number;
  messages: number;
  /** REST send → 201 with no member online. */
  sendAlone: Latency;
  /** REST send → 201 with every member's stream open. */
  send: Latency;
  /** Send's start → a member's frame, over every member and message. */
  sendToMember: Latency;
  /** Per message: send's start → the last member's frame (messages that reached everyone). */
  sendToSlowest: Latency;
  missing: number;
  connectSeconds: number;
};

type Options = { url: string; conversationId: number; senderToken: string; memberTokens: string[]; messages: number; intervalMs: number };

/** Wait this long for a message to reach every stream, for the streams to fall quiet, for members to go offline. */
const DELIVERY_MS = 10_000;
const QUIET_MS = 1_000;
const SETTLE_MS = 60_000;

export async function streams(o: Options): Promise<StreamResult> {
  const members = o.memberTokens.length;
  const witness = await hidePresence(o);
  const sendAlone = (await sendPaced(o, "alone", async () => {})).map((s) => s.ms);

  /** Arrival times of each seq of this conversation, over all streams. */
  const arrivals = new Map<number, number[]>();
  let lastFrameAt = performance.now();
  let arrived = () => {};
  const onFrame = (data: string, at: number) => {
    lastFrameAt = at;
    if (!data.startsWith('{"type":"message.created"')) return;
    const event = JSON.parse(data) as { conversation_id: number; message: { seq: number } };
    if (event.conversation_id !== o.conversationId) return;
    arrivals.set(event.message.seq, [...(arrivals.get(event.message.seq) ?? []), at]);
    arrived();
  };
  const delivered = (seq: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        arrived = () => {};
        resolve();
      };
      const timer = setTimeout(done, DELIVERY_MS);
      arrived = () => {
        if ((arrivals.get(seq)?.length ?? 0) >= members) done();
      };
      arrived();
    });

  const sockets: WebSocket[] = [];
  let witnessSocket: WebSocket | undefined;
  const started = performance.now();
  let result: StreamResult;
  try {
    witnessSocket = await openSocket(o.url, "/api/events/ws/", o.memberTokens[0]!, onFrame);
    await pool(o.memberTokens.slice(1), 10, async (token) => void sockets.push(await openSocket(o.url, "/api/events/ws/", token, onFrame)));
    const connectSeconds = (performance.now() - started) / 1000;
    // The witness coming online is announced to the members already online: measure once that is over.
    while (performance.now() - lastFrameAt < QUIET_MS && performance.now() - started < SETTLE_MS) await sleep(100);

    const sendToMember: number[] = [];
    const sendToSlowest: number[] = [];
    let missing = 0;
    const sent = await sendPaced(o, "online", async ({ seq, start }) => {
      await delivered(seq);
      const times = arrivals.get(seq) ?? [];
      arrivals.delete(seq);
      missing += members - times.length;
      for (const at of times) sendToMember.push(at - start);
      if (times.length === members) sendToSlowest.push(Math.max(...times) - start);
    });
    result = {
      members,
      messages: o.messages,
      sendAlone: summarize(sendAlone),
      send: summarize(sent.map((s) => s.ms)),
      sendToMember: summarize(sendToMember),
      sendToSlowest: summarize(sendToSlowest),
      missing,
      connectSeconds,
    };
  } finally {
    // The member who shows presence closes last: once it is seen offline, so is everyone.
    await closeAll(sockets);
    if (witnessSocket) await closeAll([witnessSocket]);
  }
  await offline(o, witness);
  return result;
}

type Sent = { seq: number; start: number; ms: number };

/** `o.messages` REST sends, one at a time and at most one per `o.intervalMs`; `after` runs before the next. */
async function sendPaced(o: Options, label: string, after: (sent: Sent) => Promise<void>): Promise<Sent[]> {
  const out: Sent[] = [];
  for (let i = 0; i < o.messages; i++) {
    const start = performance.now();
    const res = await fetch(`${o.url}/api/conversations/${o.conversationId}/messages/`, {
      method: "POST",
      headers: { Authorization: `Bearer ${o.senderToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message_body: `stream bench, ${label}, ${i}` }),
    });
    const text = await res.text();
    const ms = performance.now() - start;
    if (res.status !== 201) throw new Error(`stream bench: a send answered ${res.status}: ${text.slice(0, 200)}`);
    const sent = { seq: (JSON.parse(text) as { seq: number }).seq, start, ms };
    out.push(sent);
    await after(sent);
    await sleep(Math.max(0, o.intervalMs - (performance.now() - start)));
  }
  return out;
}

const json = async <T>(o: Options, path: string, token: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${o.url}${path}`, {
    method: body === undefined ? "GET" : "PATCH",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`stream bench: ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
};

/**
 * Every member but the first hides their presence, and the first member's id is returned. Shown, each
 * member coming online or going offline is announced to every other one online: about n²/2 events (some
 * 5,000 for 100 members), which stalled wrangler dev, /healthz included, for tens of seconds. Rooms publish
 * to members online whether they show it or not, so what is measured is the same.
 */
async function hidePresence(o: Options): Promise<number> {
  await pool(o.memberTokens.slice(1), 10, (token) => json(o, "/api/users/me/", token, { show_presence: false }));
  return (await json<{ id: number }>(o, "/api/users/me/", o.memberTokens[0]!, { show_presence: true })).id;
}

/**
 * Returns once the members are offline, as the sender sees the one who shows it, whose stream closed last
 * (and a margin: a hidden member's last write may still be under way). Members stay online for
 * PRESENCE_GRACE_SECONDS after their streams close, and while online every send into their conversations
 * publishes to their hubs: later scenarios, and the next runtime on the same D1, must find them offline.
 */
async function offline(o: Options, witness: number): Promise<void> {
  const deadline = performance.now() + SETTLE_MS;
  while ((await json<{ online: boolean }>(o, `/api/users/${witness}/`, o.senderToken)).online) {
    if (performance.now() > deadline) throw new Error(`stream bench: members still online ${SETTLE_MS / 1000} s after their streams closed`);
    await sleep(250);
  }
  await sleep(2 * QUIET_MS);
}

/** The report's rows: the two sends (to sit beside the send scenario's), then the deliveries. */
export function streamRows(runtime: Runtime, s: StreamResult): Row[] {
  const row = (scenario: string, c: number, l: Latency): Row => ({ runtime, server: "on", scenario, c, p50: l.p50, p99: l.p99, rps: null, unit: "", floorC: 1 });
  const fan = `fan-out to ${s.members} user streams`;
  return [
    row(`send: ${s.members} members + sender, none online`, 1, s.sendAlone),
    row(`send: ${s.members} members + sender, ${s.members} streams open`, 1, s.send),
    row(`${fan}: send → member`, s.members, s.sendToMember),
    row(`${fan}: send → slowest member`, s.members, s.sendToSlowest),
  ];
}
