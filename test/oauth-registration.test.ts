import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { api, ORIGIN, problemOf, signUp } from "./support/http";
import { authorizeUrl, Browser, login, pkce, REDIRECT_URI } from "./support/oauth";

type Registered = { client_id: string; client_name: string; redirect_uris: string[]; scope: string; token_endpoint_auth_method: string };
type ClientResource = { client_id: string; name: string; redirect_uris: string[]; confidential: boolean; scopes: string[]; client_secret?: string };

function register(body: unknown): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/o/register/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("POST /o/register/ (RFC 7591)", () => {
  it.each([
    ["an https URI", "https://app.example.com/oauth/callback"],
    ["loopback http on 127.0.0.1 with a port", "http://127.0.0.1:8080/cb"],
    ["loopback http on [::1]", "http://[::1]/cb"],
    ["loopback http on localhost", "http://localhost/cb"],
    ["a private-use scheme", "com.example.app:/cb"],
  ])("registers a public client with %s", async (_, uri) => {
    const res = await register({ client_name: "Native App", redirect_uris: [uri] });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Registered;
    expect(body.client_id).toMatch(/^\S{20,}$/);
    expect(body).toMatchObject({ client_name: "Native App", redirect_uris: [uri], token_endpoint_auth_method: "none" });
    expect(body).not.toHaveProperty("client_secret");
  });

  it.each([
    ["javascript:", "javascript:alert(document.cookie)"],
    ["data:", "data:text/html,<script>alert(1)</script>"],
    ["non-loopback http", "http://app.example.com/cb"],
    ["http on a host that only starts like localhost", "http://localhost.evil.example/cb"],
    ["an https URI with a fragment", "https://app.example.com/cb#frag"],
    ["a private-use URI with a fragment", "com.example.app:/cb#x"],
    ["a relative URI", "/cb"],
  ])("refuses %s with invalid_redirect_uri", async (_, uri) => {
    const res = await register({ client_name: "Bad App", redirect_uris: ["https://app.example.com/ok", uri] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_redirect_uri" });
  });

  it("refuses metadata without a client name with invalid_client_metadata", async () => {
    const res = await register({ redirect_uris: ["https://app.example.com/cb"] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_client_metadata" });
  });

  it("refuses an unknown scope", async () => {
    const res = await register({ client_name: "App", redirect_uris: ["https://app.example.com/cb"], scope: "profile admin" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_client_metadata" });
  });

  it("lets a registered client complete the flow and use its token", async () => {
    const res = await register({ client_name: "Flow App", redirect_uris: [REDIRECT_URI] });
    const { client_id } = (await res.json()) as Registered;
    const { user, token } = await login({ client: { clientId: client_id } });
    const me = await api("/api/users/me/", { token });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id });
  });

  it("keeps a client to the scope it registered", async () => {
    const res = await register({ client_name: "Narrow App", redirect_uris: [REDIRECT_URI], scope: "profile" });
    const { client_id, scope } = (await res.json()) as Registered;
    expect(scope).toBe("profile");
    const url = authorizeUrl({
      response_type: "code",
      client_id,
      redirect_uri: REDIRECT_URI,
      scope: "profile send:messages",
      state: "st",
      code_challenge: pkce().challenge,
      code_challenge_method: "S256",
    });
    const answer = await new Browser().fetch(url);
    expect(answer.status).toBe(303);
    expect(new URL(answer.headers.get("Location")!).searchParams.get("error")).toBe("invalid_scope");
  });
});

describe("GET /.well-known/oauth-authorization-server", () => {
  it("describes the issuer, every endpoint, and PKCE S256 with code only", async () => {
    const res = await SELF.fetch(`${ORIGIN}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/o/authorize/`,
      token_endpoint: `${ORIGIN}/o/token/`,
      revocation_endpoint: `${ORIGIN}/o/revoke_token/`,
      introspection_endpoint: `${ORIGIN}/o/introspect/`,
      registration_endpoint: `${ORIGIN}/o/register/`,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
      authorization_response_iss_parameter_supported: true,
    });
  });

  it("names endpoints that exist", async () => {
    const meta = (await (await SELF.fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    for (const key of ["token_endpoint", "revocation_endpoint", "introspection_endpoint", "registration_endpoint"]) {
      const res = await SELF.fetch(String(meta[key]), { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "" });
      expect(res.status, key).not.toBe(404);
    }
  });
});

describe("staff management of clients at /api/oauth/clients/", () => {
  let staff: string;
  let plain: string;

  beforeAll(async () => {
    const user = await signUp();
    await env.DB.prepare("UPDATE users SET is_staff = 1 WHERE id = ?").bind(user.id).run();
    staff = (await login({ user })).token;
    plain = (await login()).token;
  });

  const create = (token: string, json: unknown) => api("/api/oauth/clients/", { method: "POST", token, json });

  it("answers 401 without a token", async () => {
    expect((await api("/api/oauth/clients/")).status).toBe(401);
  });

  it("refuses a non-staff token with 403 on list, create and delete", async () => {
    expect((await api("/api/oauth/clients/", { token: plain })).status).toBe(403);
    expect((await create(plain, { name: "Sneaky", redirect_uris: ["https://x.example/cb"] })).status).toBe(403);
    const { client_id } = (await (await create(staff, { name: "Kept", redirect_uris: ["https://kept.example/cb"] })).json()) as ClientResource;
    expect((await api(`/api/oauth/clients/${client_id}/`, { method: "DELETE", token: plain })).status).toBe(403);
    const list = (await (await api("/api/oauth/clients/", { token: staff })).json()) as ClientResource[];
    expect(list.map((c) => c.client_id)).toContain(client_id);
  });

  it("creates a confidential client, shows its secret once and stores only the SHA-256 hash", async () => {
    const res = await create(staff, { name: "Backend", redirect_uris: ["https://backend.example/cb"], confidential: true, scopes: ["profile"] });
    expect(res.status).toBe(201);
    const client = (await res.json()) as ClientResource;
    expect(client).toMatchObject({ name: "Backend", confidential: true, scopes: ["profile"], redirect_uris: ["https://backend.example/cb"] });
    expect(client.client_secret).toMatch(/^\S{20,}$/);
    const row = await env.DB.prepare("SELECT secret_hash FROM oauth_clients WHERE id = ?").bind(client.client_id).first<{ secret_hash: string }>();
    expect(row!.secret_hash).toBe(await sha256Hex(client.client_secret!));

    const listed = await api("/api/oauth/clients/", { token: staff });
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(client.client_secret!);
    const entry = (JSON.parse(text) as ClientResource[]).find((c) => c.client_id === client.client_id);
    expect(entry).toMatchObject({ name: "Backend", confidential: true });
    expect(entry).not.toHaveProperty("client_secret");
  });

  it("creates a public client without a secret", async () => {
    const res = await create(staff, { name: "SPA", redirect_uris: ["https://spa.example/cb"] });
    expect(res.status).toBe(201);
    const client = (await res.json()) as ClientResource;
    expect(client.confidential).toBe(false);
    expect(client).not.toHaveProperty("client_secret");
    const row = await env.DB.prepare("SELECT secret_hash FROM oauth_clients WHERE id = ?").bind(client.client_id).first<{ secret_hash: string | null }>();
    expect(row!.secret_hash).toBeNull();
  });

  it("deletes a client with 204, then answers 404, and its tokens stop working", async () => {
    const created = (await (await create(staff, { name: "Doomed", redirect_uris: [REDIRECT_URI] })).json()) as ClientResource;
    const { token } = await login({ client: { clientId: created.client_id } });
    expect((await api("/api/users/me/", { token })).status).toBe(200);

    const del = await api(`/api/oauth/clients/${created.client_id}/`, { method: "DELETE", token: staff });
    expect(del.status).toBe(204);
    const again = await api(`/api/oauth/clients/${created.client_id}/`, { method: "DELETE", token: staff });
    expect(again.status).toBe(404);
    expect(again.headers.get("Content-Type")).toBe("application/problem+json");
    const list = (await (await api("/api/oauth/clients/", { token: staff })).json()) as ClientResource[];
    expect(list.map((c) => c.client_id)).not.toContain(created.client_id);
    expect((await api("/api/users/me/", { token })).status).toBe(401);
  });

  it.each([
    ["javascript:", "javascript:alert(1)"],
    ["non-loopback http", "http://app.example.com/cb"],
    ["a fragment", "https://app.example.com/cb#f"],
  ])("refuses a redirect URI with %s with 400 problem+json", async (_, uri) => {
    const res = await create(staff, { name: "Bad", redirect_uris: [uri] });
    expect(res.status).toBe(400);
    const { contentType, body } = await problemOf(res);
    expect(contentType).toBe("application/problem+json");
    expect(body.errors?.[0]?.path).toMatch(/^redirect_uris/);
  });

  it("refuses an unknown scope with 400", async () => {
    const res = await create(staff, { name: "Bad", redirect_uris: ["https://a.example/cb"], scopes: ["superuser"] });
    expect(res.status).toBe(400);
  });
});
