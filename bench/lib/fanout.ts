// Fan-out: one sender and N members on a conversation's WebSocket. The sender sends over its socket and
// gets an `ack`; every member gets `message.created`. Also a WebSocket floor: `ping` → `pong` on the same
// sockets, answered by the runtime without waking the room.
import { randomBytes } from "node:crypto";
import type WebSocket from "ws";
import { pool } from "./seed";
import { closeAll, openSocket } from "./sockets";
import { summarize, type Latency } from "./stats";

type Pending = { sentAt: number; ackAt?: number; arrivals: number[]; done: () => void };

export type FanoutResult = {
  members: number;
  messages: number;
  /** Member's message.created minus the sender's ack (negative: the member had it first). */
  ackToMember: Latency;
  /** Member's message.created minus the moment the sender wrote its frame. */
  sendToMember: Latency;
  /** The sender's round trip: frame written → ack. */
  ack: Latency;
  /** Per message: last member's arrival minus first member's. */
  spread: Latency;
  missing: number;
  /** `ping` → `pong` on every member socket at once (runtime auto-response: the transport's floor). */
  ping: Latency;
  connectSeconds: number;
  /** Frames and bytes all sockets received per message sent (message.created, receipts, ack). */
  framesPerMessage: number;
  bytesPerMessage: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function fanout(options: { url: string; conversationId: number; senderToken: string; memberTokens: string[]; messages: number; intervalMs: number; pingRounds: number }): Promise<FanoutResult> {
  const { url, conversationId } = options;
  const tag = randomBytes(3).toString("hex");
  const pending = new Map<string, Pending>();
  let pongs: ((at: number) => void)[] = [];
  const received = { frames: 0, bytes: 0 };
  const sockets: WebSocket[] = [];
  const memberCount = options.memberTokens.length;
  const started = performance.now();
  const tally = (n: number) => {
    received.frames++;
    received.bytes += n;
  };
  try {
    const path = `/api/conversations/${conversationId}/ws`;
    const members = await pool(options.memberTokens, 10, async (token, i) => {
      const ws = await openSocket(url, path, token, (data, at) => {
        tally(data.length);
        if (data === "pong") return pongs[i]?.(at);
        if (!data.startsWith('{"type":"message.created"')) return;
        const event = JSON.parse(data) as { message: { client_message_id: string | null } };
        const p = event.message.client_message_id ? pending.get(event.message.client_message_id) : undefined;
        if (p) {
          p.arrivals.push(at);
          if (p.ackAt !== undefined && p.arrivals.length === memberCount) p.done();
        }
      });
      sockets.push(ws);
      return ws;
    });
    const sender = await openSocket(url, path, options.senderToken, (data, at) => {
      tally(data.length);
      if (!data.startsWith('{"type":"ack"') && !data.startsWith('{"type":"error"')) return;
      const event = JSON.parse(data) as { type: string; client_message_id: string | null };
      const p = event.client_message_id ? pending.get(event.client_message_id) : undefined;
      if (event.type === "error") {
        console.error(`fan-out: the send was refused: ${data}`);
        p?.done();
      } else if (p) {
        p.ackAt = at;
        if (p.arrivals.length === memberCount) p.done();
      }
    });
    sockets.push(sender);
    const connectSeconds = (performance.now() - started) / 1000;

    // The transport's floor on the same sockets: every member pings at once.
    const pingSamples: number[] = [];
    for (let round = 0; round < options.pingRounds; round++) {
      const waits = members.map(
        (ws, i) =>
          new Promise<void>((resolve) => {
            const at = performance.now();
            pongs[i] = (back) => {
              pingSamples.push(back - at);
              resolve();
            };
            ws.send("ping");
          }),
      );
      await Promise.race([Promise.all(waits), sleep(5000)]);
      pongs = [];
      await sleep(20);
    }

    received.frames = 0;
    received.bytes = 0;
    const ackToMember: number[] = [];
    const sendToMember: number[] = [];
    const ack: number[] = [];
    const spread: number[] = [];
    let missing = 0;
    for (let i = 0; i < options.messages; i++) {
      const id = `fan-${tag}-${i}`;
      const begin = performance.now();
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const p: Pending = { sentAt: begin, arrivals: [], done };
      pending.set(id, p);
      p.sentAt = performance.now();
      sender.send(JSON.stringify({ type: "send", message_body: `fan-out ${i}`, client_message_id: id }));
      await Promise.race([finished, sleep(10_000)]);
      pending.delete(id);
      missing += memberCount - p.arrivals.length;
      if (p.ackAt !== undefined) {
        ack.push(p.ackAt - p.sentAt);
        for (const at of p.arrivals) ackToMember.push(at - p.ackAt);
      }
      for (const at of p.arrivals) sendToMember.push(at - p.sentAt);
      if (p.arrivals.length) spread.push(Math.max(...p.arrivals) - Math.min(...p.arrivals));
      // Stay under the per-socket frame limit (10 a second beyond a burst of 30).
      await sleep(Math.max(0, options.intervalMs - (performance.now() - begin)));
    }
    return {
      members: memberCount,
      messages: options.messages,
      ackToMember: summarize(ackToMember),
      sendToMember: summarize(sendToMember),
      ack: summarize(ack),
      spread: summarize(spread),
      missing,
      ping: summarize(pingSamples),
      connectSeconds,
      framesPerMessage: Math.round(received.frames / options.messages),
      bytesPerMessage: Math.round(received.bytes / options.messages),
    };
  } finally {
    await closeAll(sockets);
  }
}
