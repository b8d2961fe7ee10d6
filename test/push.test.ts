// Web Push (issue 15): browsers' subscriptions, and notifications for members with nothing open, sent through
// the queue to a loopback stand-in for the push service (test/support/receiver-setup.ts). The test plays the
// browser: it makes the subscription's keys, decrypts the aes128gcm body (RFC 8291) and checks the VAPID
// signature (RFC 8292) with WebCrypto.
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from "@oslojs/encoding";
import { describe, expect, it, vi } from "vitest";
import { concat } from "./support/files";
import { json, send, start } from "./support/conversations";
import { api, appWith, problemOf } from "./support/http";
import { answerWith, received, receiverPath, waitFor, waitForMany, type Received } from "./support/receiver";
import { sleep } from "./support/streams";
import { connectStreamReady, endStreams, offlineInD1, openReady, streamMember } from "./support/ws";

// Deliveries go through the queue, which waits up to a second for a batch; a busy machine makes that slower.
vi.setConfig({ testTimeout: 60_000 });

type Person = Awaited<ReturnType<typeof streamMember>>;
type Subscription = { id: string; endpoint: string; created_at: string };
type Notification = { title: string; body: string; tag: string; conversation_id: number; seq: number; url: string };

const encoder = new TextEncoder();
const b64url = encodeBase64urlNoPadding;
const fromB64url = decodeBase64urlIgnorePadding;
const nameOf = (p: Person) => `${p.user.first_name} ${p.user.last_name}`;

/** A browser's push subscription: its own ECDH P-256 key pair and auth secret, and a push service path of its own. */
async function browser() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const publicKey = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const auth = crypto.getRandomValues(new Uint8Array(16));
  const { path, url } = receiverPath("push");
  return { path, endpoint: url, privateKey: pair.privateKey, publicKey, auth, toJSON: { endpoint: url, expirationTime: null, keys: { p256dh: b64url(publicKey), auth: b64url(auth) } } };
}
type Browser = Awaited<ReturnType<typeof browser>>;

const subscribeRequest = (who: { token: string }, body: unknown) => api("/api/push/subscriptions/", { method: "POST", token: who.token, json: body });

/** `who` turns notifications on in a new browser; expects 201. */
async function subscribed(who: { token: string }): Promise<Browser & { id: string }> {
  const b = await browser();
  const res = await subscribeRequest(who, b.toJSON);
  expect(res.status, await res.clone().text()).toBe(201);
  return { ...b, id: (await json<Subscription>(res)).id };
}

const subscriptionsOf = async (who: { token: string }) => {
  const res = await api("/api/push/subscriptions/", { token: who.token });
  expect(res.status).toBe(200);
  return (await json<{ results: Subscription[] }>(res)).results;
};

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, bytes * 8));
}

/**
 * What the browser reads of a push (RFC 8291 / RFC 8188 aes128gcm): the header (salt, record size, the
 * server's ephemeral key), the keys from ECDH with the subscription's private key and its auth secret, then
 * one record, decrypted and stripped of its 0x02 delimiter and zero padding.
 */
async function decrypt(b: Browser, request: Received): Promise<Notification> {
  const body = request.bytes;
  const salt = body.slice(0, 16);
  const recordSize = new DataView(body.buffer, body.byteOffset + 16, 4).getUint32(0);
  const keyLength = body[20]!;
  const serverKey = body.slice(21, 21 + keyLength);
  const ciphertext = body.slice(21 + keyLength);
  expect(keyLength).toBe(65);
  expect(ciphertext.length).toBeLessThanOrEqual(recordSize);

  const serverPublic = await crypto.subtle.importKey("raw", serverKey, { name: "ECDH", namedCurve: "P-256" }, false, []);
  // workerd reads `public`, as WebCrypto names it; its types spell the field `$public`.
  const ecdh = { name: "ECDH", public: serverPublic } as unknown as SubtleCryptoDeriveKeyAlgorithm;
  const shared = new Uint8Array(await crypto.subtle.deriveBits(ecdh, b.privateKey, 256));
  const ikm = await hkdf(b.auth, shared, concat(encoder.encode("WebPush: info\0"), b.publicKey, serverKey), 32);
  const cek = await hkdf(salt, ikm, encoder.encode("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, encoder.encode("Content-Encoding: nonce\0"), 12);
  const key = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
  const padded = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce }, key, ciphertext));
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  expect(padded[end], "the last record's 0x02 delimiter").toBe(2);
  return JSON.parse(new TextDecoder().decode(padded.slice(0, end))) as Notification;
}

/** The VAPID Authorization header (`vapid t=<JWT>, k=<key>`): its key, claims, and whether the JWT's ES256 signature verifies with k. */
async function vapidOf(request: Received, jwtOverride?: string) {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? "");
  expect(match, request.headers.authorization).not.toBeNull();
  const jwt = jwtOverride ?? match![1]!;
  const k = match![2]!;
  const [header, payload, signature] = jwt.split(".") as [string, string, string];
  const key = await crypto.subtle.importKey("raw", fromB64url(k), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const verifies = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, fromB64url(signature), encoder.encode(`${header}.${payload}`));
  const decode = (part: string) => JSON.parse(new TextDecoder().decode(fromB64url(part)));
  return { k, jwt, header: decode(header), claims: decode(payload) as { aud: string; exp: number; sub: string }, verifies };
}

/** Waits for `count` notifications at the browser's push service and decrypts them, oldest first. */
async function notifications(b: Browser, count = 1): Promise<Notification[]> {
  const requests = await waitForMany(b.path, count);
  return Promise.all(requests.map((r) => decrypt(b, r)));
}

const mute = (who: { token: string }, conversationId: number, until: string | null) =>
  api(`/api/conversations/${conversationId}/`, { method: "PATCH", token: who.token, json: { muted_until: until } });

const mutedUntilIn = async (who: { token: string }, conversationId: number) => {
  const chats = await json<{ results: { conversation: { id: number }; muted_until: string | null }[] }>(await api("/api/chats/?page_size=100", { token: who.token }));
  return chats.results.find((c) => c.conversation.id === conversationId)?.muted_until;
};

describe("the push key", () => {
  it("is the server's VAPID public key, an uncompressed P-256 point, given without a token", async () => {
    const res = await api("/api/push/key/");
    expect(res.status).toBe(200);
    const { public_key } = await json<{ public_key: string }>(res);
    expect(public_key).toMatch(/^[A-Za-z0-9_-]{87}$/);
    const bytes = fromB64url(public_key);
    expect(bytes).toHaveLength(65);
    expect(bytes[0]).toBe(4);
    await expect(crypto.subtle.importKey("raw", bytes, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])).resolves.toBeTruthy();
    expect((await api("/api/push/key")).status).toBe(200);
  });
});

describe("subscriptions", () => {
  it("are registered (201, then 200 with the same resource), listed and deleted", async () => {
    const me = await streamMember();
    const b = await browser();
    const first = await subscribeRequest(me, b.toJSON);
    expect(first.status).toBe(201);
    const created = await json<Subscription>(first);
    expect(created).toEqual({ id: expect.stringMatching(/^ps_/), endpoint: b.endpoint, created_at: expect.any(String) });
    const again = await subscribeRequest(me, b.toJSON);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(created);

    const other = await subscribed(me);
    expect((await subscriptionsOf(me)).map((s) => s.id).sort()).toEqual([created.id, other.id].sort());
    expect((await api(`/api/push/subscriptions/${created.id}/`, { method: "DELETE", token: me.token })).status).toBe(204);
    expect((await subscriptionsOf(me)).map((s) => s.id)).toEqual([other.id]);
    expect((await api(`/api/push/subscriptions/${created.id}/`, { method: "DELETE", token: me.token })).status).toBe(404);
  });

  it("belong to whoever registered the browser last: signed in as someone else, it is theirs", async () => {
    const [first, second] = await Promise.all([streamMember(), streamMember()]);
    const b = await browser();
    expect((await subscribeRequest(first, b.toJSON)).status).toBe(201);
    const taken = await subscribeRequest(second, b.toJSON);
    expect(taken.status).toBe(201);
    expect(await subscriptionsOf(first)).toEqual([]);
    expect((await subscriptionsOf(second)).map((s) => s.endpoint)).toEqual([b.endpoint]);
  });

  it("are the caller's own: someone else's is not listed and cannot be deleted (404)", async () => {
    const [owner, stranger] = await Promise.all([streamMember(), streamMember()]);
    const theirs = await subscribed(owner);
    expect(await subscriptionsOf(stranger)).toEqual([]);
    const res = await api(`/api/push/subscriptions/${theirs.id}/`, { method: "DELETE", token: stranger.token });
    expect(res.status).toBe(404);
    expect((await problemOf(res)).body.detail).toBe("No such push subscription.");
    expect((await subscriptionsOf(owner)).map((s) => s.id)).toEqual([theirs.id]);
  });

  it("take a loopback http endpoint only while Hey runs locally", async () => {
    const me = await streamMember();
    const b = await browser();
    const deployed = appWith({ APP_ORIGIN: "https://hey.example.com" });
    const res = await deployed("/api/push/subscriptions/", { method: "POST", headers: { Authorization: `Bearer ${me.token}`, "Content-Type": "application/json" }, body: JSON.stringify(b.toJSON) });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).body.detail).toBe("The push endpoint must be https.");
    expect(await subscriptionsOf(me)).toEqual([]);
    expect((await subscribeRequest(me, b.toJSON)).status).toBe(201);
  });

  it("need a token with read:messages", async () => {
    const b = await browser();
    expect((await api("/api/push/subscriptions/", { method: "POST", json: b.toJSON })).status).toBe(401);
    const profileOnly = await streamMember({ scopes: ["profile"] });
    expect((await subscribeRequest(profileOnly, b.toJSON)).status).toBe(403);
    expect((await api("/api/push/subscriptions/", { token: profileOnly.token })).status).toBe(403);
  });

  it.each<[string, (b: Browser) => unknown, RegExp]>([
    ["a p256dh key of 64 bytes", (b) => ({ ...b.toJSON, keys: { ...b.toJSON.keys, p256dh: b64url(b.publicKey.slice(1)) } }), /65 bytes/],
    ["an auth secret of 15 bytes", (b) => ({ ...b.toJSON, keys: { ...b.toJSON.keys, auth: b64url(b.auth.slice(1)) } }), /16 bytes/],
    ["a key that is not base64url", (b) => ({ ...b.toJSON, keys: { ...b.toJSON.keys, p256dh: "not base64url!" } }), /base64url/],
    ["an http endpoint on a public host", (b) => ({ ...b.toJSON, endpoint: "http://push.example.com/send/abc" }), /push endpoint must be https/],
    ["an endpoint on a private address", (b) => ({ ...b.toJSON, endpoint: "https://192.168.1.20/send/abc" }), /must be on a public host/],
    ["no keys", (b) => ({ endpoint: b.endpoint }), /keys/],
  ])("are refused with 400 for %s", async (_, body, sentence) => {
    const me = await streamMember();
    const res = await subscribeRequest(me, body(await browser()));
    expect(res.status).toBe(400);
    expect((await problemOf(res)).body.detail).toMatch(sentence);
    expect(await subscriptionsOf(me)).toEqual([]);
  });
});

describe("notifications", () => {
  it("reach a member with nothing open: aes128gcm that their keys decrypt, VAPID-signed, with TTL, Topic and Urgency", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const phone = await subscribed(b);
    const conversation = await start(a, [b.user.id]);
    const message = await send(a, conversation.id, "hello there");

    const request = await waitFor(phone.path);
    expect(request.method).toBe("POST");
    expect(request.headers).toMatchObject({ "content-encoding": "aes128gcm", ttl: "86400", topic: `c${conversation.id}`, urgency: "high" });
    expect(await decrypt(phone, request)).toEqual({
      title: nameOf(a),
      body: `${nameOf(a)}: hello there`,
      tag: `conversation-${conversation.id}`,
      conversation_id: conversation.id,
      seq: message.seq,
      url: `/app/c/${conversation.id}`,
    });

    const { public_key } = await json<{ public_key: string }>(await api("/api/push/key/"));
    const vapid = await vapidOf(request);
    expect(vapid.k).toBe(public_key);
    expect(vapid.header).toMatchObject({ alg: "ES256" });
    expect(vapid.verifies).toBe(true);
    // The check can fail: the same signature over other claims does not verify.
    const [h, , s] = vapid.jwt.split(".");
    const forged = `${h}.${b64url(encoder.encode(JSON.stringify({ ...vapid.claims, sub: "mailto:evil@example.com" })))}.${s}`;
    expect((await vapidOf(request, forged)).verifies).toBe(false);
    // The audience is the push service's origin (Hey signs a loopback http stand-in as its https twin).
    expect(vapid.claims.aud).toBe(new URL(phone.endpoint).origin.replace(/^http:/, "https:"));
    expect(vapid.claims.sub).toBe("mailto:tests@hey.test");
    const now = Date.now() / 1000;
    expect(vapid.claims.exp).toBeGreaterThan(now);
    expect(vapid.claims.exp).toBeLessThanOrEqual(now + 86_400);

    await sleep(500);
    expect(await received(phone.path)).toHaveLength(1);
  });

  it('say only "New message" to someone who turned previews off', async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const me = await json<{ notification_previews: boolean }>(await api("/api/users/me/", { token: b.token }));
    expect(me.notification_previews).toBe(true);
    const off = await api("/api/users/me/", { method: "PATCH", token: b.token, json: { notification_previews: false } });
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ notification_previews: false });
    expect(await json(await api("/api/users/me/", { token: b.token }))).toMatchObject({ notification_previews: false });

    const phone = await subscribed(b);
    const conversation = await start(a, [b.user.id]);
    const message = await send(a, conversation.id, "a secret plan");
    const [notification] = await notifications(phone);
    expect(notification).toEqual({ title: nameOf(a), body: "New message", tag: `conversation-${conversation.id}`, conversation_id: conversation.id, seq: message.seq, url: `/app/c/${conversation.id}` });
  });

  it("of a muted conversation come only for mentions, until it is unmuted", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const phone = await subscribed(b);
    const conversation = await start(a, [b.user.id]);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const muted = await mute(b, conversation.id, until);
    expect(muted.status).toBe(200);
    expect(await mutedUntilIn(b, conversation.id)).toBe(until);
    // The setting is b's own.
    expect(await mutedUntilIn(a, conversation.id)).toBeNull();

    await send(a, conversation.id, "quiet, please");
    const mention = await send(a, conversation.id, `look here <@${b.user.id}>`);
    const [first] = await notifications(phone);
    expect(first).toMatchObject({ seq: mention.seq, body: `${nameOf(a)}: look here @${b.user.first_name}` });
    expect((await received(phone.path))[0]!.headers.urgency).toBe("high");

    expect((await mute(b, conversation.id, null)).status).toBe(200);
    expect(await mutedUntilIn(b, conversation.id)).toBeNull();
    const loud = await send(a, conversation.id, "loud and clear");
    const all = await notifications(phone, 2);
    // Exactly the mention and the message after unmuting: "quiet, please" notified no one.
    expect(all.map((n) => n.seq)).toEqual([mention.seq, loud.seq]);
    await sleep(500);
    expect(await received(phone.path)).toHaveLength(2);
  });

  it("come again once muted_until has passed", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const phone = await subscribed(b);
    const conversation = await start(a, [b.user.id]);
    const past = new Date(Date.now() - 60_000).toISOString();
    expect((await mute(b, conversation.id, past)).status).toBe(200);
    expect(await mutedUntilIn(b, conversation.id)).toBe(past);
    const message = await send(a, conversation.id, "not muted any more");
    expect((await notifications(phone))[0]).toMatchObject({ seq: message.seq, body: `${nameOf(a)}: not muted any more` });
  });

  it("shorten a long message to 140 characters", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const phone = await subscribed(b);
    const conversation = await start(a, [b.user.id]);
    const long = "🙂".repeat(20) + "x".repeat(300);
    await send(a, conversation.id, long);
    const [notification] = await notifications(phone);
    expect(notification!.body).toBe(`${nameOf(a)}: ${[...long].slice(0, 139).join("")}…`);
  });

  it("reach a browser that registered again with new keys, readable with those", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const old = await subscribed(b);
    // The same push endpoint, new keys: the browser subscribed afresh.
    const renewed = { ...(await browser()), path: old.path, endpoint: old.endpoint };
    const again = await subscribeRequest(b, { ...renewed.toJSON, endpoint: old.endpoint });
    expect([200, 201]).toContain(again.status);
    expect((await subscriptionsOf(b)).map((s) => s.endpoint)).toEqual([old.endpoint]);
    const conversation = await start(a, [b.user.id]);
    const message = await send(a, conversation.id, "new keys");
    const [request] = await waitForMany(old.path, 1);
    expect(await decrypt(renewed, request!)).toMatchObject({ seq: message.seq, body: `${nameOf(a)}: new keys` });
    await expect(decrypt(old, request!)).rejects.toThrow();
  });

  it("of a titled group carry its title, with urgency normal unless they mention the recipient", async () => {
    const [a, b, c] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const phone = await subscribed(b);
    const group = await start(a, [b.user.id, c.user.id], { title: "Team" });

    const plain = await send(a, group.id, "standup in 5");
    const [first] = await waitForMany(phone.path, 1);
    expect(await decrypt(phone, first!)).toMatchObject({ title: "Team", body: `${nameOf(a)}: standup in 5`, seq: plain.seq });
    expect(first!.headers.urgency).toBe("normal");

    const mention = await send(a, group.id, `<@${b.user.id}> you're up`);
    const requests = await waitForMany(phone.path, 2);
    expect(await decrypt(phone, requests[1]!)).toMatchObject({ title: "Team", body: `${nameOf(a)}: @${b.user.first_name} you're up`, seq: mention.seq });
    expect(requests[1]!.headers.urgency).toBe("high");
  });

  it("never go to the sender", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const [aPhone, bPhone] = await Promise.all([subscribed(a), subscribed(b)]);
    const conversation = await start(a, [b.user.id]);

    await send(a, conversation.id, "from a");
    await notifications(bPhone);
    await sleep(500);
    expect(await received(aPhone.path)).toEqual([]);

    // a's subscription works: b's reply reaches it.
    const reply = await send(b, conversation.id, "from b");
    const [toA] = await notifications(aPhone);
    expect(toA).toMatchObject({ seq: reply.seq, title: nameOf(b), body: `${nameOf(b)}: from b` });
  });

  it("skip a member with a socket open on the conversation and one with a user stream open", async () => {
    const [a, onSocket, onStream, away] = await Promise.all([streamMember(), streamMember(), streamMember(), streamMember()]);
    const [socketPhone, streamPhone, awayPhone] = await Promise.all([subscribed(onSocket), subscribed(onStream), subscribed(away)]);
    const group = await start(a, [onSocket.user.id, onStream.user.id, away.user.id]);
    const socket = await openReady(group.id, { token: onSocket.token });
    await connectStreamReady({ token: onStream.token });

    const whileOpen = await send(a, group.id, "while open");
    expect((await notifications(awayPhone))[0]!.seq).toBe(whileOpen.seq);
    await sleep(500);
    expect(await received(socketPhone.path)).toEqual([]);
    expect(await received(streamPhone.path)).toEqual([]);

    // Once both are closed (and the stream's presence grace is over), they are notified again.
    socket.ws.close(1000);
    expect(endStreams()).toEqual([]);
    await offlineInD1(onStream.user.id);
    await sleep(200);
    const afterwards = await send(a, group.id, "after closing");
    expect((await notifications(socketPhone))[0]!.seq).toBe(afterwards.seq);
    expect((await notifications(streamPhone))[0]!.seq).toBe(afterwards.seq);
  });
});

describe("the push service's answers", () => {
  it.each([404, 410])("%i deletes the subscription", async (status) => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const gone = await subscribed(b);
    const kept = await subscribed(b);
    await answerWith(gone.path, [status]);
    const conversation = await start(a, [b.user.id]);
    await send(a, conversation.id, "anyone there?");

    await waitFor(gone.path);
    await notifications(kept);
    let listed = await subscriptionsOf(b);
    for (let i = 0; i < 50 && listed.some((s) => s.id === gone.id); i++) {
      await sleep(100);
      listed = await subscriptionsOf(b);
    }
    expect(listed.map((s) => s.id)).toEqual([kept.id]);
  });

  it("a 5xx is retried with the same notification", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const phone = await subscribed(b);
    await answerWith(phone.path, [503]);
    const conversation = await start(a, [b.user.id]);
    const message = await send(a, conversation.id, "second time lucky");
    const [first, second] = await notifications(phone, 2);
    expect(first).toEqual(second);
    expect(first!.seq).toBe(message.seq);
    expect((await subscriptionsOf(b)).map((s) => s.id)).toEqual([phone.id]);
  });
});

describe("muting a conversation", () => {
  it("PATCH takes muted_until alone or with a title, and needs one of them", async () => {
    const [a, b] = await Promise.all([streamMember(), streamMember()]);
    const conversation = await start(a, [b.user.id]);

    const neither = await api(`/api/conversations/${conversation.id}/`, { method: "PATCH", token: b.token, json: {} });
    expect(neither.status).toBe(400);
    expect((await problemOf(neither)).body.detail).toMatch(/title.*muted_until/);
    const notADate = await mute(b, conversation.id, "tomorrow");
    expect(notADate.status).toBe(400);
    expect(await mutedUntilIn(b, conversation.id)).toBeNull();

    const alone = await mute(b, conversation.id, "2099-01-01T00:00:00.000Z");
    expect(alone.status).toBe(200);
    expect(await alone.json()).toMatchObject({ id: conversation.id, title: null });
    expect(await mutedUntilIn(b, conversation.id)).toBe("2099-01-01T00:00:00.000Z");

    const both = await api(`/api/conversations/${conversation.id}/`, { method: "PATCH", token: a.token, json: { title: "Plans", muted_until: "2099-02-01T12:00:00+02:00" } });
    expect(both.status).toBe(200);
    expect(await both.json()).toMatchObject({ title: "Plans" });
    expect(await mutedUntilIn(a, conversation.id)).toBe("2099-02-01T10:00:00.000Z");
    expect(await mutedUntilIn(b, conversation.id)).toBe("2099-01-01T00:00:00.000Z");
  });

  it("is refused to someone outside the conversation (404)", async () => {
    const [a, b, stranger] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const conversation = await start(a, [b.user.id]);
    expect((await mute(stranger, conversation.id, "2099-01-01T00:00:00Z")).status).toBe(404);
  });
});
