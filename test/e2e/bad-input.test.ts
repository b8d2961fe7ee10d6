import fc from "fast-check";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDevServer, UNLIMITED, type DevServer } from "../../scripts/dev-server";
import { allMessages, world, type World } from "./support";

let server: DevServer;
let w: World;
let seeded: Awaited<ReturnType<typeof allMessages>>;

beforeAll(async () => {
  server = await startDevServer({ vars: UNLIMITED });
  w = await world(server, 3);
  for (const body of ["one", "two", "three"]) {
    await w.client.json(`/api/conversations/${w.conversationId}/messages/`, { method: "POST", token: w.users[0]!.token, body: { message_body: body } });
  }
  seeded = await allMessages(w.client, w.conversationId, w.users[0]!.token);
});
afterAll(() => server?.kill());

const ROUTES: [string, string][] = [
  ["POST", "/api/users/"], ["GET", "/api/users/"], ["GET", "/api/users/me/"], ["PATCH", "/api/users/me/"], ["GET", "/api/users/{x}/"], ["PATCH", "/api/users/{x}/"],
  ["POST", "/api/conversations/"], ["GET", "/api/conversations/"], ["GET", "/api/conversations/{c}/"], ["PATCH", "/api/conversations/{c}/"], ["DELETE", "/api/conversations/{x}/"],
  ["POST", "/api/conversations/{c}/participants/"], ["DELETE", "/api/conversations/{c}/participants/{x}/"],
  ["GET", "/api/conversations/{c}/messages/"], ["POST", "/api/conversations/{c}/messages/"], ["GET", "/api/conversations/{c}/messages/{m}/"],
  ["PATCH", "/api/conversations/{c}/messages/{m}/"], ["DELETE", "/api/conversations/{c}/messages/{x}/"], ["GET", "/api/conversations/{c}/messages/{m}/receipts/"],
  ["POST", "/api/conversations/{c}/receipts/"], ["GET", "/api/messages/"], ["POST", "/api/messages/"], ["GET", "/api/messages/{m}/"], ["PATCH", "/api/messages/{m}/"],
  ["GET", "/api/chats/"], ["POST", "/api/realtime/tickets/"], ["GET", "/api/oauth/clients/"], ["POST", "/api/oauth/clients/"],
  ["GET", "/o/authorize/"], ["POST", "/o/authorize/"], ["POST", "/o/token/"], ["POST", "/o/revoke_token/"], ["POST", "/o/introspect/"], ["POST", "/o/register/"],
  ["GET", "/.well-known/oauth-authorization-server"], ["GET", "/openapi.json"], ["PUT", "/api/chats/"], ["GET", "/api/nothing/{x}"],
];

const segment = fc.oneof(fc.constantFrom("1", "2", "0", "-1", "99999999999999999999", "1.5", "%00", "..", "%2F", "ünï"), fc.string({ maxLength: 12 }).map(encodeURIComponent));
const body = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("", "{", "null", "[]", '{"message_body":null}', '{"participants":"x"}', '{"conversation":1e309}', '{"message_body":"' + "x".repeat(5000) + '"}'),
);
const contentType = fc.constantFrom(undefined, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "??");
const query = fc.dictionary(fc.constantFrom("page", "page_size", "after_seq", "before_seq", "limit", "status", "sender", "since", "conversation", "search", "email", "unread", "client_id", "response_type", "code_challenge", "redirect_uri"), fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("-1", "0", "1e9", "true", "read", "2026-13-45")), { maxKeys: 4 });

it("answers random bodies, query strings, headers and ids on every route without a 500, in the documented error shape", async () => {
  const tokens = [w.users[1]!.token, "not-a-token", undefined];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), segment, body, contentType, query, fc.constantFrom(...tokens), async ([method, template], x, raw, type, q, token) => {
      const path = template.replace("{c}", String(w.conversationId)).replace("{m}", String(seeded[0]!.id)).replace("{x}", x);
      const headers: Record<string, string> = {};
      if (type) headers["Content-Type"] = type;
      if (token) headers.Authorization = `Bearer ${token}`;
      const url = `${server.url}${path}${Object.keys(q).length ? `?${new URLSearchParams(q)}` : ""}`;
      const res = await fetch(url, { method, headers, body: method === "GET" ? undefined : raw, redirect: "manual" });
      const text = await res.text();
      expect(res.status, `${method} ${url} → ${text.slice(0, 200)}`).toBeLessThan(500);
      const ct = res.headers.get("Content-Type") ?? "";
      if (res.status >= 400 && path.startsWith("/api/")) {
        expect(ct, `${method} ${url}`).toBe("application/problem+json");
        expect(JSON.parse(text)).toMatchObject({ status: res.status, title: expect.any(String), detail: expect.any(String) });
      }
      if (res.status >= 400 && /^\/o\/(token|revoke_token|introspect|register)\//.test(path)) {
        expect(JSON.parse(text)).toMatchObject({ error: expect.any(String), error_description: expect.any(String) });
      }
    }),
    { numRuns: 400 },
  );
  // A participant who is neither sender nor owner cannot have changed the stored messages.
  expect((await allMessages(w.client, w.conversationId, w.users[0]!.token)).slice(0, 3)).toEqual(seeded);
});

it("answers random WebSocket frames with error events and keeps the socket open and responsive", async () => {
  const created = await w.client.json("/api/conversations/", { method: "POST", token: w.users[1]!.token, body: { participants: [] } });
  const conversationId = created.body.id as number;
  const open = () => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/api/conversations/${conversationId}/ws`, { headers: { Authorization: `Bearer ${w.users[1]!.token}` } });
    const events: any[] = [];
    ws.on("message", (d) => events.push(String(d) === "pong" ? { type: "pong" } : JSON.parse(String(d))));
    return new Promise<{ ws: WebSocket; events: any[] }>((resolve, reject) => {
      ws.on("open", () => resolve({ ws, events }));
      ws.on("error", reject);
    });
  };
  const frame = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.json({ maxDepth: 3 }),
    fc.record({ type: fc.constantFrom("send", "receipt", "typing", "auth", "nope", ""), message_body: fc.oneof(fc.string(), fc.integer()), read_up_to: fc.oneof(fc.integer(), fc.string()), ticket: fc.string() }, { requiredKeys: ["type"] }).map((o) => JSON.stringify(o)),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 20 }), async (frames) => {
      const { ws, events } = await open();
      for (const f of frames) ws.send(f);
      const key = `probe-${Math.random()}`;
      ws.send(JSON.stringify({ type: "send", message_body: "still here?", client_message_id: key }));
      const deadline = Date.now() + 10_000;
      while (!events.some((e) => e.type === "ack" && e.client_message_id === key)) {
        expect(ws.readyState, `socket closed after ${JSON.stringify(frames).slice(0, 300)}`).toBe(WebSocket.OPEN);
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const e of events.filter((e) => e.type === "error")) expect(e).toMatchObject({ code: expect.any(String), detail: expect.any(String) });
      ws.close();
    }),
    { numRuns: 30 },
  );
});
