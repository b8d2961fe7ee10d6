import { afterAll, beforeAll, expect, it } from "vitest";
import { startDevServer, UNLIMITED, type DevServer } from "../../scripts/dev-server";
import { HeyClient } from "../../scripts/http-client";
import { startReceiver, type Receiver, type Received } from "./receiver";
import { adminToken, confidentialClient, grant, person, pool, range, send, sleep, until, type Person } from "./support";

const MESSAGES = 500;

let server: DevServer;
let receiver: Receiver;
let client: HeyClient;
let appA: Awaited<ReturnType<typeof confidentialClient>>;
let appB: Awaited<ReturnType<typeof confidentialClient>>;
let u: Person;
let w: Person;
let conversation: number;
let wConversation: number;
let ea: string;
let eb: string;

const at = (path: string) => receiver.requests.filter((r) => r.path === path);

beforeAll(async () => {
  receiver = await startReceiver({ seed: 15 });
  // Retries every 1–4 s, so a 20 s outage is caught up within seconds of the receiver coming back.
  server = await startDevServer({ vars: { ...UNLIMITED, WEBHOOK_RETRY_BASE_SECONDS: "1", WEBHOOK_RETRY_MAX_SECONDS: "4" } });
  client = new HeyClient(server.url);
  const pub = await client.registerClient();
  const admin = await adminToken(server, client, pub);
  appA = await confidentialClient(client, admin, "Webhook app A");
  appB = await confidentialClient(client, admin, "Webhook app B");
  u = await person(client, pub, "Una", "Ulm");
  const x = await person(client, pub, "Xia", "Xu");
  w = await person(client, pub, "Wes", "Wu");
  const start = async (owner: Person, other: Person) => {
    const r = await client.json("/api/conversations/", { method: "POST", token: owner.token, body: { participants: [other.userId] } });
    if (r.status !== 201) throw new Error(`conversation: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as number;
  };
  conversation = await start(u, x);
  // B's only grant is from W, in a conversation U is not in: B's endpoint is live, but not for U's conversation.
  wConversation = await start(w, x);
  await grant(server.url, appA, u);
  await grant(server.url, appB, w);

  // A registers with its own credentials; B's endpoint is registered for it by staff.
  const a = await client.json("/api/webhooks/", { method: "POST", headers: { Authorization: appA.basic }, body: { url: `${receiver.url}/a`, events: ["message.created"] } });
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  expect(a.body).toMatchObject({ client_id: appA.clientId, url: `${receiver.url}/a`, events: ["message.created"], conversations: null, enabled: true, disabled_reason: null });
  expect(a.body.secret).toMatch(/^whsec_/);
  const b = await client.json("/api/webhooks/", { method: "POST", token: admin, body: { url: `${receiver.url}/b`, events: ["message.created"], client_id: appB.clientId } });
  expect(b.status, JSON.stringify(b.body)).toBe(201);
  expect(b.body.client_id).toBe(appB.clientId);
  ea = a.body.id;
  eb = b.body.id;
  receiver.route("/a", a.body.secret);
  receiver.route("/b", b.body.secret);
});

afterAll(async () => {
  if (process.env.E2E_SERVER_LOG) (await import("node:fs")).writeFileSync("/tmp/e2e-webhooks-server.log", server?.log() ?? "");
  await server?.kill();
  await receiver?.close();
});

const basicGet = (path: string, basic: string) => client.json(path, { headers: { Authorization: basic } });

it("lets a client see and manage only its own endpoints", async () => {
  const mine = await basicGet("/api/webhooks/", appB.basic);
  expect(mine.status).toBe(200);
  expect(mine.body.results.map((e: { id: string }) => e.id)).toEqual([eb]);
  expect((await basicGet(`/api/webhooks/${ea}/`, appB.basic)).status).toBe(404);
});

it("delivers B's endpoint the conversation its grant covers, and not to A", async () => {
  const sent = await send(client, wConversation, w.token, "for B only");
  expect(sent.status).toBe(201);
  const got = await until("B's delivery of W's message", () => at("/b").find((r) => r.body?.conversation_id === wConversation && r.status === 200));
  expect(got.body).toMatchObject({ type: "message.created", seq: sent.body.seq, data: { message: { id: sent.body.id, seq: sent.body.seq } } });
  expect(got.verified).toBe(true);
  expect(at("/a").filter((r) => r.body?.conversation_id === wConversation)).toEqual([]);
});

it(`delivers all ${MESSAGES} message.created events at least once through 30% failures and a 20 s outage, signed, with stable ids`, { timeout: 240_000 }, async () => {
  const started = Date.now();
  receiver.failRate(0.3);
  let acked = 0;
  let outageSnapshot: any[] = [];
  const outage = (async () => {
    await until("half the sends", () => acked >= MESSAGES / 2, 120_000);
    await receiver.down();
    await sleep(15_000);
    // While nothing answers, the attempts log shows calls that got no answer at all.
    outageSnapshot = (await basicGet(`/api/webhooks/${ea}/deliveries/`, appA.basic)).body?.results ?? [];
    await sleep(5_000);
    await receiver.up();
  })();
  outage.catch(() => {}); // Awaited below; this only keeps an early failure from counting as unhandled.
  const refused: string[] = [];
  await pool(8, MESSAGES, async (i) => {
    const r = await send(client, conversation, u.token, `message ${i}`, `m${i}`);
    if (r.status !== 201 && r.status !== 200) refused.push(`m${i}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    acked++;
  });
  const sentAt = Date.now();
  expect(refused).toEqual([]);
  await outage;

  const ok = () => at("/a").filter((r) => r.status === 200 && r.body?.conversation_id === conversation);
  const seen = () => new Set(ok().map((r) => r.body.seq));
  await until(() => `all seqs at A; ${seen().size} of ${MESSAGES} so far`, () => seen().size === MESSAGES, 120_000, 500);
  const deliveredAt = Date.now();
  const requests = at("/a").filter((r) => r.body?.conversation_id === conversation);

  const everything = at("/a");
  expect(everything.filter((r) => !r.verified).map((r) => `${r.headers["hey-signature"]} ${r.raw.toString().slice(0, 100)}`)).toEqual([]);
  expect(everything.filter((r) => r.headers["hey-webhook-id"] !== r.body?.id).map((r) => r.headers["hey-webhook-id"])).toEqual([]);
  expect(everything.filter((r) => !String(r.headers["content-type"]).startsWith("application/json")).map((r) => r.headers["content-type"])).toEqual([]);

  const byId = new Map<string, Received[]>();
  for (const r of requests) byId.set(r.body.id, [...(byId.get(r.body.id) ?? []), r]);
  // A retry is the same event: the same bytes, only the attempt and signature headers change.
  for (const [id, tries] of byId) expect(new Set(tries.map((t) => t.raw.toString())).size, id).toBe(1);
  const attempts = (tries: Received[]) => tries.map((t) => Number(t.headers["hey-attempt"]));
  expect([...byId.values()].some((tries) => attempts(tries).includes(1) && attempts(tries).some((n) => n > 1))).toBe(true);
  for (const tries of byId.values()) expect(attempts(tries).every((n) => Number.isInteger(n) && n >= 1)).toBe(true);

  // After dedup by id: one event per message, seqs 1..N once each, each carrying its message.
  const events = [...byId.values()].map((tries) => tries[0]!.body);
  expect(events.every((e) => e.type === "message.created" && e.data.message.seq === e.seq)).toBe(true);
  expect(events.map((e) => e.seq).sort((a, b) => a - b)).toEqual(range(MESSAGES));
  expect(new Set(events.map((e) => e.data.message.message_body)).size).toBe(MESSAGES);

  expect(at("/b").filter((r) => r.body?.conversation_id === conversation)).toEqual([]);

  expect(outageSnapshot.some((d) => d.status_code === null && typeof d.error === "string" && d.error.length > 0)).toBe(true);
  const log = await basicGet(`/api/webhooks/${ea}/deliveries/`, appA.basic);
  expect(log.status).toBe(200);
  const results = log.body.results as { delivery_id: string; event_type: string; attempt: number; status_code: number | null; error: string | null; attempted_at: string }[];
  expect(results.length).toBeGreaterThan(0);
  expect(results.length).toBeLessThanOrEqual(100);
  expect(results.some((d) => d.status_code === 500)).toBe(true);
  expect(results.some((d) => d.status_code === 200 && d.error === null)).toBe(true);
  const times = results.map((d) => Date.parse(d.attempted_at));
  expect(times).toEqual([...times].sort((a, b) => b - a));

  const attemptsAtA = requests.length;
  console.log(
    `webhooks: ${MESSAGES} sends in ${((sentAt - started) / 1000).toFixed(1)} s; all delivered ${((deliveredAt - started) / 1000).toFixed(1)} s after the first send ` +
      `(${((deliveredAt - sentAt) / 1000).toFixed(1)} s after the last); ${attemptsAtA} requests at A for ${byId.size} events (${requests.filter((r) => r.status === 500).length} answered 500)`,
  );
});

it("delivers a ping on POST /api/webhooks/{id}/test/ and logs it", async () => {
  receiver.failRate(0);
  const r = await client.json(`/api/webhooks/${ea}/test/`, { method: "POST", headers: { Authorization: appA.basic } });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const id = r.body.delivery_id as string;
  const ping = await until("the ping at A", () => at("/a").find((q) => q.body?.id === id));
  expect(ping.verified).toBe(true);
  expect(ping.headers["hey-webhook-id"]).toBe(id);
  expect(ping.body).toMatchObject({ id, type: "ping", conversation_id: null, seq: null, data: {} });
  const logged = await until("the ping in the attempts log", async () => {
    const log = await basicGet(`/api/webhooks/${ea}/deliveries/`, appA.basic);
    return log.body?.results?.find((d: { delivery_id: string }) => d.delivery_id === id);
  });
  expect(logged).toMatchObject({ event_type: "ping", attempt: 1, status_code: 200, error: null });
});
