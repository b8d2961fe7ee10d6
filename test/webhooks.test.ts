// Webhooks (issue 15): endpoints owned by OAuth clients, registered with the client's own credentials or by
// staff, and deliveries through the queue to a loopback receiver (test/support/receiver-setup.ts), signed
// with the endpoint's secret, retried with the same id, logged.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { components } from "../src/client/api-types";
import { createGrant, revokeGrant } from "../src/auth/oauth/grants";
import type { Scope } from "../src/auth/scopes";
import { database } from "../src/db/client";
import { consumeDeliveries } from "../src/deliveries/consumer";
import type { Job, WebhookJob } from "../src/deliveries/jobs";
import { webhookEvent } from "../src/webhooks/events";
import { json, send, start } from "./support/conversations";
import { api, appWith, problemOf, signUp } from "./support/http";
import { authorizationCode, login, registerClient } from "./support/oauth";
import { addTo, edit, removeFrom, rename, sleep, unsend } from "./support/streams";
import { answerWith, bodyOf, received, receiverPath, signatureParts, signedWith, waitFor, waitForEvent, waitForMany } from "./support/receiver";
import { streamMember } from "./support/ws";

// Deliveries go through the queue (a batch waits up to a second) and, when they fail, are retried a second or
// two later (WEBHOOK_RETRY_BASE_SECONDS in vitest.config.ts); a busy machine makes that slower still.
vi.setConfig({ testTimeout: 60_000 });

type Webhook = components["schemas"]["Webhook"] & { secret?: string };
type Attempt = components["schemas"]["WebhookDeliveryAttempt"];
type Person = Awaited<ReturnType<typeof streamMember>>;

const ALL_EVENTS = ["message.created", "message.updated", "message.deleted", "conversation.added", "conversation.updated", "conversation.deleted", "participant.added", "participant.removed"];

/** A confidential OAuth client (an integration) with its HTTP Basic header. */
async function integration(name = "Integration") {
  const client = await registerClient({ confidential: true, name });
  return { clientId: client.clientId, secret: client.secret!, basic: `Basic ${btoa(`${client.clientId}:${client.secret}`)}` };
}
type Integration = Awaited<ReturnType<typeof integration>>;

/** A staff user's token, which carries the admin scope. */
const staff = () => streamMember({ staff: true });

/** Calls a webhook route as a client (HTTP Basic) or with a bearer token. */
function hooks(who: Integration | { token: string } | null, path: string, init: { method?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = who && "basic" in who ? { Authorization: who.basic } : {};
  return api(path, { ...init, headers, ...(who && "token" in who ? { token: who.token } : {}) });
}

/** Registers an endpoint on a fresh receiver path; expects 201. */
async function register(who: Integration | { token: string }, body: Record<string, unknown> = {}) {
  const { path, url } = receiverPath("hooks");
  const res = await hooks(who, "/api/webhooks/", { method: "POST", json: { url, events: ALL_EVENTS, ...body } });
  expect(res.status, await res.clone().text()).toBe(201);
  const webhook = await json<Webhook & { secret: string }>(res);
  return { ...webhook, path, receiverUrl: url };
}

/** `user` approves `client` for `scopes` (a grant, as consent makes it). */
const grant = (client: { clientId: string }, user: { id: number }, scopes: Scope[] = ["read:messages"]) => createGrant(database(env.DB), user.id, client.clientId, scopes);

/** Two people in a conversation, the first of whom granted `client` read:messages. */
async function grantedConversation(client: Integration): Promise<{ a: Person; b: Person; conversationId: number }> {
  const [a, b] = await Promise.all([streamMember(), streamMember()]);
  await grant(client, a.user);
  const conversation = await start(a, [b.user.id]);
  return { a, b, conversationId: conversation.id };
}

describe("registering an endpoint", () => {
  it("a confidential client registers its own with HTTP Basic; the secret is in that answer only", async () => {
    const client = await integration();
    const { url } = receiverPath("hooks");
    const res = await hooks(client, "/api/webhooks/", { method: "POST", json: { url, events: ["message.created", "message.deleted"] } });
    expect(res.status).toBe(201);
    const created = await json<Webhook>(res);
    expect(created).toEqual({
      id: expect.stringMatching(/^wh_/),
      client_id: client.clientId,
      url,
      events: ["message.created", "message.deleted"],
      conversations: null,
      enabled: true,
      disabled_reason: null,
      failing_since: null,
      previous_secret_expires_at: null,
      created_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_./),
    });

    const shown = await hooks(client, `/api/webhooks/${created.id}/`);
    expect(shown.status).toBe(200);
    const { secret: _secret, ...withoutSecret } = created;
    expect(await shown.json()).toEqual(withoutSecret);
    const list = await hooks(client, "/api/webhooks/");
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ count: 1, next: null, previous: null, results: [withoutSecret] });
    // The path without its trailing slash is served too.
    expect((await hooks(client, `/api/webhooks/${created.id}`)).status).toBe(200);
  });

  it("staff register one for the client named in client_id, and list every client's or one client's", async () => {
    const admin = await staff();
    const [one, two] = await Promise.all([integration("One"), integration("Two")]);
    const first = await register(admin, { client_id: one.clientId, events: ["message.created"] });
    const second = await register(admin, { client_id: two.clientId, events: ["message.created"] });
    expect(first).toMatchObject({ client_id: one.clientId, secret: expect.stringMatching(/^whsec_/) });
    expect(second.client_id).toBe(two.clientId);

    const all = await json<{ results: Webhook[] }>(await hooks(admin, "/api/webhooks/?page_size=100"));
    expect(all.results.map((w) => w.id)).toEqual(expect.arrayContaining([first.id, second.id]));
    const filtered = await json<{ count: number; results: Webhook[] }>(await hooks(admin, `/api/webhooks/?client_id=${one.clientId}`));
    expect(filtered.results.map((w) => w.id)).toEqual([first.id]);
    // The client sees its own, registered by staff, and not the other's.
    const own = await json<{ results: Webhook[] }>(await hooks(one, "/api/webhooks/"));
    expect(own.results.map((w) => w.id)).toEqual([first.id]);
  });

  it("staff must name the owning client, and one that exists", async () => {
    const admin = await staff();
    const { url } = receiverPath("hooks");
    const unnamed = await hooks(admin, "/api/webhooks/", { method: "POST", json: { url, events: ["message.created"] } });
    expect(unnamed.status).toBe(400);
    expect((await problemOf(unnamed)).body.detail).toMatch(/client_id/);
    const unknown = await hooks(admin, "/api/webhooks/", { method: "POST", json: { url, events: ["message.created"], client_id: "no-such-client" } });
    expect(unknown.status).toBe(400);
    expect((await problemOf(unknown)).body.detail).toBe("No OAuth client has this client_id.");
  });

  it("answers 401 without credentials, with a wrong secret, and to a public client; 403 to a user's token without admin", async () => {
    const client = await integration();
    const { url } = receiverPath("hooks");
    const body = { url, events: ["message.created"] };
    const post = (headers: Record<string, string>) => api("/api/webhooks/", { method: "POST", headers, json: body });

    const none = await post({});
    expect(none.status).toBe(401);
    expect((await problemOf(none)).contentType).toBe("application/problem+json");
    expect((await post({ Authorization: `Basic ${btoa(`${client.clientId}:wrong-secret`)}` })).status).toBe(401);
    expect((await post({ Authorization: `Basic ${btoa(`no-such-client:${client.secret}`)}` })).status).toBe(401);
    const publicClient = await registerClient({ confidential: false });
    const asPublic = await post({ Authorization: `Basic ${btoa(`${publicClient.clientId}:`)}` });
    expect(asPublic.status).toBe(401);
    expect(asPublic.headers.get("WWW-Authenticate")).toContain("Basic");
    expect((await hooks(client, "/api/webhooks/")).status).toBe(200);

    const user = await streamMember();
    expect((await hooks(user, "/api/webhooks/", { method: "POST", json: body })).status).toBe(403);
    expect((await hooks(user, "/api/webhooks/")).status).toBe(403);
    // Nothing was registered by any of them.
    expect(await json(await hooks(client, "/api/webhooks/"))).toMatchObject({ count: 0 });
  });

  it("answers 403 when a client names another client's client_id, and takes its own", async () => {
    const [client, other] = await Promise.all([integration(), integration()]);
    const { url } = receiverPath("hooks");
    const res = await hooks(client, "/api/webhooks/", { method: "POST", json: { url, events: ["message.created"], client_id: other.clientId } });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).body.detail).toMatch(/only for itself/);
    const own = await hooks(client, "/api/webhooks/", { method: "POST", json: { url, events: ["message.created"], client_id: client.clientId } });
    expect(own.status).toBe(201);
  });

  it.each([
    ["an http URL on a public host", "http://example.com/hooks/hey", /must be https/],
    ["a private address", "https://10.1.2.3/hooks/hey", /must be on a public host/],
    ["a 192.168 address", "https://192.168.0.10/hooks", /must be on a public host/],
    ["a link-local address", "https://169.254.169.254/latest/meta-data", /must be on a public host/],
    ["a name inside a network", "https://intranet/hooks", /must be on a public host/],
    ["a URL with a password", "https://user:pass@example.com/hooks", /must not carry a user name or password/],
    ["no URL at all", "not a url", /must be an absolute URL/],
  ])("answers 400 with a sentence for %s", async (_, url, sentence) => {
    const client = await integration();
    const res = await hooks(client, "/api/webhooks/", { method: "POST", json: { url, events: ["message.created"] } });
    expect(res.status).toBe(400);
    const { body } = await problemOf(res);
    expect(body.detail).toMatch(sentence);
    expect(body.detail).toMatch(/\.$/);
    expect(body.errors).toEqual([{ path: "url", message: expect.stringMatching(sentence) }]);
  });

  it.each([
    ["an unknown event", { events: ["message.sent"] }, "events.0"],
    ["no events", { events: [] }, "events"],
    ["an event twice", { events: ["message.created", "message.created"] }, "events"],
    ["an empty conversations list", { events: ["message.created"], conversations: [] }, "conversations"],
    ["an unknown field", { events: ["message.created"], secret: "mine" }, "secret"],
  ])("answers 400 naming the field for %s", async (_, body, field) => {
    const client = await integration();
    const res = await hooks(client, "/api/webhooks/", { method: "POST", json: { url: receiverPath("hooks").url, ...body } });
    expect(res.status).toBe(400);
    const problem = (await problemOf(res)).body;
    expect(problem.detail.length).toBeGreaterThan(10);
    expect(problem.errors?.map((e) => e.path)).toContain(field);
  });

  it("once deployed (an https APP_ORIGIN), refuses loopback URLs, which are allowed only locally", async () => {
    const client = await integration();
    const deployed = appWith({ APP_ORIGIN: "https://hey.example.com" });
    const post = (url: string) =>
      deployed("/api/webhooks/", { method: "POST", headers: { Authorization: client.basic, "Content-Type": "application/json" }, body: JSON.stringify({ url, events: ["message.created"] }) });
    const { url } = receiverPath("hooks");
    const http = await post(url);
    expect(http.status).toBe(400);
    expect((await problemOf(http)).body.detail).toBe("The webhook URL must be https.");
    const https = await post(url.replace("http:", "https:"));
    expect(https.status).toBe(400);
    expect((await problemOf(https)).body.detail).toBe("The webhook URL must be on a public host, not a private, loopback or link-local address.");
    expect((await post("https://hooks.example.com/hey")).status).toBe(201);
    // Locally (this suite's APP_ORIGIN is loopback http) the same loopback URL is fine.
    expect((await hooks(client, "/api/webhooks/", { method: "POST", json: { url, events: ["message.created"] } })).status).toBe(201);
  });

  it("refuses a changed URL that it would refuse at registration", async () => {
    const client = await integration();
    const webhook = await register(client);
    const res = await hooks(client, `/api/webhooks/${webhook.id}/`, { method: "PATCH", json: { url: "http://example.com/x" } });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).body.detail).toMatch(/must be https/);
    expect(await json(await hooks(client, `/api/webhooks/${webhook.id}/`))).toMatchObject({ url: webhook.receiverUrl });
  });
});

describe("deliveries", () => {
  it("a message where a member granted the client read:messages arrives signed, with the message and its seq", async () => {
    const client = await integration();
    // Through the real pages: the member consents to the integration reading their messages.
    const sender = await login({ user: await signUp({ first_name: "Ann", last_name: "Lee" }) });
    const consent = await authorizationCode(client, sender.user, { scope: "read:messages" });
    expect(consent.code).toBeTruthy();
    const other = await streamMember();
    const conversation = await start(sender, [other.user.id]);
    const webhook = await register(client, { events: ["message.created"] });

    const message = await send(sender, conversation.id, "hello, integration");
    const before = Math.floor(Date.now() / 1000);
    const { request, body } = await waitForEvent(webhook.path, "message.created");

    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(body).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: "message.created",
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      conversation_id: conversation.id,
      seq: message.seq,
      data: { message: expect.objectContaining({ id: message.id, seq: message.seq, message_body: "hello, integration", sender: expect.objectContaining({ id: sender.user.id }) }) },
    });
    expect(request.headers["hey-webhook-id"]).toBe(body.id);
    expect(request.headers["hey-attempt"]).toBe("1");
    const { t, v1 } = signatureParts(request.headers["hey-signature"]);
    expect(v1).toHaveLength(1);
    expect(Math.abs(t - before)).toBeLessThan(300);
    expect(await signedWith(request, webhook.secret)).toBe(true);
    // The check can fail: another secret, or the body changed by one byte, does not verify.
    expect(await signedWith(request, `${webhook.secret}x`)).toBe(false);
    expect(await signedWith({ ...request, bytes: new TextEncoder().encode(request.text.replace("integration", "integratioN")) }, webhook.secret)).toBe(false);
    // Exactly one delivery of the one message.
    await sleep(500);
    expect(await received(webhook.path)).toHaveLength(1);
  });

  it("an endpoint of a client nobody in the conversation granted gets nothing, while a granted one gets the event", async () => {
    const [granted, stranger] = await Promise.all([integration("Granted"), integration("Stranger")]);
    const { a, b, conversationId } = await grantedConversation(granted);
    // Someone outside the conversation granted the stranger: that covers none of this conversation.
    const outsider = await streamMember();
    await grant(stranger, outsider.user);
    await start(outsider, []);
    const [heard, unheard] = await Promise.all([register(granted, { events: ["message.created"] }), register(stranger, { events: ["message.created"] })]);

    await send(a, conversationId, "first");
    // The member who granted need not be the sender.
    await send(b, conversationId, "second");
    await waitForMany(heard.path, 2);
    await sleep(500);
    expect(await received(unheard.path)).toEqual([]);
  });

  it("a grant without read:messages delivers nothing", async () => {
    const [reader, profileOnly] = await Promise.all([integration("Reader"), integration("Profile only")]);
    const { a, conversationId } = await grantedConversation(reader);
    await grant(profileOnly, a.user, ["profile", "send:messages"]);
    const [heard, unheard] = await Promise.all([register(reader, { events: ["message.created"] }), register(profileOnly, { events: ["message.created"] })]);

    await send(a, conversationId, "not for profile-only apps");
    await waitFor(heard.path);
    await sleep(500);
    expect(await received(unheard.path)).toEqual([]);
  });

  it("delivers nothing once the member's grant is revoked", async () => {
    const client = await integration();
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const grantId = await grant(client, a.user);
    const watched = await start(a, [b.user.id]);
    // A second conversation where another member's grant stays: the proof that events still flow.
    const c = await streamMember();
    await grant(client, c.user);
    const control = await start(c, [b.user.id]);
    const webhook = await register(client, { events: ["message.created"] });

    await send(a, watched.id, "while granted");
    await waitForEvent(webhook.path, "message.created", (e) => e.conversation_id === watched.id);
    await revokeGrant(database(env.DB), grantId);
    await send(a, watched.id, "after the revocation");
    await send(c, control.id, "control");
    await waitForEvent(webhook.path, "message.created", (e) => e.conversation_id === control.id);
    await sleep(500);
    const bodies = (await received(webhook.path)).map((r) => bodyOf(r).data.message.message_body);
    expect(bodies.sort()).toEqual(["control", "while granted"]);
  });

  it("stops once the member who granted the client leaves the conversation", async () => {
    const client = await integration();
    const [a, b, c] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    await grant(client, a.user);
    const left = await start(b, [a.user.id, c.user.id]);
    const stayed = await start(a, [c.user.id]);
    const webhook = await register(client, { events: ["message.created", "participant.removed"] });

    expect((await removeFrom(a, left.id, a.user.id)).status).toBe(204);
    // Their own leaving is still told (they were a member when it happened).
    const removed = await waitForEvent(webhook.path, "participant.removed");
    expect(removed.body).toMatchObject({ conversation_id: left.id, data: { user: a.user.id } });
    await send(b, left.id, "after a left");
    await send(c, stayed.id, "where a still is");
    await waitForEvent(webhook.path, "message.created", (e) => e.conversation_id === stayed.id);
    await sleep(500);
    expect((await received(webhook.path)).map((r) => [bodyOf(r).type, bodyOf(r).conversation_id])).toEqual([
      ["participant.removed", left.id],
      ["message.created", stayed.id],
    ]);
  });

  it("an endpoint listing conversations gets only theirs", async () => {
    const client = await integration();
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    await grant(client, a.user);
    const [listed, other] = [await start(a, [b.user.id]), await start(a, [b.user.id], { title: "Other" })];
    const [only, every] = await Promise.all([
      register(client, { events: ["message.created"], conversations: [listed.id] }),
      register(client, { events: ["message.created"] }),
    ]);
    expect(only.conversations).toEqual([listed.id]);

    await send(a, other.id, "elsewhere");
    await send(a, listed.id, "here");
    await waitForMany(every.path, 2);
    await waitFor(only.path);
    await sleep(500);
    expect((await received(only.path)).map((r) => bodyOf(r).conversation_id)).toEqual([listed.id]);
  });

  it("delivers edits, deletions, renames and membership changes as their events", async () => {
    const client = await integration();
    const { a, conversationId } = await grantedConversation(client);
    const webhook = await register(client);
    const joiner = await streamMember();

    const message = await send(a, conversationId, "draft");
    await waitForEvent(webhook.path, "message.created");
    expect((await edit(a, conversationId, message.id, "final")).status).toBe(200);
    const updated = await waitForEvent(webhook.path, "message.updated");
    expect(updated.body).toMatchObject({ conversation_id: conversationId, seq: message.seq, data: { message: { id: message.id, message_body: "final", edited_at: expect.any(String) } } });

    expect((await rename(a, conversationId, "Renamed")).status).toBe(200);
    const renamed = await waitForEvent(webhook.path, "conversation.updated");
    expect(renamed.body).toMatchObject({ conversation_id: conversationId, seq: message.seq, data: { conversation: { id: conversationId, title: "Renamed" } } });

    expect((await addTo(a, conversationId, joiner.user.id)).status).toBe(201);
    const added = await waitForEvent(webhook.path, "participant.added");
    expect(added.body).toMatchObject({ conversation_id: conversationId, seq: message.seq, data: { user: joiner.user.id } });

    expect((await removeFrom(a, conversationId, joiner.user.id)).status).toBe(204);
    const removed = await waitForEvent(webhook.path, "participant.removed");
    expect(removed.body).toMatchObject({ conversation_id: conversationId, data: { user: joiner.user.id } });

    expect((await unsend(a, conversationId, message.id)).status).toBe(204);
    const deleted = await waitForEvent(webhook.path, "message.deleted");
    expect(deleted.body).toMatchObject({ conversation_id: conversationId, seq: message.seq, data: { message: { id: message.id, deleted: true } } });

    // Each event once, each with its own id.
    const all = (await received(webhook.path)).map(bodyOf);
    expect(all.map((e) => e.type).sort()).toEqual(["conversation.updated", "message.created", "message.deleted", "message.updated", "participant.added", "participant.removed"]);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });

  it("delivers conversation.added when a member who granted the client starts one, and conversation.deleted when it goes", async () => {
    const client = await integration();
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    await grant(client, a.user);
    const webhook = await register(client, { events: ["conversation.added", "conversation.deleted"] });

    const conversation = await start(a, [b.user.id], { title: "Launch" });
    const added = await waitForEvent(webhook.path, "conversation.added");
    expect(added.body).toMatchObject({ conversation_id: conversation.id, seq: 0, data: { conversation: { id: conversation.id, title: "Launch", participants: expect.any(Array) } } });
    await send(a, conversation.id, "one");

    expect((await api(`/api/conversations/${conversation.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    const deleted = await waitForEvent(webhook.path, "conversation.deleted");
    expect(deleted.body).toMatchObject({ conversation_id: conversation.id, seq: 1, data: {} });
    // message.created is not among its events.
    expect((await received(webhook.path)).map((r) => bodyOf(r).type)).toEqual(["conversation.added", "conversation.deleted"]);
  });

  it("retries a failing endpoint with the same id and the next attempt number, and logs every attempt newest first", async () => {
    const client = await integration();
    const { a, conversationId } = await grantedConversation(client);
    const webhook = await register(client, { events: ["message.created"] });
    await answerWith(webhook.path, [500, 302]);

    await send(a, conversationId, "try, try again");
    const attempts = await waitForMany(webhook.path, 3);
    const ids = attempts.map((r) => r.headers["hey-webhook-id"]);
    expect(new Set(ids).size).toBe(1);
    expect(attempts.map((r) => bodyOf(r).id)).toEqual(ids);
    expect(attempts.map((r) => r.headers["hey-attempt"])).toEqual(["1", "2", "3"]);
    // The same body every time, each attempt signed afresh.
    expect(new Set(attempts.map((r) => r.text)).size).toBe(1);
    for (const r of attempts) expect(await signedWith(r, webhook.secret)).toBe(true);

    // The log is written after each answer: wait for the third.
    let log: Attempt[] = [];
    for (let i = 0; i < 50 && log.length < 3; i++) {
      log = (await json<{ results: Attempt[] }>(await hooks(client, `/api/webhooks/${webhook.id}/deliveries/`))).results;
      if (log.length < 3) await sleep(100);
    }
    expect(log.map((l) => [l.attempt, l.status_code])).toEqual([
      [3, 200],
      [2, 302],
      [1, 500],
    ]);
    expect(log.every((l) => l.delivery_id === ids[0] && l.event_type === "message.created")).toBe(true);
    expect(log[0]!.error).toBeNull();
    expect(log[1]!.error).toMatch(/redirect/i);
    expect(log[2]!.error).toMatch(/500/);
    expect(Date.parse(log[0]!.attempted_at)).toBeGreaterThanOrEqual(Date.parse(log[1]!.attempted_at));
    // A success clears the failure record.
    expect(await json(await hooks(client, `/api/webhooks/${webhook.id}/`))).toMatchObject({ enabled: true, failing_since: null });
  });

  it("a test ping is delivered signed, with no conversation", async () => {
    const client = await integration();
    const webhook = await register(client, { events: ["message.created"] });
    const res = await hooks(client, `/api/webhooks/${webhook.id}/test/`, { method: "POST" });
    expect(res.status).toBe(202);
    const { delivery_id } = await json<{ delivery_id: string }>(res);
    expect(delivery_id).toMatch(/^evt_/);

    const { request, body } = await waitForEvent(webhook.path, "ping");
    expect(body).toEqual({ id: delivery_id, type: "ping", created_at: expect.any(String), conversation_id: null, seq: null, data: {} });
    expect(request.headers["hey-webhook-id"]).toBe(delivery_id);
    expect(await signedWith(request, webhook.secret)).toBe(true);
  });

  it("after a rotation both secrets sign during the overlap; with no overlap only the new one", async () => {
    const client = await integration();
    const webhook = await register(client, { events: ["message.created"] });
    const ping = async () => {
      const { delivery_id } = await json<{ delivery_id: string }>(await hooks(client, `/api/webhooks/${webhook.id}/test/`, { method: "POST" }));
      return (await waitForEvent(webhook.path, "ping", (b) => b.id === delivery_id)).request;
    };

    const rotated = await hooks(client, `/api/webhooks/${webhook.id}/rotate/`, { method: "POST", json: { overlap_seconds: 3600 } });
    expect(rotated.status).toBe(200);
    const second = await json<Webhook & { secret: string }>(rotated);
    expect(second.secret).toMatch(/^whsec_/);
    expect(second.secret).not.toBe(webhook.secret);
    expect(Math.abs(Date.parse(second.previous_secret_expires_at!) - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    const during = await ping();
    expect(signatureParts(during.headers["hey-signature"]).v1).toHaveLength(2);
    expect(await signedWith(during, second.secret)).toBe(true);
    expect(await signedWith(during, webhook.secret)).toBe(true);
    // The secret is still shown nowhere else.
    expect(await json(await hooks(client, `/api/webhooks/${webhook.id}/`))).not.toHaveProperty("secret");

    const third = await json<Webhook & { secret: string }>(await hooks(client, `/api/webhooks/${webhook.id}/rotate/`, { method: "POST", json: { overlap_seconds: 0 } }));
    expect(third.previous_secret_expires_at).toBeNull();
    const after = await ping();
    expect(signatureParts(after.headers["hey-signature"]).v1).toHaveLength(1);
    expect(await signedWith(after, third.secret)).toBe(true);
    expect(await signedWith(after, second.secret)).toBe(false);
    expect(await signedWith(after, webhook.secret)).toBe(false);
  });

  it("a rotation without a body keeps the old secret for a day; a longer overlap than a week is refused", async () => {
    const client = await integration();
    const webhook = await register(client, { events: ["message.created"] });
    const res = await hooks(client, `/api/webhooks/${webhook.id}/rotate/`, { method: "POST" });
    expect(res.status).toBe(200);
    const rotated = await json<Webhook & { secret: string }>(res);
    expect(rotated.secret).not.toBe(webhook.secret);
    expect(Math.abs(Date.parse(rotated.previous_secret_expires_at!) - (Date.now() + 86_400_000))).toBeLessThan(60_000);
    const tooLong = await hooks(client, `/api/webhooks/${webhook.id}/rotate/`, { method: "POST", json: { overlap_seconds: 604_801 } });
    expect(tooLong.status).toBe(400);
  });

  it("a paused endpoint gets nothing; enabled again, it does", async () => {
    const client = await integration();
    const { a, conversationId } = await grantedConversation(client);
    const [paused, control] = await Promise.all([register(client, { events: ["message.created"] }), register(client, { events: ["message.created"] })]);

    const off = await hooks(client, `/api/webhooks/${paused.id}/`, { method: "PATCH", json: { enabled: false } });
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ enabled: false, disabled_reason: expect.stringMatching(/paused/i) });
    await send(a, conversationId, "while paused");
    await waitForEvent(control.path, "message.created", (b) => b.data.message.message_body === "while paused");

    const on = await hooks(client, `/api/webhooks/${paused.id}/`, { method: "PATCH", json: { enabled: true } });
    expect(await on.json()).toMatchObject({ enabled: true, disabled_reason: null });
    await send(a, conversationId, "resumed");
    await waitForEvent(paused.path, "message.created", (b) => b.data.message.message_body === "resumed");
    await sleep(500);
    expect((await received(paused.path)).map((r) => bodyOf(r).data.message.message_body)).toEqual(["resumed"]);
  });

  it("a PATCH changes the events delivered", async () => {
    const client = await integration();
    const { a, conversationId } = await grantedConversation(client);
    const webhook = await register(client, { events: ["message.created"] });
    const changed = await hooks(client, `/api/webhooks/${webhook.id}/`, { method: "PATCH", json: { events: ["message.updated"] } });
    expect(await changed.json()).toMatchObject({ events: ["message.updated"] });

    const message = await send(a, conversationId, "v1");
    await edit(a, conversationId, message.id, "v2");
    await waitForEvent(webhook.path, "message.updated");
    await sleep(500);
    expect((await received(webhook.path)).map((r) => bodyOf(r).type)).toEqual(["message.updated"]);
  });

  it("a deleted endpoint is gone: 404 afterwards", async () => {
    const client = await integration();
    const webhook = await register(client);
    const res = await hooks(client, `/api/webhooks/${webhook.id}/`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect((await hooks(client, `/api/webhooks/${webhook.id}/`)).status).toBe(404);
    expect((await hooks(client, `/api/webhooks/${webhook.id}/`, { method: "DELETE" })).status).toBe(404);
    expect((await hooks(client, `/api/webhooks/${webhook.id}/test/`, { method: "POST" })).status).toBe(404);
    expect(await json(await hooks(client, "/api/webhooks/"))).toMatchObject({ count: 0, results: [] });
  });

  it("another client can neither see nor touch an endpoint (404), while staff can", async () => {
    const [owner, other] = await Promise.all([integration(), integration()]);
    const webhook = await register(owner);
    const base = `/api/webhooks/${webhook.id}/`;
    for (const [method, path, body] of [
      ["GET", base, undefined],
      ["PATCH", base, { enabled: false }],
      ["DELETE", base, undefined],
      ["POST", `${base}rotate/`, { overlap_seconds: 0 }],
      ["POST", `${base}test/`, undefined],
      ["GET", `${base}deliveries/`, undefined],
    ] as const) {
      const res = await hooks(other, path, { method, json: body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect(await json(await hooks(other, "/api/webhooks/"))).toMatchObject({ count: 0 });
    // Untouched: still enabled, its secret still the one that signs.
    const ping = await hooks(owner, `${base}test/`, { method: "POST" });
    expect(ping.status).toBe(202);
    const { request } = await waitForEvent(webhook.path, "ping");
    expect(await signedWith(request, webhook.secret)).toBe(true);
    expect((await hooks(await staff(), base)).status).toBe(200);
  });
});

describe("giving up", () => {
  /** One queue message as the runtime hands it to the consumer, recording what the consumer decided. */
  function batchOf(queue: string, job: Job, attempts: number) {
    const decided: { acked: boolean; retryDelay?: number } = { acked: false };
    const message = { id: crypto.randomUUID(), timestamp: new Date(), body: job, attempts, ack: () => (decided.acked = true), retry: (o?: { delaySeconds?: number }) => (decided.retryDelay = o?.delaySeconds ?? 0) };
    return { batch: { queue, messages: [message], ackAll() {}, retryAll() {} } as unknown as MessageBatch<Job>, decided };
  }

  // The retry window is a day by default; here the consumer runs with a 3-second one (and the suite's 1–2 s
  // delays), called directly with the queue's messages, so a job gives up within seconds.
  it("a job failing for the whole window goes to the dead-letter queue, is logged, and disables its endpoint", async () => {
    const client = await integration();
    const webhook = await register(client, { events: ["message.created"] });
    await answerWith(webhook.path, Array.from({ length: 20 }, () => 500));
    const dead: Job[] = [];
    const compressed = { ...env, WEBHOOK_RETRY_WINDOW_SECONDS: "3", DEAD_DELIVERIES: { send: async (job: Job) => void dead.push(job) } } as unknown as Cloudflare.Env;
    const job: WebhookJob = { kind: "webhook", endpoint: webhook.id, event: webhookEvent("ping", null, null, {}), first_at: Date.now() };

    let attempts = 0;
    while (!dead.length && attempts < 20) {
      attempts += 1;
      const { batch, decided } = batchOf("hey-deliveries", job, attempts);
      await consumeDeliveries(batch, compressed);
      if (decided.retryDelay !== undefined) await sleep(decided.retryDelay * 1000);
      else expect(decided.acked).toBe(true);
    }
    expect(dead).toEqual([job]);
    expect(await received(webhook.path)).toHaveLength(attempts);

    const { batch, decided } = batchOf("hey-deliveries-dead", job, attempts);
    await consumeDeliveries(batch, compressed);
    expect(decided.acked).toBe(true);
    const log = (await json<{ results: Attempt[] }>(await hooks(client, `/api/webhooks/${webhook.id}/deliveries/`))).results;
    expect(log[0]).toMatchObject({ delivery_id: job.event.id, status_code: null, error: expect.stringMatching(/^Given up after \d+ attempts/) });
    expect(log.filter((l) => l.status_code === 500)).toHaveLength(attempts);
    expect(await json(await hooks(client, `/api/webhooks/${webhook.id}/`))).toMatchObject({
      enabled: false,
      disabled_reason: expect.stringMatching(/^Every delivery failed for 3 s; the last: /),
      failing_since: expect.any(String),
    });
  });

  it("a disabled endpoint is turned back on with enabled: true, its failure record cleared", async () => {
    const client = await integration();
    const webhook = await register(client, { events: ["message.created"] });
    // Failing for longer than the window: the next failure disables it (as after a day of failures).
    await answerWith(webhook.path, [500]);
    const compressed = { ...env, WEBHOOK_RETRY_WINDOW_SECONDS: "1", DEAD_DELIVERIES: { send: async () => undefined } } as unknown as Cloudflare.Env;
    const job: WebhookJob = { kind: "webhook", endpoint: webhook.id, event: webhookEvent("ping", null, null, {}), first_at: Date.now() };
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?").bind(Date.now() - 5_000, webhook.id).run();
    await consumeDeliveries(batchOf("hey-deliveries", job, 1).batch, compressed);
    const disabled = await json<Webhook>(await hooks(client, `/api/webhooks/${webhook.id}/`));
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: "Every delivery failed for 1 s; the last: HTTP 500." });

    const on = await json<Webhook>(await hooks(client, `/api/webhooks/${webhook.id}/`, { method: "PATCH", json: { enabled: true } }));
    expect(on).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    const ping = await json<{ delivery_id: string }>(await hooks(client, `/api/webhooks/${webhook.id}/test/`, { method: "POST" }));
    await waitForEvent(webhook.path, "ping", (b) => b.id === ping.delivery_id);
  });
});
