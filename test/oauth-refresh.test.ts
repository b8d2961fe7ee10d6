import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createClient } from "../src/auth/oauth/clients";
import { USER_SCOPES } from "../src/auth/scopes";
import { hashSecret } from "../src/auth/secrets";
import { database } from "../src/db/client";
import { api, ORIGIN } from "./support/http";
import { login, REDIRECT_URI, registerClient, tokenRequest, type Tokens } from "./support/oauth";

// Refresh-token rotation (RFC 6749 §6, RFC 9700 §4.14), token lifetime, revocation (RFC 7009) and
// introspection (RFC 7662).

type Basic = { clientId: string; secret: string };
/** A public client (no secret) or a confidential one. */
type Client = { clientId: string; secret?: string | null };

function refresh(refreshToken: string, clientId: string, scope?: string) {
  return tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId, ...(scope === undefined ? {} : { scope }) });
}

/** POSTs a form to /o/revoke_token/ or /o/introspect/, as a public client (client_id) or with HTTP Basic. */
function tokenForm(path: "/o/revoke_token/" | "/o/introspect/", fields: Record<string, string>, client: Client) {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (client.secret) headers.Authorization = `Basic ${btoa(`${client.clientId}:${client.secret}`)}`;
  const body = new URLSearchParams(client.secret ? fields : { ...fields, client_id: client.clientId });
  return SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers, body: body.toString() });
}

const revoke = (token: string, client: Client, hint?: string) =>
  tokenForm("/o/revoke_token/", hint ? { token, token_type_hint: hint } : { token }, client);

const status = async (token: string, path = "/api/users/me") => (await api(path, { token })).status;

async function refreshed(res: Response): Promise<Tokens> {
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

async function expectInvalidGrant(res: Response) {
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: "invalid_grant" });
}

/** A confidential client; `introspect` lets it look up other clients' tokens, as a resource server does. */
async function confidentialClient(introspect = false): Promise<Basic> {
  const { client, secret } = await createClient(database(env.DB), { name: "Backend", redirectUris: [REDIRECT_URI], confidential: true, scopes: USER_SCOPES, introspect });
  return { clientId: client.id, secret: secret! };
}

describe("refresh", () => {
  it("rotates the refresh token on every use and refuses the spent one once its successor was used", async () => {
    const { client, tokens } = await login();
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect(await status(next.access_token)).toBe(200);
    // Before that, the spent one is a retry and gets the same answer (test/refresh-retry.test.ts).
    await refreshed(await refresh(next.refresh_token, client.clientId));
    await expectInvalidGrant(await refresh(tokens.refresh_token, client.clientId));
  });

  it("revokes the whole family when a rotated refresh token is presented again", async () => {
    const { client, tokens } = await login();
    const second = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    const third = await refreshed(await refresh(second.refresh_token, client.clientId));

    await expectInvalidGrant(await refresh(tokens.refresh_token, client.clientId));
    await expectInvalidGrant(await refresh(third.refresh_token, client.clientId));
    for (const access of [tokens.access_token, second.access_token, third.access_token]) expect(await status(access)).toBe(401);
  });

  it("narrows the scope on request, and the narrowed access token is refused where a dropped scope is needed", async () => {
    const { client, tokens } = await login();
    const narrow = await refreshed(await refresh(tokens.refresh_token, client.clientId, "read:messages"));
    expect(narrow.scope).toBe("read:messages");
    // Still a valid token where read:messages is enough.
    expect(await status(narrow.access_token, "/api/conversations/")).toBe(200);
    const res = await api("/api/users/me", { token: narrow.access_token });
    expect(res.status).toBe(403);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
  });

  it("keeps the refresh token's full scope after a narrowed refresh", async () => {
    // RFC 6749 §6: a new refresh token has exactly the scope of the one presented; only the access token narrows.
    const { client, tokens } = await login({ scopes: ["profile", "read:messages"] });
    const narrow = await refreshed(await refresh(tokens.refresh_token, client.clientId, "read:messages"));
    const full = await refreshed(await refresh(narrow.refresh_token, client.clientId));
    expect(full.scope.split(" ").sort()).toEqual(["profile", "read:messages"]);
    expect(await status(full.access_token)).toBe(200);
  });

  it("refuses to widen the scope with invalid_scope and leaves the refresh token usable", async () => {
    const { client, tokens } = await login({ scopes: ["read:messages"] });
    for (const scope of ["read:messages profile", "profile", "read:messages no-such-scope"]) {
      const res = await refresh(tokens.refresh_token, client.clientId, scope);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_scope" });
    }
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    expect(next.scope).toBe("read:messages");
  });

  it("gives two concurrent refreshes of one token the same new tokens (the later is a retry), and keeps the grant", async () => {
    const { client, tokens } = await login();
    const responses = await Promise.all([refresh(tokens.refresh_token, client.clientId), refresh(tokens.refresh_token, client.clientId)]);
    const [a, b] = await Promise.all(responses.map(refreshed));
    expect([b!.access_token, b!.refresh_token]).toEqual([a!.access_token, a!.refresh_token]);
    expect(await status(a!.access_token)).toBe(200);
    await refreshed(await refresh(a!.refresh_token, client.clientId));
  });

  it("refuses a refresh token presented by another client, which leaves it to its own client", async () => {
    const { client, tokens } = await login();
    const other = await registerClient();
    await expectInvalidGrant(await refresh(tokens.refresh_token, other.clientId));
    await refreshed(await refresh(tokens.refresh_token, client.clientId));
  });
});

describe("access token lifetime", () => {
  it("answers an expired access token with 401 and error=\"invalid_token\"", async () => {
    const { token } = await login();
    expect(await status(token)).toBe(200);
    const updated = await env.DB.prepare("UPDATE oauth_tokens SET expires_at = ? WHERE hash = ?").bind(Date.now() - 1000, hashSecret(token)).run();
    expect(updated.meta.changes).toBe(1);
    const res = await api("/api/users/me", { token });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });
});

describe("revocation", () => {
  it("ends the access token along with the refresh token it was issued with", async () => {
    const { client, tokens } = await login();
    expect((await revoke(tokens.refresh_token, client)).status).toBe(200);
    expect(await status(tokens.access_token)).toBe(401);
    await expectInvalidGrant(await refresh(tokens.refresh_token, client.clientId));
  });

  it("ends only the access token when an access token is revoked", async () => {
    const { client, tokens } = await login();
    expect((await revoke(tokens.access_token, client)).status).toBe(200);
    expect(await status(tokens.access_token)).toBe(401);
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    expect(await status(next.access_token)).toBe(200);
  });

  it("answers 200 to the revocation of an unknown token", async () => {
    const client = await registerClient();
    const res = await revoke("no-such-token", client);
    expect(res.status).toBe(200);
  });

  it("answers 200 when a client revokes another client's tokens, and leaves them valid", async () => {
    const { client, tokens } = await login();
    const stranger = await registerClient();
    expect((await revoke(tokens.access_token, stranger)).status).toBe(200);
    expect((await revoke(tokens.refresh_token, stranger)).status).toBe(200);
    expect(await status(tokens.access_token)).toBe(200);
    await refreshed(await refresh(tokens.refresh_token, client.clientId));
  });

  it("still revokes when token_type_hint is an unknown or wrong value", async () => {
    const { client, tokens } = await login();
    expect((await revoke(tokens.access_token, client, "session_cookie")).status).toBe(200);
    expect(await status(tokens.access_token)).toBe(401);
    expect((await revoke(tokens.refresh_token, client, "access_token")).status).toBe(200);
    await expectInvalidGrant(await refresh(tokens.refresh_token, client.clientId));
  });
});

describe("introspection", () => {
  it("describes a live token to a confidential client, and reports it inactive once revoked", async () => {
    const { user, client, tokens } = await login({ scopes: ["profile", "read:messages"] });
    const server = await confidentialClient(true);
    const res = await tokenForm("/o/introspect/", { token: tokens.access_token }, server);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as { active: boolean; scope: string; client_id: string; sub: string; exp: number };
    expect(body).toMatchObject({ active: true, client_id: client.clientId, sub: String(user.id) });
    expect(body.scope.split(" ").sort()).toEqual(["profile", "read:messages"]);
    expect(body.exp).toBeGreaterThan(Date.now() / 1000);
    expect(body.exp).toBeLessThanOrEqual(Date.now() / 1000 + 3600);

    expect((await revoke(tokens.access_token, client)).status).toBe(200);
    const after = await tokenForm("/o/introspect/", { token: tokens.access_token }, server);
    expect(await after.json()).toEqual({ active: false });
  });

  it("refuses introspection to a public client with 401 invalid_client", async () => {
    const { client, tokens } = await login();
    const res = await tokenForm("/o/introspect/", { token: tokens.access_token }, client);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
  });
});
