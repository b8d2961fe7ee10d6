import WebSocket from "ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../scripts/dev-server";
import { HeyClient, type Session } from "../../scripts/http-client";

// Every client of wrangler dev is 127.0.0.1, so this server runs with low limits of its own.
let server: DevServer;
let client: HeyClient;
let clientId: string;
let users: Session[];

beforeAll(async () => {
  server = await startDevServer({ vars: { RATE_SIGNUP_LIMIT: "3", RATE_SEND_LIMIT: "6", RATE_SEND_WINDOW_SECONDS: "60", RATE_TOKEN_LIMIT: "8", RATE_LOGIN_LIMIT: "1000" } });
  client = new HeyClient(server.url);
  clientId = await client.registerClient();
  users = [await client.signUpAndLogin(clientId), await client.signUpAndLogin(clientId)];
});
afterAll(() => server?.kill());

const expectLimited = (res: { status: number; headers: Headers }) => {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  expect(res.headers.get("RateLimit-Policy")).toMatch(/q=\d+;w=\d+/);
  expect(res.headers.get("RateLimit")).toMatch(/r=0;t=\d+/);
};

it("limits sign-up floods from one address with 429 problem+json, Retry-After and RateLimit fields", async () => {
  await client.json("/api/users/", { method: "POST", body: { email: "third@example.com", password: "a long enough password" } });
  const res = await client.json("/api/users/", { method: "POST", body: { email: "fourth@example.com", password: "a long enough password" } });
  expectLimited(res);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
});

it("limits one user's sends across all conversations, over REST and WebSocket alike", async () => {
  const [a, b] = users as [Session, Session];
  const ids: number[] = [];
  for (let i = 0; i < 2; i++) ids.push((await client.json("/api/conversations/", { method: "POST", token: a.token, body: { participants: [b.userId] } })).body.id);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await client.json(`/api/conversations/${ids[i % 2]}/messages/`, { method: "POST", token: a.token, body: { message_body: `m${i}` } })).status);
  expect(statuses).toEqual([201, 201, 201, 201, 201]);
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/api/conversations/${ids[0]}/ws`, { headers: { Authorization: `Bearer ${a.token}` } });
  const events: any[] = [];
  ws.on("message", (d) => events.push(JSON.parse(String(d))));
  await new Promise((r) => ws.on("open", r));
  ws.send(JSON.stringify({ type: "send", message_body: "sixth", client_message_id: "six" }));
  ws.send(JSON.stringify({ type: "send", message_body: "seventh", client_message_id: "seven" }));
  while (events.filter((e) => e.type === "ack" || e.type === "error").length < 2) await new Promise((r) => setTimeout(r, 20));
  expect(events.find((e) => e.client_message_id === "six")?.type).toBe("ack");
  expect(events.find((e) => e.client_message_id === "seven")).toMatchObject({ type: "error", code: "rate_limited" });
  ws.close();
  expectLimited(await client.json(`/api/conversations/${ids[1]}/messages/`, { method: "POST", token: a.token, body: { message_body: "eighth" } }));
  // Another user is not affected.
  expect((await client.json(`/api/conversations/${ids[1]}/messages/`, { method: "POST", token: b.token, body: { message_body: "hi" } })).status).toBe(201);
});

it("answers frames past the budget with rate_limited and closes a gross flood with 1008", async () => {
  const [, b] = users as [Session, Session];
  const id = (await client.json("/api/conversations/", { method: "POST", token: b.token, body: { participants: [] } })).body.id;
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/api/conversations/${id}/ws`, { headers: { Authorization: `Bearer ${b.token}` } });
  await new Promise((r) => ws.on("open", r));
  const errors: { code: string; retry_after?: number }[] = [];
  ws.on("message", (d) => {
    const event = JSON.parse(String(d));
    if (event.type === "error") errors.push(event);
  });
  const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
  // Ten times the default burst of 30 and more: the first frames past the budget are only dropped.
  for (let i = 0; i < 500; i++) ws.send(JSON.stringify({ type: "typing" }));
  expect(await closed).toBe(1008);
  expect(errors.length).toBeGreaterThan(100);
  expect(errors[0]).toMatchObject({ code: "rate_limited", retry_after: expect.any(Number) });
});

it("answers a token flood with 429 in the RFC 6749 shape", async () => {
  let last: Awaited<ReturnType<HeyClient["json"]>> | undefined;
  for (let i = 0; i < 12 && last?.status !== 429; i++) {
    last = await client.json("/o/token/", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `grant_type=refresh_token&refresh_token=nope&client_id=${clientId}` });
  }
  expectLimited(last!);
  expect(last!.body).toEqual({ error: "temporarily_unavailable", error_description: expect.any(String) });
});
