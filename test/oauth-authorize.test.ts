import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { config } from "../src/config";
import { SCOPES } from "../src/auth/scopes";
import { ORIGIN, signUp } from "./support/http";
import { approve, authorizeUrl, Browser, csrfOf, pkce, REDIRECT_URI, registerClient } from "./support/oauth";

const SESSION = "__Host-hey_session";
let clientId: string;

beforeAll(async () => {
  ({ clientId } = await registerClient({ name: "Acme Chat", scopes: ["profile", "read:messages"] }));
});

/** A valid authorization request for the test client, with some parameters replaced. */
const request = (overrides: Record<string, string | undefined> = {}) =>
  authorizeUrl({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: "profile",
    state: "xyz",
    code_challenge: pkce().challenge,
    code_challenge_method: "S256",
    ...overrides,
  });

const setCookies = (res: Response) => res.headers.getAll("Set-Cookie");
const sessionCookie = (res: Response) => setCookies(res).find((line) => line.startsWith(`${SESSION}=`));

/** The query of a redirect back to the client, asserting it goes to `base`. */
function redirectedTo(res: Response, base = REDIRECT_URI): URLSearchParams {
  expect(res.status).toBe(303);
  const location = new URL(res.headers.get("Location")!);
  expect(`${location.origin}${location.pathname}`).toBe(base);
  return location.searchParams;
}

async function expectErrorPage(res: Response) {
  expect(res.status).toBe(400);
  expect(res.headers.get("Location")).toBeNull();
  expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
  expect(await res.text()).toContain("This sign-in link is not valid");
}

/** A browser signed in as a new user, looking at the consent page of `url`. */
async function signedIn(url: string) {
  const user = await signUp();
  const browser = new Browser();
  const form = await browser.fetch(url);
  const login = await browser.post(url, { csrf_token: csrfOf(await form.text()), email: user.email, password: user.password });
  expect(login.status).toBe(303);
  const consent = await browser.fetch(login.headers.get("Location")!);
  return { user, browser, login, consent, html: await consent.text() };
}

describe("requests that cannot be trusted get an error page, never a redirect", () => {
  it.each(["GET", "POST"])("an unknown client_id on %s gets the error page", async (method) => {
    const res = await new Browser().fetch(request({ client_id: "no-such-client" }), { method });
    await expectErrorPage(res);
  });

  it.each([
    ["a trailing slash", `${REDIRECT_URI}/`],
    ["a different letter case", "http://127.0.0.1/Callback"],
    ["an added query", `${REDIRECT_URI}?next=/admin`],
    ["a fragment", `${REDIRECT_URI}#x`],
    ["another loopback host", "http://localhost/callback"],
    ["another host", "https://evil.example/callback"],
  ])("a redirect_uri that differs by %s gets the error page", async (_, redirectUri) => {
    await expectErrorPage(await new Browser().fetch(request({ redirect_uri: redirectUri, response_type: "token" })));
  });

  it("a different port on a non-loopback https redirect URI gets the error page", async () => {
    const https = await registerClient({ redirectUris: ["https://app.example.com/cb"] });
    const url = request({ client_id: https.clientId, redirect_uri: "https://app.example.com:8443/cb" });
    await expectErrorPage(await new Browser().fetch(url));
  });

  it("a loopback redirect URI with an impossible port gets the error page", async () => {
    await expectErrorPage(await new Browser().fetch(request({ redirect_uri: "http://127.0.0.1:99999/callback" })));
  });
});

describe("errors about a known client go back to it", () => {
  it("a loopback redirect URI with another port is accepted and receives the code (RFC 8252 §7.3)", async () => {
    const url = request({ redirect_uri: "http://127.0.0.1:5555/callback" });
    const location = await approve(new Browser(), url, await signUp());
    expect(`${location.origin}${location.pathname}`).toBe("http://127.0.0.1:5555/callback");
    expect(location.searchParams.get("code")).toBeTruthy();
  });

  it("response_type=token redirects with unsupported_response_type and the state", async () => {
    const params = redirectedTo(await new Browser().fetch(request({ response_type: "token" })));
    expect(params.get("error")).toBe("unsupported_response_type");
    expect(params.get("state")).toBe("xyz");
    expect(params.get("iss")).toBe(ORIGIN);
    expect(params.has("code")).toBe(false);
  });

  it.each([
    ["code_challenge_method=plain", { code_challenge_method: "plain" }],
    ["no code_challenge_method", { code_challenge_method: undefined }],
    ["no code_challenge", { code_challenge: undefined }],
    ["a code_challenge that is not S256-shaped", { code_challenge: "short" }],
    ["no response_type", { response_type: undefined }],
  ])("%s redirects with invalid_request", async (_, overrides) => {
    const params = redirectedTo(await new Browser().fetch(request(overrides)));
    expect(params.get("error")).toBe("invalid_request");
    expect(params.get("state")).toBe("xyz");
  });

  it.each([
    ["a known scope the client may not ask for", "profile send:messages"],
    ["an unknown scope", "admin"],
  ])("%s redirects with invalid_scope", async (_, scope) => {
    const params = redirectedTo(await new Browser().fetch(request({ scope })));
    expect(params.get("error")).toBe("invalid_scope");
    expect(params.get("state")).toBe("xyz");
  });
});

describe("the sign-in page", () => {
  it("shows a signed-out user a form with email and password, unframeable and uncached", async () => {
    const res = await new Browser().fetch(request());
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(res.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const html = await res.text();
    expect(html).toMatch(/<input[^>]*name="email"/);
    expect(html).toMatch(/<input[^>]*name="password"/);
    expect(html).toContain("Acme Chat");
  });

  it("escapes a hostile client name", async () => {
    const hostile = await registerClient({ name: `<img src=x onerror="alert(1)">` });
    const html = await (await new Browser().fetch(request({ client_id: hostile.clientId }))).text();
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("signs in with a __Host- session cookie that is Secure, HttpOnly, Path=/, SameSite=Lax and has no Domain", async () => {
    const { login } = await signedIn(request());
    const attributes = sessionCookie(login)!.split(";").map((part) => part.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(["secure", "httponly", "path=/", "samesite=lax"]));
    expect(attributes.some((a) => a.startsWith("domain="))).toBe(false);
  });

  it("shows the form again with a message and sets no session after a wrong password", async () => {
    const user = await signUp();
    const browser = new Browser();
    const url = request();
    const form = await browser.fetch(url);
    const res = await browser.post(url, { csrf_token: csrfOf(await form.text()), email: user.email, password: "not the password" });
    expect(res.status).toBe(400);
    expect(sessionCookie(res)).toBeUndefined();
    const html = await res.text();
    expect(html).toMatch(/<input[^>]*name="password"/);
    expect(html).toContain("do not match");
    expect(html).toContain(`value="${user.email}"`);
  });

  it("refuses even the right password with 429 after too many failures for one email, in any letter case", async () => {
    const user = await signUp();
    const other = await signUp();
    const browser = new Browser();
    const url = request();
    const csrf = csrfOf(await (await browser.fetch(url)).text());
    for (let i = 0; i < config(env).RATE_PASSWORD_LIMIT; i++) {
      const res = await browser.post(url, { csrf_token: csrf, email: user.email.toUpperCase(), password: `wrong password ${i}` });
      expect(res.status).toBe(400);
    }
    const res = await browser.post(url, { csrf_token: csrf, email: user.email, password: user.password });
    expect(res.status).toBe(429);
    expect(sessionCookie(res)).toBeUndefined();
    const html = await res.text();
    expect(html).toMatch(/<input[^>]*name="password"/);
    expect(html).toContain("Too many sign-in attempts");
    // Another account is not locked out by the first one's failures.
    const fine = await browser.post(url, { csrf_token: csrf, email: other.email, password: other.password });
    expect(fine.status).toBe(303);
  });
});

describe("cross-site form posts", () => {
  it("a sign-in post without csrf_token gets 403 and no session", async () => {
    const user = await signUp();
    const browser = new Browser();
    await browser.fetch(request());
    const res = await browser.post(request(), { email: user.email, password: user.password });
    expect(res.status).toBe(403);
    expect(res.headers.get("Location")).toBeNull();
    expect(sessionCookie(res)).toBeUndefined();
  });

  it("a consent post with another browser's csrf_token gets 403 and no code", async () => {
    const url = request();
    const { browser } = await signedIn(url);
    const attackerToken = csrfOf(await (await new Browser().fetch(url)).text());
    const res = await browser.post(url, { csrf_token: attackerToken, decision: "approve" });
    expect(res.status).toBe(403);
    expect(res.headers.get("Location")).toBeNull();
    expect(await res.text()).not.toContain("code=");
  });
});

describe("the consent page", () => {
  it("names the client, lists the scopes in words and offers approve and deny", async () => {
    const { consent, html } = await signedIn(request({ scope: "profile read:messages" }));
    expect(consent.status).toBe(200);
    expect(consent.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(html).toContain("Allow Acme Chat?");
    expect(html).toContain(SCOPES.profile);
    expect(html).toContain(SCOPES["read:messages"]);
    expect(html).toMatch(/<button[^>]*name="decision" value="approve"/);
    expect(html).toMatch(/<button[^>]*name="decision" value="deny"/);
  });

  it("lists only the scopes requested", async () => {
    const { html } = await signedIn(request({ scope: "profile" }));
    expect(html).toContain(SCOPES.profile);
    expect(html).not.toContain(SCOPES["read:messages"]);
  });

  it("deny redirects with access_denied, the state and iss, and no code", async () => {
    const url = request({ state: "deny-me" });
    const { browser, html } = await signedIn(url);
    const params = redirectedTo(await browser.post(url, { csrf_token: csrfOf(html), decision: "deny" }));
    expect(params.get("error")).toBe("access_denied");
    expect(params.get("state")).toBe("deny-me");
    expect(params.get("iss")).toBe(ORIGIN);
    expect(params.has("code")).toBe(false);
  });

  it("approve redirects with a code, the unchanged state and iss", async () => {
    const state = "a b&c=d/é?#%20+";
    const url = request({ state });
    const { browser, html } = await signedIn(url);
    const params = redirectedTo(await browser.post(url, { csrf_token: csrfOf(html), decision: "approve" }));
    expect(params.get("code")).toMatch(/^\S{20,}$/);
    expect(params.get("state")).toBe(state);
    expect(params.get("iss")).toBe(ORIGIN);
    expect(params.has("error")).toBe(false);
  });

  it("a signed-in browser goes straight to consent on the next request", async () => {
    const { browser } = await signedIn(request());
    const html = await (await browser.fetch(request({ state: "again" }))).text();
    expect(html).toContain('value="approve"');
    expect(html).not.toContain('name="password"');
  });
});
