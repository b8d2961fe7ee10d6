// Presence: a user is online while a user stream of theirs is open (and PRESENCE_GRACE_SECONDS, 1 s in
// tests, after the last closes); people who share a conversation see it, unless the user hides it.
import { afterEach, describe, expect, it } from "vitest";
import { send, start } from "./support/conversations";
import { api } from "./support/http";
import { connectStreamReady, endStreams, offlineInD1, streamMember, type Stream } from "./support/ws";

type Member = Awaited<ReturnType<typeof streamMember>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const presenceOf = (s: Stream, userId: number) => s.events.filter((e) => e.type === "presence" && e.user === userId);
const profile = async (viewer: Member, userId: number) => {
  const res = await api(`/api/users/${userId}/`, { token: viewer.token });
  return { status: res.status, body: (await res.json()) as any };
};
const showPresence = async (who: Member, show: boolean) => {
  const res = await api("/api/users/me/", { method: "PATCH", token: who.token, json: { show_presence: show } });
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).show_presence).toBe(show);
};

/** Two people who share a conversation, `a` with a stream open. */
async function contacts() {
  const [r, a] = await Promise.all([streamMember(), streamMember()]);
  const conversation = await start(a, [r.user.id]);
  const sa = await connectStreamReady({ token: a.token });
  return { r, a, sa, conversation };
}

afterEach(() => {
  expect(endStreams()).toEqual([]);
});

describe("presence on the user stream", () => {
  it("contacts hear a user come online with their first stream, not with a second, and strangers hear nothing", async () => {
    const { r, a, sa, conversation } = await contacts();
    const stranger = await streamMember();
    const ss = await connectStreamReady({ token: stranger.token });
    const sr = await connectStreamReady({ token: r.token });
    const online = await sa.next((e) => e.type === "presence" && e.user === r.user.id);
    expect(online).toEqual({ type: "presence", event_seq: expect.any(Number), user: r.user.id, online: true, last_seen_at: expect.any(String) });
    // r's ready lists a, who was online first.
    expect(sr.events[0].presence).toEqual([{ user: a.user.id, online: true, last_seen_at: expect.any(String) }]);

    await connectStreamReady({ token: r.token });
    await send(r, conversation.id, "barrier");
    await sa.next((e) => e.type === "message.created");
    await sleep(100);
    expect(presenceOf(sa, r.user.id)).toHaveLength(1);
    expect(presenceOf(ss, r.user.id)).toEqual([]);
    expect(presenceOf(sr, r.user.id)).toEqual([]);
  });

  it("a user goes offline a grace period after their last stream closes, and contacts hear when they were last seen", async () => {
    const { r, a, sa } = await contacts();
    const phone = await connectStreamReady({ token: r.token });
    const laptop = await connectStreamReady({ token: r.token });
    const online = await sa.next((e) => e.type === "presence" && e.user === r.user.id && e.online);
    phone.ws.close(1000);
    laptop.ws.close(1000);
    expect((await profile(a, r.user.id)).body).toMatchObject({ online: true });

    const gone = await sa.next((e) => e.type === "presence" && e.user === r.user.id && !e.online);
    expect(Date.parse(gone.last_seen_at)).toBeGreaterThanOrEqual(Date.parse(online.last_seen_at));
    expect((await profile(a, r.user.id)).body).toMatchObject({ online: false, last_seen_at: gone.last_seen_at });
  });

  it("a reconnect within the grace changes nothing for contacts", async () => {
    const { r, a, sa } = await contacts();
    const first = await connectStreamReady({ token: r.token });
    await sa.next((e) => e.type === "presence" && e.user === r.user.id);
    first.ws.close(1000);
    await connectStreamReady({ token: r.token });
    // Past the grace of the first stream's close.
    await sleep(1500);
    expect(presenceOf(sa, r.user.id).map((e) => e.online)).toEqual([true]);
    expect((await profile(a, r.user.id)).body).toMatchObject({ online: true });
  });
});

describe("new contacts", () => {
  it("learn who of each other is online when a conversation starts or someone is added, unless hidden", async () => {
    const [a, b, c, hidden] = await Promise.all([streamMember(), streamMember(), streamMember(), streamMember()]);
    await showPresence(hidden, false);
    const open = (who: Member) => connectStreamReady({ token: who.token });
    const [sa, sb, sc, sh] = await Promise.all([open(a), open(b), open(c), open(hidden)]);
    const conversation = await start(a, [b.user.id, hidden.user.id]);
    const added = await sb.next((e) => e.type === "conversation.added");
    const aOnline = await sb.next((e) => e.type === "presence" && e.user === a.user.id);
    expect(aOnline.event_seq).toBe(added.event_seq + 1);
    expect(aOnline).toMatchObject({ online: true, last_seen_at: expect.any(String) });
    await sa.next((e) => e.type === "presence" && e.user === b.user.id && e.online);
    await sh.next((e) => e.type === "presence" && e.user === b.user.id && e.online);

    expect((await api(`/api/conversations/${conversation.id}/participants/`, { method: "POST", token: a.token, json: { user_id: c.user.id } })).status).toBe(201);
    await sc.next((e) => e.type === "conversation.added");
    for (const who of [a, b]) await sc.next((e) => e.type === "presence" && e.user === who.user.id && e.online);
    for (const s of [sa, sb]) await s.next((e) => e.type === "presence" && e.user === c.user.id && e.online);

    await send(a, conversation.id, "barrier");
    for (const s of [sa, sb, sc]) await s.next((e) => e.type === "message.created");
    for (const s of [sa, sb, sc]) expect(presenceOf(s, hidden.user.id)).toEqual([]);
  });
});

describe("presence in the user directory", () => {
  it("GET /api/users/{id}/ shows online and last_seen_at to people who share a conversation, 404 to strangers", async () => {
    const { r, a } = await contacts();
    const stranger = await streamMember();
    expect((await profile(a, r.user.id)).body).toMatchObject({ id: r.user.id, online: false, last_seen_at: null });

    await connectStreamReady({ token: r.token });
    const seen = (await profile(a, r.user.id)).body;
    expect(seen).toMatchObject({ online: true, last_seen_at: expect.any(String) });
    const listed = (await (await api("/api/users/", { token: a.token })).json()) as any;
    expect(listed.results.find((u: any) => u.id === r.user.id)).toMatchObject({ online: true, last_seen_at: seen.last_seen_at });

    expect((await profile(stranger, r.user.id)).status).toBe(404);
    const self = await profile(r, r.user.id);
    expect(self.body).toMatchObject({ id: r.user.id, show_presence: true });
  });
});

describe("hiding presence", () => {
  it("tells online contacts the user is offline, unknown since when; GET and a contact's ready agree", async () => {
    const { r, a, sa } = await contacts();
    const b = await streamMember();
    await start(b, [a.user.id]);
    await connectStreamReady({ token: b.token });
    await connectStreamReady({ token: r.token });
    await sa.next((e) => e.type === "presence" && e.user === r.user.id && e.online);

    await showPresence(r, false);
    const hidden = await sa.next((e) => e.type === "presence" && e.user === r.user.id && !e.online);
    expect(hidden).toMatchObject({ online: false, last_seen_at: null });
    expect((await profile(a, r.user.id)).body).toMatchObject({ online: false, last_seen_at: null });
    const again = await connectStreamReady({ token: a.token });
    expect(again.events[0].presence.map((p: any) => p.user)).toEqual([b.user.id]);

    await showPresence(r, true);
    const shown = await sa.next((e) => e.type === "presence" && e.user === r.user.id && e.online && e.event_seq > hidden.event_seq);
    expect(shown.last_seen_at).toEqual(expect.any(String));
    expect((await profile(a, r.user.id)).body).toMatchObject({ online: true });
  });

  it("a hidden user comes online and goes offline unseen; showing again tells contacts when they were last seen", async () => {
    const { r, a, sa, conversation } = await contacts();
    await showPresence(r, false);
    // Hiding is told at once, whatever the user's state.
    const hidden = await sa.next((e) => e.type === "presence" && e.user === r.user.id);
    expect(hidden).toMatchObject({ online: false, last_seen_at: null });
    const sr = await connectStreamReady({ token: r.token });
    await send(r, conversation.id, "barrier");
    await sa.next((e) => e.type === "message.created");
    sr.ws.close(1000);
    await offlineInD1(r.user.id);
    await sleep(100);
    expect(presenceOf(sa, r.user.id)).toEqual([hidden]);

    await showPresence(r, true);
    const shown = await sa.next((e) => e.type === "presence" && e.user === r.user.id && e.event_seq > hidden.event_seq);
    expect(shown).toMatchObject({ online: false, last_seen_at: expect.any(String) });
    expect((await profile(a, r.user.id)).body).toMatchObject({ online: false, last_seen_at: shown.last_seen_at });
  });
});
