import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, signUp } from "./support/http";
import { authorizeUrl, Browser, csrfOf, login, pkce, REDIRECT_URI, registerClient, tokenRequest } from "./support/oauth";

// Sign-in and consent as a person meets them: the email they just used, and no second "Allow" for an app
// they already allowed.

const request = (clientId: string, scope = "profile") =>
  authorizeUrl({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URI, scope, state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });

async function signedIn(user: { email: string; password: string }, clientId: string) {
  const browser = new Browser();
  const url = request(clientId);
  const res = await browser.post(url, { csrf_token: csrfOf(await (await browser.fetch(url)).text()), email: user.email, password: user.password });
  expect(res.status).toBe(303);
  return browser;
}

describe("the sign-in page", () => {
  it("prefills the email given as login_hint, escaped", async () => {
    const { clientId } = await registerClient();
    const html = await (await SELF.fetch(`${request(clientId)}&login_hint=${encodeURIComponent('ada"<b>@example.com')}`)).text();
    expect(html).toContain('value="ada&quot;&lt;b&gt;@example.com"');
  });
});

describe("consent", () => {
  it("is not asked again of an app staff registered while the grant it gave is alive", async () => {
    const client = await registerClient();
    const user = await signUp();
    const first = await login({ user, client, scopes: ["profile"] });
    const browser = await signedIn(user, client.clientId);
    const again = await browser.fetch(request(client.clientId));
    expect(again.status).toBe(303);
    const code = new URL(again.headers.get("Location")!).searchParams.get("code");
    expect(code).toBeTruthy();
    // Once the user takes the grant back, the app must ask again.
    await tokenRequest({ grant_type: "refresh_token", refresh_token: first.tokens.refresh_token, client_id: client.clientId }).then(async (r) => {
      const { refresh_token } = (await r.json()) as { refresh_token: string };
      await SELF.fetch("http://hey.test/o/revoke_token/", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: refresh_token, client_id: client.clientId }).toString() });
    });
    const asked = await browser.fetch(request(client.clientId));
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain('value="approve"');
  });

  it("is asked again for more scopes than the live grant holds", async () => {
    const client = await registerClient();
    const user = await signUp();
    await login({ user, client, scopes: ["profile"] });
    const browser = await signedIn(user, client.clientId);
    const wider = await browser.fetch(request(client.clientId, "profile read:messages"));
    expect(wider.status).toBe(200);
    expect(await wider.text()).toContain('value="approve"');
  });

  it("is always asked of a self-registered app", async () => {
    const registered = await api("/o/register/", { method: "POST", json: { client_name: "Some Tool", redirect_uris: [REDIRECT_URI] } });
    const { client_id } = (await registered.json()) as { client_id: string };
    const user = await signUp();
    await login({ user, client: { clientId: client_id }, scopes: ["profile"] });
    const browser = await signedIn(user, client_id);
    const again = await browser.fetch(request(client_id));
    expect(again.status).toBe(200);
    expect(await again.text()).toContain("Unverified app");
  });
});
