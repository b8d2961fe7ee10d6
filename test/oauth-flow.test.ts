import { SELF } from "cloudflare:test";
import { CodeChallengeMethod, generateCodeVerifier, generateState, OAuth2Client, OAuth2RequestError } from "arctic";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { api, ORIGIN, signUp } from "./support/http";
import { Browser, csrfOf, REDIRECT_URI, registerClient } from "./support/oauth";

// The whole authorization-code flow driven by a real OAuth client library (arctic), against the real
// sign-in and consent pages. arctic calls the global fetch; here that goes to the Worker and nowhere else.

type Metadata = { issuer: string; authorization_endpoint: string; token_endpoint: string; revocation_endpoint: string; code_challenge_methods_supported: string[] };
type Sent = { url: string; authorization: string | null; body: URLSearchParams };

let sent: Sent[] = [];

beforeEach(() => {
  sent = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (new URL(request.url).origin !== ORIGIN) throw new Error(`the test tried to reach the network: ${request.url}`);
    sent.push({ url: request.url, authorization: request.headers.get("Authorization"), body: new URLSearchParams(new TextDecoder().decode(await request.clone().arrayBuffer())) });
    return SELF.fetch(request);
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

async function metadata(): Promise<Metadata> {
  const res = await api("/.well-known/oauth-authorization-server");
  expect(res.status).toBe(200);
  return (await res.json()) as Metadata;
}

/** Signs in and approves on the real pages, as a person in a browser would; returns the callback URL. */
async function signInAndApprove(url: URL, user: { email: string; password: string }, clientName: string): Promise<URL> {
  const browser = new Browser();
  const loginPage = await browser.fetch(url.toString());
  expect(loginPage.status).toBe(200);
  const loginHtml = await loginPage.text();
  expect(loginHtml).toContain('name="password"');
  expect(loginHtml).toContain(clientName);

  const signedIn = await browser.post(url.toString(), { csrf_token: csrfOf(loginHtml), email: user.email, password: user.password });
  expect(signedIn.status).toBe(303);
  const consentPage = await browser.fetch(signedIn.headers.get("Location")!);
  expect(consentPage.status).toBe(200);
  const consentHtml = await consentPage.text();
  expect(consentHtml).toContain(`Allow ${clientName}?`);
  expect(consentHtml).toContain(`Signed in as ${user.email}`);

  const approved = await browser.post(url.toString(), { csrf_token: csrfOf(consentHtml), decision: "approve" });
  expect(approved.status).toBe(303);
  return new URL(approved.headers.get("Location")!);
}

const profileOf = (token: string) => api("/api/users/me", { token });

it("takes a public client through sign-in, consent, code exchange, refresh and revocation", async () => {
  const meta = await metadata();
  expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
  const user = await signUp();
  const { clientId } = await registerClient({ name: "Flow App" });
  const client = new OAuth2Client(clientId, null, REDIRECT_URI);

  const state = generateState();
  const verifier = generateCodeVerifier();
  const url = client.createAuthorizationURLWithPKCE(meta.authorization_endpoint, state, CodeChallengeMethod.S256, verifier, ["profile", "read:messages"]);
  const callback = await signInAndApprove(url, user, "Flow App");

  expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
  expect(callback.searchParams.get("state")).toBe(state);
  expect(callback.searchParams.get("iss")).toBe(meta.issuer);
  expect(callback.searchParams.get("error")).toBeNull();
  const code = callback.searchParams.get("code")!;
  expect(code).toBeTruthy();

  const tokens = await client.validateAuthorizationCode(meta.token_endpoint, code, verifier);
  expect(tokens.tokenType()).toBe("Bearer");
  expect(tokens.accessTokenExpiresInSeconds()).toBe(3600);
  expect(tokens.scopes().sort()).toEqual(["profile", "read:messages"]);

  const me = await profileOf(tokens.accessToken());
  expect(me.status).toBe(200);
  expect(await me.json()).toMatchObject({ id: user.id, email: user.email });

  const refreshed = await client.refreshAccessToken(meta.token_endpoint, tokens.refreshToken(), []);
  expect(refreshed.refreshToken()).not.toBe(tokens.refreshToken());
  expect(refreshed.accessToken()).not.toBe(tokens.accessToken());
  expect(refreshed.scopes().sort()).toEqual(["profile", "read:messages"]);
  expect((await profileOf(refreshed.accessToken())).status).toBe(200);
  // Rotation spends the refresh token only: the access token issued alongside it lives until it expires.
  expect((await profileOf(tokens.accessToken())).status).toBe(200);

  await client.revokeToken(meta.revocation_endpoint, refreshed.refreshToken());
  const spent = await client.refreshAccessToken(meta.token_endpoint, refreshed.refreshToken(), []).catch((e: unknown) => e);
  expect(spent).toBeInstanceOf(OAuth2RequestError);
  expect((spent as OAuth2RequestError).code).toBe("invalid_grant");
  // Revoking the refresh token ended the grant: every access token issued under it is dead too.
  expect((await profileOf(refreshed.accessToken())).status).toBe(401);
  expect((await profileOf(tokens.accessToken())).status).toBe(401);

  // A public client identifies itself with client_id in the body and never sends credentials.
  expect(sent.map((s) => new URL(s.url).pathname)).toEqual(["/o/token/", "/o/token/", "/o/revoke_token/", "/o/token/"]);
  for (const request of sent) {
    expect(request.authorization).toBeNull();
    expect(request.body.get("client_id")).toBe(clientId);
  }
});

it("takes a confidential client through the flow with its secret sent as HTTP Basic", async () => {
  const meta = await metadata();
  const user = await signUp();
  const { clientId, secret } = await registerClient({ name: "Server App", confidential: true });
  const client = new OAuth2Client(clientId, secret!, REDIRECT_URI);

  const state = generateState();
  const verifier = generateCodeVerifier();
  const url = client.createAuthorizationURLWithPKCE(meta.authorization_endpoint, state, CodeChallengeMethod.S256, verifier, ["profile"]);
  const callback = await signInAndApprove(url, user, "Server App");
  expect(callback.searchParams.get("state")).toBe(state);
  expect(callback.searchParams.get("iss")).toBe(meta.issuer);

  const tokens = await client.validateAuthorizationCode(meta.token_endpoint, callback.searchParams.get("code")!, verifier);
  expect(tokens.scopes()).toEqual(["profile"]);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.authorization).toBe(`Basic ${btoa(`${clientId}:${secret}`)}`);
  expect(sent[0]!.body.has("client_id")).toBe(false);
  expect(sent[0]!.body.has("client_secret")).toBe(false);
  expect((await profileOf(tokens.accessToken())).status).toBe(200);

  // The same client with a wrong secret is turned away, and that costs the real client nothing.
  const impostor = new OAuth2Client(clientId, "not-the-secret", REDIRECT_URI);
  const refused = await impostor.refreshAccessToken(meta.token_endpoint, tokens.refreshToken(), []).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(OAuth2RequestError);
  expect((refused as OAuth2RequestError).code).toBe("invalid_client");

  const refreshed = await client.refreshAccessToken(meta.token_endpoint, tokens.refreshToken(), []);
  expect(refreshed.refreshToken()).not.toBe(tokens.refreshToken());
  expect((await profileOf(refreshed.accessToken())).status).toBe(200);

  // Revoking an access token ends that token alone.
  await client.revokeToken(meta.revocation_endpoint, refreshed.accessToken());
  expect((await profileOf(refreshed.accessToken())).status).toBe(401);
  const again = await client.refreshAccessToken(meta.token_endpoint, refreshed.refreshToken(), []);
  expect((await profileOf(again.accessToken())).status).toBe(200);
  expect(sent.every((s) => s.authorization?.startsWith("Basic "))).toBe(true);
});

it("brings a user who denies consent back to the client with access_denied and no code", async () => {
  const meta = await metadata();
  const user = await signUp();
  const { clientId } = await registerClient({ name: "Denied App" });
  const client = new OAuth2Client(clientId, null, REDIRECT_URI);
  const state = generateState();
  const url = client.createAuthorizationURLWithPKCE(meta.authorization_endpoint, state, CodeChallengeMethod.S256, generateCodeVerifier(), ["profile"]);

  const browser = new Browser();
  const loginHtml = await (await browser.fetch(url.toString())).text();
  const signedIn = await browser.post(url.toString(), { csrf_token: csrfOf(loginHtml), email: user.email, password: user.password });
  const consentHtml = await (await browser.fetch(signedIn.headers.get("Location")!)).text();
  const denied = await browser.post(url.toString(), { csrf_token: csrfOf(consentHtml), decision: "deny" });
  expect(denied.status).toBe(303);
  const callback = new URL(denied.headers.get("Location")!);
  expect(callback.searchParams.get("error")).toBe("access_denied");
  expect(callback.searchParams.get("state")).toBe(state);
  expect(callback.searchParams.get("iss")).toBe(meta.issuer);
  expect(callback.searchParams.has("code")).toBe(false);
});
