import WebSocket from "ws";
import type { DevServer } from "../../scripts/dev-server";
import { HeyClient, type Session } from "../../scripts/http-client";

export type World = { client: HeyClient; users: Session[]; conversationId: number };

/** `count` signed-in users and one conversation with all of them, owned by the first. */
export async function world(server: DevServer, count: number): Promise<World> {
  const client = new HeyClient(server.url);
  const clientId = await client.registerClient();
  const users: Session[] = [];
  for (let i = 0; i < count; i++) users.push(await client.signUpAndLogin(clientId));
  const created = await client.json("/api/conversations/", { method: "POST", token: users[0]!.token, body: { participants: users.slice(1).map((u) => u.userId) } });
  if (created.status !== 201) throw new Error(`conversation: ${created.status}`);
  return { client, users, conversationId: created.body.id };
}

export type Observer = { events: any[]; seqs: number[]; ready: Promise<void>; reconnects: () => number; close: () => void; waitForSeq: (seq: number, timeoutMs?: number) => Promise<void> };

/**
 * A WebSocket member that records every message.created seq in arrival order. Like a real client it
 * reconnects with after_seq (the last seq it saw) when the connection drops, so `seqs` must still read
 * 1..N exactly once if the server resumes correctly.
 */
export function observe(url: string, conversationId: number, token: string, afterSeq?: number): Observer {
  const events: any[] = [];
  const seqs: number[] = [];
  const listeners = new Set<() => void>();
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  let reconnects = 0;
  let closing = false;
  let ws: WebSocket;
  const connect = (after: number | undefined) => {
    const target = new URL(`/api/conversations/${conversationId}/ws`, url.replace(/^http/, "ws"));
    if (after !== undefined) target.searchParams.set("after_seq", String(after));
    ws = new WebSocket(target, { headers: { Authorization: `Bearer ${token}` } });
    ws.on("message", (data) => {
      const event = JSON.parse(String(data));
      events.push(event);
      if (event.type === "message.created") seqs.push(event.message.seq);
      if (event.type === "ready") onReady();
      for (const l of listeners) l();
    });
    ws.on("close", () => {
      if (closing) return;
      reconnects += 1;
      setTimeout(() => connect(seqs.at(-1) ?? after), 200);
    });
    ws.on("error", () => {});
  };
  connect(afterSeq);
  const waitForSeq = (seq: number, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (seqs.includes(seq)) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`seq ${seq} never arrived; last ${seqs.at(-1)}; last events ${JSON.stringify(events.slice(-3)).slice(0, 400)}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  const close = () => {
    closing = true;
    ws.close();
  };
  return { events, seqs, ready, reconnects: () => reconnects, close, waitForSeq };
}

/** Every stored message of a conversation, walked with the after_seq cursor. */
export async function allMessages(client: HeyClient, conversationId: number, token: string) {
  const out: { id: number; seq: number; client_message_id: string | null; message_body: string }[] = [];
  for (let after = 0; ; ) {
    const page = await client.json(`/api/conversations/${conversationId}/messages/?after_seq=${after}&limit=100`, { token });
    if (page.status !== 200) throw new Error(`history: ${page.status}`);
    out.push(...page.body.results);
    if (!page.body.next) return out;
    after = page.body.results.at(-1).seq;
  }
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
