import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { api, problemOf, signUp } from "./support/http";
import { USER_SCOPES, type Scope } from "../src/auth/scopes";
import { authorizeUrl, Browser, csrfOf, login, pkce, REDIRECT_URI, registerClient } from "./support/oauth";

type User = { id: number; email: string; first_name: string; last_name: string; phone_number?: string | null; bio: string | null; is_staff?: boolean };
type Page = { count: number; next: string | null; previous: string | null; results: User[] };

const get = async <T>(path: string, token: string): Promise<T> => {
  const res = await api(path, { token });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
};
const patch = (path: string, token: string, json: unknown) => api(path, { method: "PATCH", token, json });

/** Makes two users share a conversation, written straight into D1. */
async function shareConversation(a: number, b: number) {
  const now = Date.now();
  const conv = await env.DB.prepare("INSERT INTO conversations (title, owner_id, updated_at, last_activity_at) VALUES ('chat', ?, ?, ?) RETURNING id")
    .bind(a, now, now)
    .first<{ id: number }>();
  const add = env.DB.prepare("INSERT INTO participants (conversation_id, user_id, joined_at) VALUES (?, ?, ?)");
  await env.DB.batch([add.bind(conv!.id, a, now), add.bind(conv!.id, b, now)]);
}

/** Signs in through the real login form; returns the status and whether a session cookie was set. */
async function tryLogin(email: string, password: string) {
  const { clientId } = await registerClient();
  const url = authorizeUrl({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: pkce().challenge, code_challenge_method: "S256" });
  const browser = new Browser();
  const form = await browser.fetch(url);
  const res = await browser.post(url, { csrf_token: csrfOf(await form.text()), email, password });
  return { status: res.status, session: res.headers.getAll("Set-Cookie").some((c) => c.startsWith("__Host-hey_session=")), browser, url };
}

/** True when `browser` still has a live session: the authorize page asks for consent, not a password. */
async function stillSignedIn(browser: Browser, url: string) {
  return !(await (await browser.fetch(url)).text()).includes('name="password"');
}

/** A staff user signed in with `scopes` (every scope, admin included, unless given). */
async function makeStaff(scopes?: Scope[]) {
  const user = await signUp();
  await env.DB.prepare("UPDATE users SET is_staff = 1 WHERE id = ?").bind(user.id).run();
  return login({ user, scopes });
}

describe("bearer tokens", () => {
  it("answers 401 with a bare Bearer challenge and problem+json when there is no token", async () => {
    const res = await api("/api/users/me/");
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
    expect(res.headers.get("WWW-Authenticate")).not.toContain("error=");
    const { contentType, body } = await problemOf(res);
    expect(contentType).toBe("application/problem+json");
    expect(body.status).toBe(401);
  });

  it("answers 401 invalid_token to a token Hey did not issue", async () => {
    const res = await api("/api/users/me/", { headers: { Authorization: "Bearer not-a-real-token" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });

  it.each([["Bearer"], ["Bearer a b"]])("answers 400 invalid_request to the malformed header %j", async (header) => {
    const res = await api("/api/users/me/", { headers: { Authorization: header } });
    expect(res.status).toBe(400);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_request"');
  });

  it("answers another scheme, such as Basic, with a bare Bearer challenge", async () => {
    const res = await api("/api/users/me/", { headers: { Authorization: "Basic dXNlcjpwYXNz" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="hey"');
  });

  it.each<[string, (id: number) => string]>([
    ["the user's own record", () => "/api/users/me/"],
    ["the user's own record by id", (id) => `/api/users/${id}/`],
    ["the list of users", () => "/api/users/"],
    ["a look-up by email", () => "/api/users/?email=someone%40example.com"],
  ])("stops a token without the profile scope reading %s with 403 insufficient_scope", async (_, path) => {
    const { user, token } = await login({ scopes: ["read:messages"] });
    const res = await api(path(user.id), { token });
    expect(res.status).toBe(403);
    const challenge = res.headers.get("WWW-Authenticate")!;
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="profile"');
    expect((await problemOf(res)).contentType).toBe("application/problem+json");
  });

  it("stops a token without the profile scope editing the profile", async () => {
    const { user, token } = await login({ scopes: ["read:messages", "send:messages"] });
    expect((await patch("/api/users/me/", token, { bio: "Not allowed" })).status).toBe(403);
    const { bio } = (await env.DB.prepare("SELECT bio FROM users WHERE id = ?").bind(user.id).first<{ bio: string | null }>())!;
    expect(bio).toBeNull();
  });

  it("stops a deactivated user's token", async () => {
    const { user, token } = await login();
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE id = ?").bind(user.id).run();
    const res = await api("/api/users/me/", { token });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });
});

describe("/api/users/me/", () => {
  it("shows the signed-in user in full, without any password", async () => {
    const { user, token } = await login();
    const res = await api("/api/users/me/", { token });
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ id: user.id, email: user.email, phone_number: null, is_staff: false, is_active: true });
    expect(text).not.toMatch(/password|pbkdf2/i);
  });

  it("edits names, phone and bio, and keeps them", async () => {
    const { token } = await login();
    const changes = { first_name: "Grace", last_name: "Hopper", phone_number: "+14155550100", bio: "Compilers" };
    const res = await patch("/api/users/me/", token, changes);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject(changes);
    expect(await get("/api/users/me/", token)).toMatchObject(changes);
  });

  it("does not reveal that someone else has a phone number: taking it answers 200", async () => {
    await signUp({ phone_number: "+14155550111" });
    const { token } = await login();
    const res = await patch("/api/users/me/", token, { phone_number: "+14155550111" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ phone_number: "+14155550111" });
  });

  it.each([
    ["an unknown field", { nickname: "x" }],
    ["is_staff, which only staff may change", { is_staff: true }],
    ["email, which cannot change", { email: "new@example.com" }],
  ])("answers 400 to %s and changes nothing", async (_, body) => {
    const { token } = await login();
    const res = await patch("/api/users/me/", token, body);
    expect(res.status).toBe(400);
    expect(await get("/api/users/me/", token)).toMatchObject({ is_staff: false });
  });

  it("needs the right current password to change the password", async () => {
    const { token } = await login();
    const missing = await patch("/api/users/me/", token, { new_password: "a brand new password" });
    expect(missing.status).toBe(400);
    const wrong = await patch("/api/users/me/", token, { current_password: "not my password", new_password: "a brand new password" });
    expect(wrong.status).toBe(400);
    expect((await problemOf(wrong)).body.errors?.[0]?.path).toBe("current_password");
  });

  it("a password change ends the user's other tokens and sessions, keeps this one, and the new password signs in", async () => {
    const first = await login();
    const second = await login({ user: first.user });
    const signedIn = await tryLogin(first.user.email, first.user.password);
    expect(signedIn).toMatchObject({ status: 303, session: true });
    expect(await stillSignedIn(signedIn.browser, signedIn.url)).toBe(true);
    const newPassword = "correct horse battery staple";

    const res = await patch("/api/users/me/", first.token, { current_password: first.user.password, new_password: newPassword });
    expect(res.status).toBe(200);
    expect((await api("/api/users/me/", { token: second.token })).status).toBe(401);
    expect((await api("/api/users/me/", { token: first.token })).status).toBe(200);
    expect(await stillSignedIn(signedIn.browser, signedIn.url)).toBe(false);

    expect((await tryLogin(first.user.email, first.user.password)).status).toBe(400);
    const again = await login({ user: { ...first.user, password: newPassword } });
    expect((await api("/api/users/me/", { token: again.token })).status).toBe(200);
  });
});

describe("GET /api/users/ and /api/users/{id}/ for a non-staff user", () => {
  let me: Awaited<ReturnType<typeof login>>;
  let partner: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof login>>;

  beforeAll(async () => {
    me = await login();
    partner = await signUp({ phone_number: "+14155550199", last_name: "Partner" });
    stranger = await login({ user: await signUp({ last_name: "Stranger" }) });
  });

  it("lists only the user themself while they share no conversation", async () => {
    const page = await get<Page>("/api/users/", me.token);
    expect(page.count).toBe(1);
    expect(page.results.map((u) => u.id)).toEqual([me.user.id]);
    expect(page.results[0]).toHaveProperty("phone_number");
  });

  it("hides a stranger by id", async () => {
    expect((await api(`/api/users/${partner.id}/`, { token: me.token })).status).toBe(404);
    expect((await api("/api/users/999999/", { token: me.token })).status).toBe(404);
  });

  it("does not reveal strangers through ?search=", async () => {
    const page = await get<Page>("/api/users/?search=Stranger", me.token);
    expect(page.results.map((u) => u.id)).not.toContain(stranger.user.id);
  });

  it("lists a conversation partner, in the public shape, once they share a conversation", async () => {
    await shareConversation(me.user.id, partner.id);
    const page = await get<Page>("/api/users/", me.token);
    expect(page.results.map((u) => u.id).sort()).toEqual([me.user.id, partner.id].sort());
    const shown = page.results.find((u) => u.id === partner.id)!;
    expect(Object.keys(shown).sort()).toEqual(["bio", "first_name", "id", "last_name", "last_seen_at", "online"]);
    expect(shown).toMatchObject({ last_name: "Partner" });
  });

  it("shows a partner by id in the public shape, without email, phone or flags, and the user themself in full", async () => {
    const other = await get<User>(`/api/users/${partner.id}/`, me.token);
    expect(other).toMatchObject({ id: partner.id });
    expect(Object.keys(other).sort()).toEqual(["bio", "first_name", "id", "last_name", "last_seen_at", "online"]);
    expect(await get<User>(`/api/users/${me.user.id}/`, me.token)).toHaveProperty("is_staff", false);
  });

  it("finds any user by exact email in any letter case, and nobody by part of one", async () => {
    const found = await get<Page>(`/api/users/?email=${encodeURIComponent(partner.email.toUpperCase())}`, stranger.token);
    expect(found.results.map((u) => u.id)).toEqual([partner.id]);
    expect(found.results[0]).not.toHaveProperty("phone_number");
    const partial = await get<Page>(`/api/users/?email=${encodeURIComponent(partner.email.slice(1))}`, stranger.token);
    expect(partial.count).toBe(0);
  });

  it("refuses to change another user's flags with 403", async () => {
    const res = await patch(`/api/users/${partner.id}/`, me.token, { is_active: false });
    expect(res.status).toBe(403);
    expect((await tryLogin(partner.email, partner.password)).status).toBe(303);
  });
});

describe("staff", () => {
  let staff: Awaited<ReturnType<typeof login>>;

  beforeAll(async () => {
    staff = await makeStaff();
  });

  it("see everyone, with full details", async () => {
    const withPhone = await signUp({ phone_number: "+14155550177" });
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM users").first<{ n: number }>())!;
    const page = await get<Page>("/api/users/?page_size=100", staff.token);
    expect(page.count).toBe(n);
    expect(page.results).toHaveLength(n);
    expect(page.results.find((u) => u.id === withPhone.id)).toMatchObject({ phone_number: "+14155550177", is_staff: false });
    expect(await get<User>(`/api/users/${withPhone.id}/`, staff.token)).toHaveProperty("phone_number", "+14155550177");
  });

  it("filter with ?search= by name or email, taking % and _ literally", async () => {
    const zed = await signUp({ last_name: "Zanzibarian" });
    const byName = await get<Page>("/api/users/?search=zanzibar", staff.token);
    expect(byName.results.map((u) => u.id)).toEqual([zed.id]);
    const byEmail = await get<Page>(`/api/users/?search=${encodeURIComponent(zed.email.split("@")[0]!)}`, staff.token);
    expect(byEmail.results.map((u) => u.id)).toEqual([zed.id]);
    expect((await get<Page>("/api/users/?search=%25", staff.token)).count).toBe(0);
    expect((await get<Page>("/api/users/?search=_", staff.token)).count).toBe(0);
  });

  it("page through users as {count, next, previous, results}, and a page past the end is 404", async () => {
    for (let i = 0; i < 3; i++) await signUp();
    const first = await get<Page>("/api/users/?page_size=2", staff.token);
    expect(first.results).toHaveLength(2);
    expect(first.previous).toBeNull();
    expect(new URL(first.next!).searchParams.get("page")).toBe("2");
    const second = await get<Page>(new URL(first.next!).pathname + new URL(first.next!).search, staff.token);
    expect(second.count).toBe(first.count);
    expect(second.previous).not.toBeNull();
    expect(second.results.map((u) => u.id)).not.toContain(first.results[0]!.id);
    const last = Math.ceil(first.count / 2);
    const end = await get<Page>(`/api/users/?page_size=2&page=${last}`, staff.token);
    expect(end.next).toBeNull();
    const past = await api(`/api/users/?page_size=2&page=${last + 1}`, { token: staff.token });
    expect(past.status).toBe(404);
    expect(past.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("refuse a page_size over 100 with 400", async () => {
    expect((await api("/api/users/?page_size=101", { token: staff.token })).status).toBe(400);
  });

  it("deactivating a user ends their tokens and sessions at once and stops them signing in", async () => {
    const target = await login();
    expect((await api("/api/users/me/", { token: target.token })).status).toBe(200);
    const browser = await tryLogin(target.user.email, target.user.password);
    expect(await stillSignedIn(browser.browser, browser.url)).toBe(true);
    const res = await patch(`/api/users/${target.user.id}/`, staff.token, { is_active: false });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: target.user.id, is_active: false });
    expect((await api("/api/users/me/", { token: target.token })).status).toBe(401);
    expect(await stillSignedIn(browser.browser, browser.url)).toBe(false);
    expect(await tryLogin(target.user.email, target.user.password)).toMatchObject({ status: 400, session: false });
  });

  it("answer 404 when changing a user that does not exist", async () => {
    expect((await patch("/api/users/999999/", staff.token, { is_active: false })).status).toBe(404);
  });
});

describe("a staff user's token without the admin scope", () => {
  let staff: Awaited<ReturnType<typeof makeStaff>>;
  let partner: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    staff = await makeStaff(USER_SCOPES);
    partner = await signUp({ phone_number: "+14155550188", last_name: "Colleague" });
    stranger = await signUp({ phone_number: "+14155550189", last_name: "Outsider" });
  });

  it("cannot deactivate or promote anyone: 403, and nothing changes", async () => {
    for (const change of [{ is_active: false }, { is_staff: true }]) {
      const res = await patch(`/api/users/${stranger.id}/`, staff.token, change);
      expect(res.status).toBe(403);
      expect(res.headers.get("WWW-Authenticate")).toContain('scope="admin"');
    }
    const row = await env.DB.prepare("SELECT is_active, is_staff FROM users WHERE id = ?").bind(stranger.id).first();
    expect(row).toEqual({ is_active: 1, is_staff: 0 });
    expect((await tryLogin(stranger.email, stranger.password)).status).toBe(303);
  });

  it("cannot list or search everyone: it sees what any user's token sees", async () => {
    const page = await get<Page>("/api/users/?page_size=100", staff.token);
    expect(page.results.map((u) => u.id)).toEqual([staff.user.id]);
    const searched = await get<Page>("/api/users/?search=Outsider", staff.token);
    expect(searched.results.map((u) => u.id)).not.toContain(stranger.id);
  });

  it("cannot read a stranger by id", async () => {
    expect((await api(`/api/users/${stranger.id}/`, { token: staff.token })).status).toBe(404);
  });

  it("sees a conversation partner, or an email look-up, in the public shape only", async () => {
    await shareConversation(staff.user.id, partner.id);
    const byId = await get<User>(`/api/users/${partner.id}/`, staff.token);
    expect(Object.keys(byId).sort()).toEqual(["bio", "first_name", "id", "last_name", "last_seen_at", "online"]);
    const found = await get<Page>(`/api/users/?email=${encodeURIComponent(stranger.email)}`, staff.token);
    expect(found.results).toEqual([{ id: stranger.id, first_name: expect.any(String), last_name: "Outsider", bio: null, online: false, last_seen_at: null }]);
  });

  it("still shows the staff user themself in full", async () => {
    expect(await get<User>("/api/users/me/", staff.token)).toMatchObject({ id: staff.user.id, is_staff: true });
    expect(await get<User>(`/api/users/${staff.user.id}/`, staff.token)).toMatchObject({ is_staff: true });
  });
});
