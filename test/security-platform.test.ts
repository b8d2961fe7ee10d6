import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { config, ConfigError } from "../src/config";
import { clientIp } from "../src/limits/client-address";
import { CLOSE } from "../src/realtime/protocol";
import { start } from "./support/conversations";
import { api, appWith, ORIGIN } from "./support/http";
import { authorizeUrl, login, pkce, registerClient } from "./support/oauth";
import { closedWithin, openReady } from "./support/ws";

// What Hey trusts from its host and its configuration (issue 10), each test named for the attack it stops.

describe("the issuer", () => {
  const noIssuer = appWith({ ISSUER: undefined });

  it("is refused, not taken from Host, when ISSUER is unset on a non-loopback host", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const meta = await noIssuer("https://attacker-chosen.example/.well-known/oauth-authorization-server");
    expect(meta.status).toBe(503);
    expect(await meta.json()).toMatchObject({ error: "server_error" });
    const token = await noIssuer("https://attacker-chosen.example/o/token/", { form: { grant_type: "refresh_token", refresh_token: "x", client_id: "y" } });
    expect(token.status).toBe(503);
    // The operator learns why from the log.
    expect(logged).toHaveBeenCalledWith(expect.stringContaining("ISSUER is not set"));
    logged.mockRestore();
  });

  it("comes from the origin in local development on a loopback host", async () => {
    const meta = await noIssuer("http://127.0.0.1:8787/.well-known/oauth-authorization-server");
    expect(((await meta.json()) as { issuer: string }).issuer).toBe("http://127.0.0.1:8787");
  });

  it("is ISSUER whatever Host the request names", async () => {
    const meta = await appWith({})("https://attacker-chosen.example/.well-known/oauth-authorization-server");
    expect(((await meta.json()) as { issuer: string }).issuer).toBe(ORIGIN);
  });
});

describe("loopback redirect URIs", () => {
  const url = (clientId: string, redirect: string) =>
    authorizeUrl({ response_type: "code", client_id: clientId, redirect_uri: redirect, state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });

  it("registered with a port (the web app under wrangler dev) cannot be answered on another local port", async () => {
    const { clientId } = await registerClient({ redirectUris: ["http://127.0.0.1:8787/app/callback"] });
    const other = await appWith({})(url(clientId, "http://127.0.0.1:9999/app/callback"));
    expect(other.status).toBe(400);
    expect(await other.text()).toContain("not registered");
    expect((await appWith({})(url(clientId, "http://127.0.0.1:8787/app/callback"))).status).toBe(200);
  });
});

describe("configuration", () => {
  it.each([
    ["RATE_SEND_LIMIT", "abc"],
    ["RATE_SEND_LIMIT", "0"],
    ["ACCESS_TOKEN_TTL_SECONDS", "12abc"],
    ["GROUP_COMMIT_MAX_BATCH", "5000"],
    ["ISSUER", "not a url"],
    ["OAUTH_DYNAMIC_REGISTRATION", "yes"],
  ])("%s=%s is an error naming the var, not a silent default", (name, value) => {
    expect(() => config({ [name]: value })).toThrow(ConfigError);
    expect(() => config({ [name]: value })).toThrow(name);
  });

  it("accepts whole numbers given as strings or numbers", () => {
    expect(config({ RATE_SEND_LIMIT: "7", RATE_SEND_WINDOW_SECONDS: 3 })).toMatchObject({ RATE_SEND_LIMIT: 7, RATE_SEND_WINDOW_SECONDS: 3 });
  });

  it("a misconfigured Worker refuses every request with a 500 that does not expose the configuration", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await appWith({ RATE_SEND_LIMIT: "abc" })("/healthz");
    expect(logged).toHaveBeenCalledWith(expect.stringContaining("RATE_SEND_LIMIT"));
    logged.mockRestore();
    expect(res.status).toBe(500);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await res.text()).not.toContain("RATE_SEND_LIMIT");
  });
});

describe("bearer authentication (RFC 6750 §3.1)", () => {
  it("answers another scheme with a bare challenge, as for no credentials", async () => {
    const res = await api("/api/users/me/", { headers: { Authorization: "Basic dXNlcjpwYXNz" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="hey"');
  });

  it.each(["Bearer", "Bearer two tokens", "Bearer bad%token"])("answers the malformed header %j with 400 invalid_request", async (header) => {
    const res = await api("/api/users/me/", { headers: { Authorization: header } });
    expect(res.status).toBe(400);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_request"');
  });
});

describe("client addresses", () => {
  it("group IPv6 addresses by /64 and read IPv4-mapped ones as IPv4", () => {
    expect(clientIp("2001:db8:aa:bb::1")).toBe(clientIp("2001:0db8:00aa:00bb:ffff:ffff:ffff:fffe"));
    expect(clientIp("2001:db8:aa:bb::1")).not.toBe(clientIp("2001:db8:aa:bc::1"));
    expect(clientIp("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(clientIp("203.0.113.9")).toBe("203.0.113.9");
    expect(clientIp(undefined)).toBe("local");
  });

  it("a client rotating through its /64 shares one sign-up bucket", async () => {
    const call = appWith({ RATE_SIGNUP_LIMIT: "1" });
    const signUp = (ip: string, n: number) =>
      call("/api/users/", { ip, method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: `v6-${n}-${crypto.randomUUID()}@example.com`, password: "a long enough password" }) });
    expect((await signUp("2001:db8:77::1", 1)).status).toBe(201);
    expect((await signUp("2001:db8:77:0:dead:beef:0:2", 2)).status).toBe(429);
    expect((await signUp("2001:db8:78::1", 3)).status).toBe(201);
  });
});

describe("deleting a client", () => {
  it("closes the sockets opened with its tokens (4001) and ends the tokens", async () => {
    const staffUser = await (async () => {
      const { user } = await login();
      await env.DB.prepare("UPDATE users SET is_staff = 1 WHERE id = ?").bind(user.id).run();
      return (await login({ user })).token;
    })();
    const client = await registerClient();
    const member = await login({ client });
    const conversation = await start(member, []);
    const socket = await openReady(conversation.id, { token: member.token });
    expect((await api(`/api/oauth/clients/${client.clientId}/`, { method: "DELETE", token: staffUser })).status).toBe(204);
    expect((await closedWithin(socket)).code).toBe(CLOSE.reauthenticate);
    expect((await api("/api/users/me/", { token: member.token })).status).toBe(401);
  });
});
