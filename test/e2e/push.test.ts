import { createECDH } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { startDevServer, UNLIMITED, type DevServer } from "../../scripts/dev-server";
import { HeyClient } from "../../scripts/http-client";
import { startPushService, type Push, type PushService, type Subscription } from "./push-service";
import { person, send, sleep, until, type Person } from "./support";

let server: DevServer;
let push: PushService;
let client: HeyClient;
let u: Person;
let v: Person;
let direct: number;
let subscription: Subscription;
let subscriptionId: string;

const vapid = createECDH("prime256v1");
vapid.generateKeys();
const VAPID_PUBLIC_KEY = vapid.getPublicKey().toString("base64url");
// A private scalar with leading zero bytes comes out shorter; the server expects all 32.
const VAPID_PRIVATE_KEY = Buffer.concat([Buffer.alloc(32), vapid.getPrivateKey()]).subarray(-32).toString("base64url");

/** How long a push that should not come is given to come anyway. */
const QUIET_MS = 3_000;

beforeAll(async () => {
  push = await startPushService();
  server = await startDevServer({
    vars: { ...UNLIMITED, VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT: "mailto:e2e@example.com", PRESENCE_GRACE_SECONDS: "1", WEBHOOK_RETRY_BASE_SECONDS: "1", WEBHOOK_RETRY_MAX_SECONDS: "4" },
  });
  client = new HeyClient(server.url);
  const pub = await client.registerClient();
  u = await person(client, pub, "Ann", "Lee");
  v = await person(client, pub, "Ben", "Cho");
  const r = await client.json("/api/conversations/", { method: "POST", token: u.token, body: { participants: [v.userId] } });
  expect(r.status).toBe(201);
  direct = r.body.id;
  subscription = push.subscribe();
  const { id: _, ...json } = subscription;
  const created = await client.json("/api/push/subscriptions/", { method: "POST", token: v.token, body: json });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.endpoint).toBe(subscription.endpoint);
  subscriptionId = created.body.id;
});

afterAll(async () => {
  if (process.env.E2E_SERVER_LOG) (await import("node:fs")).writeFileSync("/tmp/e2e-push-server.log", server?.log() ?? "");
  await server?.kill();
  await push?.close();
});

/** The notification for message `seq` of `conversation` at V's subscription. */
const pushFor = (conversation: number, seq: number) => push.received.find((p) => p.subscription === subscription.id && p.payload?.conversation_id === conversation && p.payload?.seq === seq);
const waitForPush = (conversation: number, seq: number, what: string) => until(() => `${what}; received ${JSON.stringify(push.received.map((p) => p.payload ?? p.error))}`, () => pushFor(conversation, seq), 30_000);

function expectValid(p: Push, conversation: number, urgency: "high" | "normal") {
  expect(p.error).toBeNull();
  expect(p.status).toBe(201);
  expect(p.vapidKey).toBe(VAPID_PUBLIC_KEY);
  expect(p.headers.ttl).toBe("86400");
  expect(p.headers.topic).toBe(`c${conversation}`);
  expect(p.headers.urgency).toBe(urgency);
}

it("publishes the VAPID key and takes a subscription once per endpoint", async () => {
  expect((await client.json("/api/push/key/")).body).toEqual({ public_key: VAPID_PUBLIC_KEY });
  const { id: _, ...json } = subscription;
  const again = await client.json("/api/push/subscriptions/", { method: "POST", token: v.token, body: json });
  expect(again.status).toBe(200);
  expect(again.body.id).toBe(subscriptionId);
  const list = await client.json("/api/push/subscriptions/", { token: v.token });
  expect(list.body.results.map((s: { id: string }) => s.id)).toEqual([subscriptionId]);
});

it("pushes a message to V, who has nothing open, encrypted and VAPID-signed, as the spec's payload", async () => {
  const sent = await send(client, direct, u.token, "hello there");
  expect(sent.status).toBe(201);
  const p = await waitForPush(direct, sent.body.seq, "the push for hello there");
  expectValid(p, direct, "high");
  expect(p.payload).toEqual({ title: "Ann Lee", body: "Ann Lee: hello there", tag: `conversation-${direct}`, conversation_id: direct, seq: sent.body.seq, url: `/app/c/${direct}` });
});

it("says only New message when V turned previews off", async () => {
  const off = await client.json("/api/users/me/", { method: "PATCH", token: v.token, body: { notification_previews: false } });
  expect(off.status, JSON.stringify(off.body)).toBe(200);
  expect((await client.json("/api/users/me/", { token: v.token })).body.notification_previews).toBe(false);
  const sent = await send(client, direct, u.token, "a secret");
  const p = await waitForPush(direct, sent.body.seq, "the push for a secret");
  expectValid(p, direct, "high");
  expect(p.payload).toMatchObject({ title: "Ann Lee", body: "New message", seq: sent.body.seq });
  expect((await client.json("/api/users/me/", { method: "PATCH", token: v.token, body: { notification_previews: true } })).status).toBe(200);
});

it("uses the conversation's title, and normal urgency, in a group", async () => {
  const cy = await person(client, v.clientId, "Cy", "Diaz");
  const group = await client.json("/api/conversations/", { method: "POST", token: u.token, body: { participants: [v.userId, cy.userId], title: "Team" } });
  expect(group.status).toBe(201);
  const sent = await send(client, group.body.id, u.token, "hi team");
  const p = await waitForPush(group.body.id, sent.body.seq, "the push for hi team");
  expectValid(p, group.body.id, "normal");
  expect(p.payload).toMatchObject({ title: "Team", body: "Ann Lee: hi team", tag: `conversation-${group.body.id}` });
});

it("stays quiet in a conversation V muted, except for a message mentioning V", async () => {
  const mutedUntil = new Date(Date.now() + 3_600_000).toISOString();
  const muted = await client.json(`/api/conversations/${direct}/`, { method: "PATCH", token: v.token, body: { muted_until: mutedUntil } });
  expect(muted.status, JSON.stringify(muted.body)).toBe(200);
  const chats = await client.json("/api/chats/", { token: v.token });
  const entry = chats.body.results.find((c: { conversation: { id: number } }) => c.conversation.id === direct);
  expect(Date.parse(entry?.muted_until)).toBe(Date.parse(mutedUntil));

  const plain = await send(client, direct, u.token, "nothing urgent");
  const mention = await send(client, direct, u.token, `<@${v.userId}> look at this`);
  const p = await waitForPush(direct, mention.body.seq, "the push for the mention");
  expectValid(p, direct, "high");
  expect(p.payload.body).toMatch(/^Ann Lee: /);
  await sleep(QUIET_MS);
  expect(pushFor(direct, plain.body.seq)).toBeUndefined();

  expect((await client.json(`/api/conversations/${direct}/`, { method: "PATCH", token: v.token, body: { muted_until: null } })).status).toBe(200);
});

it("pushes nothing while V has a user stream open", async () => {
  const online = async (yes: boolean) =>
    until(`V ${yes ? "online" : "offline"} to U`, async () => (await client.json(`/api/users/${v.userId}/`, { token: u.token })).body?.online === yes, 15_000, 200);
  const ticket = await client.json("/api/events/tickets/", { method: "POST", token: v.token });
  expect(ticket.status).toBe(201);
  const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/api/events/ws/?ticket=${encodeURIComponent(ticket.body.ticket)}`);
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (data) => JSON.parse(String(data)).type === "ready" && resolve());
    ws.on("error", reject);
  });
  await online(true);
  const sent = await send(client, direct, u.token, "you are here anyway");
  await sleep(QUIET_MS);
  expect(pushFor(direct, sent.body.seq)).toBeUndefined();

  // Closed (and past PRESENCE_GRACE_SECONDS), V is pushed to again: the subscription was only held back.
  ws.close();
  await online(false);
  const after = await send(client, direct, u.token, "and now you left");
  expectValid(await waitForPush(direct, after.body.seq, "the push after the stream closed"), direct, "high");
});

it("forgets the subscription when the push service answers 410", async () => {
  push.answer(subscription.id, 410);
  const sent = await send(client, direct, u.token, "are you still there");
  const p = await waitForPush(direct, sent.body.seq, "the push answered 410");
  expect(p.status).toBe(410);
  await until("the subscription to be forgotten", async () => {
    const list = await client.json("/api/push/subscriptions/", { token: v.token });
    return list.status === 200 && !list.body.results.some((s: { id: string }) => s.id === subscriptionId);
  });
});
