import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { s256 } from "../src/auth/oauth/pkce";
import { hashSecret } from "../src/auth/secrets";
import { api, ORIGIN, signUp } from "./support/http";
import { approve, authorizeUrl, Browser, pkce, REDIRECT_URI, registerClient, tokenRequest, type Tokens } from "./support/oauth";

// The token endpoint: authorization codes, PKCE and client authentication (RFC 6749 §4.1.3, RFC 7636).

type Client = { clientId: string; secret: string | null };

/** Walks the real pages for a new user and returns an unexchanged code with its verifier. */
async function authorize(options: { client?: Client; verifier?: string; challenge?: string; redirectUri?: string; browser?: Browser } = {}) {
  const client = options.client ?? (await registerClient());
  const generated = pkce();
  const verifier = options.verifier ?? generated.verifier;
  const challenge = options.challenge ?? (options.verifier ? s256(options.verifier) : generated.challenge);
  const redirectUri = options.redirectUri ?? REDIRECT_URI;
  const params = { response_type: "code", client_id: client.clientId, redirect_uri: redirectUri, scope: "profile", state: "xyz", code_challenge: challenge, code_challenge_method: "S256" };
  const location = await approve(options.browser ?? new Browser(), authorizeUrl(params), await signUp());
  const code = location.searchParams.get("code");
  if (!code) throw new Error(`no code in ${location}`);
  return { client, code, verifier };
}

/** The token request of a public client for `code`; `overrides` replace fields, `undefined` drops one. */
function exchange(a: { client: Client; code: string; verifier: string }, overrides: Record<string, string | undefined> = {}) {
  const fields: Record<string, string | undefined> = { grant_type: "authorization_code", code: a.code, redirect_uri: REDIRECT_URI, client_id: a.client.clientId, code_verifier: a.verifier, ...overrides };
  return tokenRequest(Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)));
}

async function oauthErrorOf(res: Response) {
  return { status: res.status, body: (await res.json()) as { error: string; error_description: string } };
}

const expectError = async (res: Response, status: number, error: string) => expect(await oauthErrorOf(res)).toMatchObject({ status, body: { error } });

describe("PKCE", () => {
  it("refuses the plain code_challenge_method at the authorization endpoint with a redirect carrying invalid_request", async () => {
    const { clientId } = await registerClient();
    const { verifier } = pkce();
    const res = await new Browser().fetch(
      authorizeUrl({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URI, state: "st", code_challenge: verifier, code_challenge_method: "plain" }),
    );
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("Location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("state")).toBe("st");
    expect(location.searchParams.has("code")).toBe(false);
  });

  it("refuses a code exchange without code_verifier", async () => {
    await expectError(await exchange(await authorize(), { code_verifier: undefined }), 400, "invalid_request");
  });

  it("refuses a code exchange with the wrong code_verifier", async () => {
    await expectError(await exchange(await authorize(), { code_verifier: pkce().verifier }), 400, "invalid_grant");
  });

  // Each challenge is the S256 of the bad verifier itself, so only the verifier's form can refuse it.
  for (const [what, verifier] of [
    ["shorter than 43 characters", "a".repeat(42)],
    ["longer than 128 characters", "a".repeat(129)],
    ["with characters outside A-Z a-z 0-9 - . _ ~", `${"a".repeat(42)}+`],
  ] as const) {
    it(`refuses a code_verifier ${what}`, async () => {
      await expectError(await exchange(await authorize({ verifier })), 400, "invalid_request");
    });
  }

  it("accepts code_verifiers of exactly 43 and exactly 128 characters", async () => {
    for (const verifier of ["A".repeat(43), "aZ09-._~".repeat(16)]) {
      expect((await exchange(await authorize({ verifier }))).status).toBe(200);
    }
  });

  it("computes the RFC 7636 Appendix B challenge, and accepts that pair through the real flow", async () => {
    const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    expect(s256(verifier)).toBe(challenge);
    const res = await exchange(await authorize({ verifier, challenge }));
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as Tokens;
    expect((await api("/api/users/me", { token: tokens.access_token })).status).toBe(200);
  });
});

describe("authorization codes", () => {
  it("refuses a code after its lifetime", async () => {
    const a = await authorize();
    const updated = await env.DB.prepare("UPDATE oauth_codes SET expires_at = ? WHERE hash = ?").bind(Date.now() - 1000, hashSecret(a.code)).run();
    expect(updated.meta.changes).toBe(1);
    await expectError(await exchange(a), 400, "invalid_grant");
  });

  it("revokes every token issued from a code that is used twice", async () => {
    const a = await authorize();
    const first = await exchange(a);
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as Tokens;
    expect((await api("/api/users/me", { token: tokens.access_token })).status).toBe(200);

    await expectError(await exchange(a), 400, "invalid_grant");
    expect((await api("/api/users/me", { token: tokens.access_token })).status).toBe(401);
    const refresh = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: a.client.clientId });
    await expectError(refresh, 400, "invalid_grant");
  });

  it("refuses a code when redirect_uri differs from, or is missing but was in, the authorization request", async () => {
    const a = await authorize();
    await expectError(await exchange(a, { redirect_uri: "http://127.0.0.1/elsewhere" }), 400, "invalid_grant");
    await expectError(await exchange(a, { redirect_uri: undefined }), 400, "invalid_grant");
    // The refusals did not spend the code: the exact URI still redeems it.
    expect((await exchange(a)).status).toBe(200);
  });

  it("refuses a code presented by a client it was not issued to", async () => {
    const a = await authorize();
    const other = await registerClient();
    await expectError(await exchange(a, { client_id: other.clientId }), 400, "invalid_grant");
    expect((await exchange(a)).status).toBe(200);
  });
});

describe("client authentication", () => {
  it("answers a wrong secret sent with HTTP Basic with 401 invalid_client and a Basic challenge", async () => {
    const a = await authorize({ client: await registerClient({ confidential: true }) });
    const basic = { clientId: a.client.clientId, secret: "not-the-secret" };
    const refused = await tokenRequest({ grant_type: "authorization_code", code: a.code, redirect_uri: REDIRECT_URI, code_verifier: a.verifier }, basic);
    expect(refused.headers.get("WWW-Authenticate")).toMatch(/^Basic\b/);
    await expectError(refused, 401, "invalid_client");
  });

  it("accepts client_secret_post from a confidential client", async () => {
    const client = await registerClient({ confidential: true });
    const res = await exchange(await authorize({ client }), { client_secret: client.secret! });
    expect(res.status).toBe(200);
    expect((await api("/api/users/me", { token: ((await res.json()) as Tokens).access_token })).status).toBe(200);
  });

  it("answers a confidential client that sends no credentials with 401 invalid_client", async () => {
    const a = await authorize({ client: await registerClient({ confidential: true }) });
    await expectError(await exchange(a), 401, "invalid_client");
  });
});

describe("token endpoint responses", () => {
  it("answers an unsupported grant_type with unsupported_grant_type", async () => {
    const { clientId } = await registerClient();
    for (const grant_type of ["password", "client_credentials", "implicit"]) {
      await expectError(await tokenRequest({ grant_type, client_id: clientId, username: "a@example.com", password: "x" }), 400, "unsupported_grant_type");
    }
  });

  it("returns tokens as uncacheable JSON of exactly access_token, token_type, expires_in, refresh_token and scope", async () => {
    const res = await exchange(await authorize());
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "scope", "token_type"]);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "profile" });
    expect(body.access_token).toEqual(expect.any(String));
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(body.access_token).not.toBe(body.refresh_token);
  });

  it("answers every error as uncacheable JSON of exactly error and error_description", async () => {
    const a = await authorize();
    const failures = [
      await SELF.fetch(`${ORIGIN}/o/token/`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "" }),
      await tokenRequest({ grant_type: "magic", client_id: a.client.clientId }),
      await exchange(a, { code: "not-a-code" }),
      await exchange(a, { client_id: "no-such-client" }),
    ];
    for (const res of failures) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
      expect(body.error).toEqual(expect.stringMatching(/^[a-z_]+$/));
      expect(body.error_description).toEqual(expect.any(String));
    }
  });
});

describe("storage", () => {
  it("keeps no code, token, secret or session in clear anywhere in D1", async () => {
    const client = await registerClient({ confidential: true });
    const browser = new Browser();
    const a = await authorize({ client, browser });
    const first = (await (await exchange(a, { client_secret: client.secret! })).json()) as Tokens;
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: client.clientId, client_secret: client.secret! });
    const second = (await refreshed.json()) as Tokens;
    const session = [...browser.cookies].find(([name]) => name.includes("session"))?.[1];
    const secrets = { code: a.code, secret: client.secret!, session: session!, ...pick(first, "1"), ...pick(second, "2") };
    for (const value of Object.values(secrets)) expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { results: tables } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>();
    const names = tables.map((t) => t.name).filter((n) => !n.startsWith("sqlite_") && !n.startsWith("_cf_"));
    expect(names).toEqual(expect.arrayContaining(["oauth_codes", "oauth_tokens", "oauth_clients", "sessions"]));
    let dump = "";
    for (const name of names) dump += JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);

    for (const [what, value] of Object.entries(secrets)) {
      expect(dump.includes(value), `${what} is stored in clear`).toBe(false);
      // Stored by hash: proves the dump did cover the row this secret lives in.
      expect(dump.includes(hashSecret(value)), `${what} hash not found`).toBe(true);
    }
  });
});

function pick(tokens: Tokens, suffix: string) {
  return { [`access${suffix}`]: tokens.access_token, [`refresh${suffix}`]: tokens.refresh_token };
}
