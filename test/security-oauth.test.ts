import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createClient } from "../src/auth/oauth/clients";
import { REUSED_REFRESH } from "../src/auth/oauth/tokens";
import { SCOPES, USER_SCOPES } from "../src/auth/scopes";
import { config } from "../src/config";
import { database } from "../src/db/client";
import { api, appWith, ORIGIN, signUp } from "./support/http";
import { authorizationCode, authorizeUrl, Browser, csrfOf, login, pkce, REDIRECT_URI, registerClient, tokenRequest, type Tokens } from "./support/oauth";

// The OAuth holes an attack found (issue 10), each test named for the attack it stops.

const SESSION = "__Host-hey_session";
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function staffUser() {
  const user = await signUp();
  await env.DB.prepare("UPDATE users SET is_staff = 1 WHERE id = ?").bind(user.id).run();
  return user;
}

describe("the admin scope", () => {
  it("a staff user's token granted only read:messages cannot manage clients", async () => {
    const { token } = await login({ user: await staffUser(), scopes: ["read:messages"] });
    expect((await api("/api/oauth/clients/", { token })).status).toBe(403);
    const created = await api("/api/oauth/clients/", { method: "POST", token, json: { name: "Backdoor", redirect_uris: ["https://x.example/cb"], confidential: true } });
    expect(created.status).toBe(403);
    expect(created.headers.get("WWW-Authenticate")).toContain('scope="admin"');
  });

  it("a staff user's token with admin manages clients, and a new client gets admin only when staff name it", async () => {
    const { token, tokens } = await login({ user: await staffUser() });
    expect(tokens.scope.split(" ")).toContain("admin");
    const plain = (await (await api("/api/oauth/clients/", { method: "POST", token, json: { name: "Plain", redirect_uris: ["https://p.example/cb"] } })).json()) as { scopes: string[] };
    expect(plain.scopes).toEqual(USER_SCOPES);
    const tool = (await (await api("/api/oauth/clients/", { method: "POST", token, json: { name: "Tool", redirect_uris: ["https://t.example/cb"], scopes: ["admin", "profile"] } })).json()) as { scopes: string[] };
    expect(tool.scopes).toEqual(["admin", "profile"]);
  });

  it("is never granted to a user who is not staff, even by an app allowed to ask for it", async () => {
    const client = await registerClient({ scopes: ["admin", "profile"] });
    const { tokens } = await login({ client, scopes: ["admin", "profile"] });
    expect(tokens.scope).toBe("profile");
    const user = await signUp();
    const browser = new Browser();
    const url = authorizeUrl({ response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT_URI, scope: "admin", state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });
    const signedIn = await browser.post(url, { csrf_token: csrfOf(await (await browser.fetch(url)).text()), email: user.email, password: user.password });
    const refused = await browser.fetch(signedIn.headers.get("Location")!);
    expect(new URL(refused.headers.get("Location")!).searchParams.get("error")).toBe("invalid_scope");
  });

  it("can never be registered or requested by a dynamically registered client", async () => {
    const register = (body: unknown) => api("/o/register/", { method: "POST", json: body });
    const asked = await register({ client_name: "Grabby", redirect_uris: [REDIRECT_URI], scope: "profile admin" });
    expect(asked.status).toBe(400);
    expect(await asked.json()).toMatchObject({ error: "invalid_client_metadata", error_description: expect.stringContaining("admin") });
    const { client_id, scope } = (await (await register({ client_name: "Default", redirect_uris: [REDIRECT_URI] })).json()) as { client_id: string; scope: string };
    expect(scope.split(" ")).not.toContain("admin");
    // Refused before any page, even for staff: the app was never allowed to ask.
    const url = authorizeUrl({ response_type: "code", client_id, redirect_uri: REDIRECT_URI, scope: "admin", state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });
    const res = await SELF.fetch(url, { redirect: "manual" });
    expect(new URL(res.headers.get("Location")!).searchParams.get("error")).toBe("invalid_scope");
  });

  it("is spelled out on the consent page", async () => {
    const client = await registerClient({ scopes: ["admin"] });
    const staff = await staffUser();
    const browser = new Browser();
    const url = authorizeUrl({ response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT_URI, scope: "admin", state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });
    const login = await browser.post(url, { csrf_token: csrfOf(await (await browser.fetch(url)).text()), email: staff.email, password: staff.password });
    const consent = await (await browser.fetch(login.headers.get("Location")!)).text();
    expect(consent).toContain(SCOPES.admin.replace("'", "&#39;"));
  });
});

describe("the token endpoint under a flood", () => {
  const garbageFrom = ["203.0.113.1", "203.0.113.2", "2001:db8:1::5"];

  it("100 garbage refreshes from 3 addresses cannot stop a real user's code exchange and refresh", async () => {
    const call = appWith({ RATE_TOKEN_LIMIT: "20" });
    const client = await registerClient();
    const garbage = await Promise.all(
      range(100).map((i) => call("/o/token/", { ip: garbageFrom[i % 3], form: { grant_type: "refresh_token", refresh_token: `garbage-${i}`, client_id: client.clientId } })),
    );
    expect(garbage.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(100 - 3 * 20);
    const { code, verifier } = await authorizationCode(client, await signUp());
    const exchanged = await call("/o/token/", { ip: "198.51.100.7", form: { grant_type: "authorization_code", code: code!, redirect_uri: REDIRECT_URI, client_id: client.clientId, code_verifier: verifier } });
    expect(exchanged.status).toBe(200);
    const { refresh_token } = (await exchanged.json()) as Tokens;
    const refreshed = await call("/o/token/", { ip: "198.51.100.8", form: { grant_type: "refresh_token", refresh_token, client_id: client.clientId } });
    expect(refreshed.status).toBe(200);
  });

  it("limits the refreshes of one grant from any number of addresses", async () => {
    const call = appWith({ RATE_TOKEN_LIMIT: "2" });
    const { client, tokens } = await login();
    let refreshToken = tokens.refresh_token;
    for (const n of [1, 2]) {
      const res = await call("/o/token/", { ip: `192.0.2.${n}`, form: { grant_type: "refresh_token", refresh_token: refreshToken, client_id: client.clientId } });
      expect(res.status).toBe(200);
      refreshToken = ((await res.json()) as Tokens).refresh_token;
    }
    const limited = await call("/o/token/", { ip: "192.0.2.3", form: { grant_type: "refresh_token", refresh_token: refreshToken, client_id: client.clientId } });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: "temporarily_unavailable" });
  });
});

describe("refresh token reuse", () => {
  it("a spent refresh token presented after its successor was used gets an invalid_grant saying the grant was revoked for reuse, and the newest tokens die", async () => {
    const { client, tokens } = await login();
    const refresh = (refreshToken: string) => tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: client.clientId });
    const second = (await (await refresh(tokens.refresh_token)).json()) as Tokens;
    const third = await refresh(second.refresh_token);
    expect(third.status).toBe(200);
    const { access_token } = (await third.json()) as Tokens;
    const reused = await refresh(tokens.refresh_token);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toEqual({ error: "invalid_grant", error_description: REUSED_REFRESH });
    expect((await api("/api/users/me/", { token: access_token })).status).toBe(401);
  });
});

describe("sign-out", () => {
  const consentUrl = (clientId: string) =>
    authorizeUrl({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URI, scope: "profile", state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });

  async function signedInBrowser() {
    const client = await registerClient();
    const browser = new Browser();
    await authorizationCode(client, await signUp(), { browser });
    const url = consentUrl(client.clientId);
    expect(await (await browser.fetch(url)).text()).toContain('value="approve"');
    return { browser, url };
  }

  it("after sign-out, /o/authorize/ in the same browser asks for the password again, and the old cookie is dead", async () => {
    const { browser, url } = await signedInBrowser();
    const old = browser.cookies.get(SESSION)!;
    const page = await (await browser.fetch("/o/logout/")).text();
    expect(page).toContain("Sign out of Hey?");
    const out = await browser.post("/o/logout/", { csrf_token: csrfOf(page) });
    expect(out.status).toBe(200);
    expect(out.headers.getAll("Set-Cookie").some((c) => c.startsWith(`${SESSION}=;`) && c.includes("Max-Age=0"))).toBe(true);
    expect(await (await browser.fetch(url)).text()).toMatch(/name="password"/);
    const replayed = await SELF.fetch(url, { headers: { Cookie: `${SESSION}=${old}` }, redirect: "manual" });
    expect(await replayed.text()).toMatch(/name="password"/);
  });

  it("a cross-site post cannot sign the browser out; the web app's same-origin fetch can", async () => {
    const { browser, url } = await signedInBrowser();
    expect((await browser.post("/o/logout/", {})).status).toBe(403);
    expect((await browser.fetch("/o/logout/", { method: "POST", headers: { Origin: "https://evil.example" } })).status).toBe(403);
    expect(await (await browser.fetch(url)).text()).toContain('value="approve"');
    expect((await browser.fetch("/o/logout/", { method: "POST", headers: { Origin: ORIGIN } })).status).toBe(200);
    expect(await (await browser.fetch(url)).text()).toMatch(/name="password"/);
  });
});

describe("password guessing", () => {
  it("25 concurrent wrong passwords for one account get at most the limit's worth of password checks", async () => {
    const user = await signUp();
    const client = await registerClient();
    const browser = new Browser();
    const url = authorizeUrl({ response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT_URI, state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });
    const csrf = csrfOf(await (await browser.fetch(url)).text());
    const answers = await Promise.all(range(25).map((i) => browser.post(url, { csrf_token: csrf, email: user.email, password: `wrong password ${i}` })));
    const checked = answers.filter((r) => r.status === 400).length;
    expect(checked).toBe(config(env).RATE_PASSWORD_LIMIT);
    expect(answers.filter((r) => r.status === 429).length).toBe(25 - checked);
  });
});

describe("dynamic registration", () => {
  const register = (body: unknown) => api("/o/register/", { method: "POST", json: body });

  it("the consent page shows a self-registered app's redirect host and marks it unverified; a staff-registered one is not", async () => {
    const { client_id } = (await (await register({ client_name: "Totally Legit", redirect_uris: ["https://phish.example/cb"] })).json()) as { client_id: string };
    const url = (clientId: string, redirect: string) =>
      authorizeUrl({ response_type: "code", client_id: clientId, redirect_uri: redirect, state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });
    const dynamic = await (await SELF.fetch(url(client_id, "https://phish.example/cb"))).text();
    expect(dynamic).toContain("phish.example");
    expect(dynamic).toContain("Unverified app");
    const first = await registerClient({ redirectUris: ["https://chat.example/cb"] });
    const staffMade = await (await SELF.fetch(url(first.clientId, "https://chat.example/cb"))).text();
    expect(staffMade).toContain("chat.example");
    expect(staffMade).not.toContain("Unverified");
  });

  it("refuses a name that reads as a first-party client's", async () => {
    await registerClient({ name: "Acme Official Chat" });
    const res = await register({ client_name: "ACME official-chat!", redirect_uris: [REDIRECT_URI] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_client_metadata", error_description: expect.stringContaining("Acme Official Chat") });
  });

  it("is limited per address", async () => {
    const call = appWith({ RATE_REGISTER_LIMIT: "2" });
    const post = (ip: string) => call("/o/register/", { ip, method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ client_name: "Spam", redirect_uris: [REDIRECT_URI] }) });
    expect((await post("198.51.100.20")).status).toBe(201);
    expect((await post("198.51.100.20")).status).toBe(201);
    const limited = await post("198.51.100.20");
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: "temporarily_unavailable" });
    expect((await post("198.51.100.21")).status).toBe(201);
  });
});

describe("body limits on /o/", () => {
  it.each(["/o/token/", "/o/register/", "/o/authorize/", "/o/revoke_token/", "/o/logout/"])("%s answers a body over MAX_BODY_BYTES with 413 before reading it", async (path) => {
    const big = "x".repeat(config(env).MAX_BODY_BYTES + 1);
    const res = await SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `a=${big}` });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });
});

describe("introspection (RFC 7662 §4)", () => {
  async function confidential(introspect: boolean) {
    const { client, secret } = await createClient(database(env.DB), { name: "Backend", redirectUris: [REDIRECT_URI], confidential: true, scopes: USER_SCOPES, introspect });
    return { clientId: client.id, secret: secret! };
  }
  const introspect = (caller: { clientId: string; secret: string }, token: string) =>
    SELF.fetch(`${ORIGIN}/o/introspect/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${btoa(`${caller.clientId}:${caller.secret}`)}` },
      body: new URLSearchParams({ token }).toString(),
    }).then((r) => r.json() as Promise<{ active: boolean; username?: string }>);

  it("answers inactive for another client's token, so its user's email does not leak", async () => {
    const { token, user } = await login();
    const other = await confidential(false);
    expect(await introspect(other, token)).toEqual({ active: false });
    const server = await confidential(true);
    expect(await introspect(server, token)).toMatchObject({ active: true, username: user.email });
  });

  it("answers for the calling client's own tokens", async () => {
    const own = await confidential(false);
    const { code, verifier } = await authorizationCode(own, await signUp());
    const res = await tokenRequest({ grant_type: "authorization_code", code: code!, redirect_uri: REDIRECT_URI, code_verifier: verifier }, own);
    const { access_token } = (await res.json()) as Tokens;
    expect(await introspect(own, access_token)).toMatchObject({ active: true });
  });
});
