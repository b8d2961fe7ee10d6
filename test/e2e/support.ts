import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { localSql, type DevServer } from "../../scripts/dev-server";
import { HeyClient, signIn, type Session } from "../../scripts/http-client";

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

// —— Accounts and OAuth clients for the webhook and push suites ——

export const PASSWORD = "a long enough password";
export const CALLBACK = "http://127.0.0.1/callback";

export type Person = Session & { password: string; firstName: string; lastName: string };

/** A user with a first and last name (notifications show them), signed in through `clientId` with every user scope. */
export async function person(client: HeyClient, clientId: string, firstName: string, lastName: string): Promise<Person> {
  const email = `${firstName.toLowerCase()}.${randomUUID().slice(0, 8)}@example.com`;
  const created = await client.json("/api/users/", { method: "POST", body: { email, password: PASSWORD, first_name: firstName, last_name: lastName } });
  if (created.status !== 201) throw new Error(`sign-up: ${created.status} ${JSON.stringify(created.body)}`);
  const tokens = await signIn(client.url, { clientId, redirectUri: CALLBACK, email, password: PASSWORD, scope: "read:messages send:messages manage:conversations profile" });
  return { userId: created.body.id, email, token: tokens.access_token, refreshToken: tokens.refresh_token, clientId, password: PASSWORD, firstName, lastName };
}


/**
 * A staff user's token with the `admin` scope. As `npm run createsuperuser` and `npm run oauth:client --scope admin`
 * would: the user is made staff and a staff tool client that may ask for `admin` is registered, both in D1, then
 * the user signs in to that tool through the real pages.
 */
export async function adminToken(server: DevServer, client: HeyClient, publicClientId: string): Promise<string> {
  const staff = await person(client, publicClientId, "Staff", "Member");
  const tool = `e2e-admin-${randomUUID().slice(0, 8)}`;
  await localSql(
    server.persistTo,
    `UPDATE users SET is_staff = 1 WHERE id = ${staff.userId}; ` +
      "INSERT INTO oauth_clients (id, name, redirect_uris, confidential, secret_hash, scopes, dynamic, created_at) " +
      `VALUES ('${tool}', 'Hey e2e admin', '${JSON.stringify([CALLBACK])}', 0, NULL, 'admin', 0, ${Date.now()})`,
  );
  return (await signIn(server.url, { clientId: tool, redirectUri: CALLBACK, email: staff.email, password: PASSWORD, scope: "admin" })).access_token;
}

/** A confidential client registered through the staff API (POST /api/oauth/clients/). */
export async function confidentialClient(client: HeyClient, admin: string, name: string, scopes = ["read:messages"]): Promise<{ clientId: string; secret: string; basic: string }> {
  const res = await client.json("/api/oauth/clients/", { method: "POST", token: admin, body: { name, redirect_uris: [CALLBACK], confidential: true, scopes } });
  if (res.status !== 201) throw new Error(`client: ${res.status} ${JSON.stringify(res.body)}`);
  const { client_id: clientId, client_secret: secret } = res.body;
  return { clientId, secret, basic: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}` };
}

/** `who` grants `app` the scopes through the authorization-code + PKCE flow (the app exchanges with its secret). */
export async function grant(url: string, app: { clientId: string; secret: string }, who: Person, scope = "read:messages"): Promise<string> {
  return (await signIn(url, { clientId: app.clientId, redirectUri: CALLBACK, email: who.email, password: who.password, scope, clientSecret: app.secret })).access_token;
}

/** A send retried as a real client does: again with the same key when no answer came or wrangler's proxy said 503. */
export async function send(client: HeyClient, conversationId: number, token: string, body: string, key: string = randomUUID()) {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await client.json(`/api/conversations/${conversationId}/messages/`, { method: "POST", token, body: { message_body: body, client_message_id: key } });
      if (r.status !== 503 || attempt >= 5) return r;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Polls `check` until it returns something other than undefined/false, or throws `what` after `timeoutMs`. */
export async function until<T>(what: string | (() => string), check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `task(0)` … `task(count - 1)`, at most `width` at a time. */
export async function pool(width: number, count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
