import { createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { RateLimiter } from "../src/index";
import { api } from "./support/http";
import { Browser, authorizeUrl, csrfOf, login, pkce, registerClient, REDIRECT_URI } from "./support/oauth";

/** The app as deployed, but with one limit lowered for this test. */
function limitedApp(vars: Record<string, string>) {
  const app = createApp();
  return (path: string, init: RequestInit = {}) => app.request(`http://hey.test${path}`, init, { ...env, ...vars }, createExecutionContext());
}

function expectLimited(res: Response) {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  expect(res.headers.get("RateLimit-Policy")).toMatch(/^"\w+";q=\d+;w=\d+$/);
  expect(res.headers.get("RateLimit")).toMatch(/^"\w+";r=0;t=\d+$/);
}

describe("rate limits", () => {
  it("limit one user's sends across all of their conversations, with RateLimit fields on every answer", async () => {
    const a = await login();
    const convs = await Promise.all([1, 2].map(async () => ((await (await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [] } })).json()) as { id: number }).id));
    const call = limitedApp({ RATE_SEND_LIMIT: "3", RATE_SEND_WINDOW_SECONDS: "60" });
    const send = (id: number) =>
      call(`/api/conversations/${id}/messages/`, { method: "POST", headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "application/json" }, body: JSON.stringify({ message_body: "hi" }) });
    const ok = [await send(convs[0]!), await send(convs[1]!), await send(convs[0]!)];
    expect(ok.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(ok[2]!.headers.get("RateLimit")).toBe('"send";r=0;t=60');
    const limited = await send(convs[1]!);
    expectLimited(limited);
    expect(limited.headers.get("Content-Type")).toBe("application/problem+json");
    // A limited send stores nothing.
    const page = (await (await api(`/api/conversations/${convs[1]}/messages/`, { token: a.token })).json()) as { count: number };
    expect(page.count).toBe(1);
  });

  it("spend exactly one token per send when a burst of sends asks the limiter together", async () => {
    const a = await login();
    const id = ((await (await api("/api/conversations/", { method: "POST", token: a.token, json: { participants: [] } })).json()) as { id: number }).id;
    const call = limitedApp({ RATE_SEND_LIMIT: "5", RATE_SEND_WINDOW_SECONDS: "60" });
    const send = (n: number) =>
      call(`/api/conversations/${id}/messages/`, { method: "POST", headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "application/json" }, body: JSON.stringify({ message_body: `burst ${n}` }) });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, n) => send(n)));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(5);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(7);
    const page = (await (await api(`/api/conversations/${id}/messages/`, { token: a.token })).json()) as { count: number };
    expect(page.count).toBe(5);
  });

  it("limit sign-ups per address, not across addresses", async () => {
    const call = limitedApp({ RATE_SIGNUP_LIMIT: "2" });
    const signUp = (ip: string, n: number) =>
      call("/api/users/", { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip }, body: JSON.stringify({ email: `flood${ip}-${n}@example.com`, password: "a long enough password" }) });
    expect((await signUp("203.0.113.1", 1)).status).toBe(201);
    expect((await signUp("203.0.113.1", 2)).status).toBe(201);
    expectLimited(await signUp("203.0.113.1", 3));
    expect((await signUp("203.0.113.2", 1)).status).toBe(201);
  });

  it("answer a token flood with 429 in the RFC 6749 shape", async () => {
    const call = limitedApp({ RATE_TOKEN_LIMIT: "1" });
    const post = () =>
      call("/o/token/", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "198.51.100.9" }, body: "grant_type=refresh_token&refresh_token=x&client_id=nobody" });
    expect((await post()).status).not.toBe(429);
    const limited = await post();
    expectLimited(limited);
    expect(await limited.json()).toEqual({ error: "temporarily_unavailable", error_description: expect.stringContaining("retry") });
  });

  it("show the sign-in form with a message and 429 to a login flood", async () => {
    const client = await registerClient();
    const url = authorizeUrl({ response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT_URI, state: "s", code_challenge: pkce().challenge, code_challenge_method: "S256" });
    const browser = new Browser();
    const csrf = csrfOf(await (await browser.fetch(url)).text());
    const call = limitedApp({ RATE_LOGIN_LIMIT: "1" });
    const attempt = () =>
      call(new URL(url).pathname + new URL(url).search, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "), "CF-Connecting-IP": "192.0.2.44" },
        body: new URLSearchParams({ csrf_token: csrf, email: "x@example.com", password: "wrong password" }).toString(),
      });
    expect((await attempt()).status).toBe(400);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    const html = await limited.text();
    expect(html).toContain('name="password"');
    expect(html).toMatch(/Too many/);
  });

  it("keep a bucket in one Durable Object that reports what is left and refills over its window", async () => {
    const stub = env.RATE_LIMITER.getByName("test:bucket");
    await runInDurableObject(stub, (limiter: RateLimiter) => {
      const policy = { name: "t", limit: 2, windowSeconds: 10, durable: true };
      const t0 = 1_000_000;
      expect(limiter.take(policy, t0)).toMatchObject({ allowed: true, remaining: 1 });
      expect(limiter.take(policy, t0)).toMatchObject({ allowed: true, remaining: 0 });
      expect(limiter.take(policy, t0)).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 5 });
      expect(limiter.take(policy, t0 + 5_000)).toMatchObject({ allowed: true, remaining: 0 });
    });
  });
});
