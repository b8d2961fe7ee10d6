import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { config } from "../src/config";
import { api, problemOf } from "./support/http";
import { authorizeUrl, Browser, csrfOf, login, pkce, REDIRECT_URI, registerClient } from "./support/oauth";

/** PATCH /api/users/me/ on the app as deployed, with `vars` (lowered limits) in its env. */
function patchMe(token: string, json: unknown, vars: Record<string, string> = {}) {
  const init = { method: "PATCH", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(json) };
  return createApp().request("http://hey.test/api/users/me/", init, { ...env, ...vars });
}

/** A sign-in form that `attempt` posts to as often as a test likes, as one browser would. */
async function signInForm() {
  const { clientId } = await registerClient();
  const url = authorizeUrl({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: pkce().challenge, code_challenge_method: "S256" });
  const browser = new Browser();
  const csrf = csrfOf(await (await browser.fetch(url)).text());
  return { attempt: async (email: string, password: string) => (await browser.post(url, { csrf_token: csrf, email, password })).status };
}

const passwordHashOf = async (id: number) => (await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(id).first<{ password_hash: string }>())!.password_hash;
const rowOf = (id: number) => env.DB.prepare("SELECT phone_number, bio FROM users WHERE id = ?").bind(id).first<{ phone_number: string | null; bio: string | null }>();

async function expectLimited(res: Response, policy: string) {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  expect(res.headers.get("RateLimit-Policy")).toBe(policy);
  expect(res.headers.get("RateLimit")).toMatch(/;r=0;t=\d+$/);
  const { contentType, body } = await problemOf(res);
  expect(contentType).toBe("application/problem+json");
  expect(body).toMatchObject({ status: 429, detail: expect.stringMatching(/^Too many .*; retry in \d+ s\.$/) });
}

describe("re-authentication (current_password on PATCH /api/users/me/)", () => {
  const limited = { RATE_PASSWORD_LIMIT: "3" };
  const guess = (i: number) => ({ current_password: `wrong password ${i}`, new_password: "a brand new password" });

  it("stops a stolen token guessing the password in parallel: of 25 concurrent wrong guesses only the limit's worth are checked, the rest get 429", async () => {
    const { user, token } = await login();
    const before = await passwordHashOf(user.id);
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => patchMe(token, guess(i), limited)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(22);
    await expectLimited(answers.find((r) => r.status === 429)!, '"password";q=3;w=900');
    expect(await passwordHashOf(user.id)).toBe(before);
  });

  it("refuses even the right current password once the guesses are spent, and changes nothing", async () => {
    const { user, token } = await login();
    for (let i = 0; i < 3; i++) expect((await patchMe(token, guess(i), limited)).status).toBe(400);
    const before = await passwordHashOf(user.id);
    const res = await patchMe(token, { current_password: user.password, new_password: "a brand new password" }, limited);
    await expectLimited(res, '"password";q=3;w=900');
    expect(await passwordHashOf(user.id)).toBe(before);
  });

  it("stops guesses split between the sign-in page and re-authentication: both spend the account's one bucket", async () => {
    const limit = config(env).RATE_PASSWORD_LIMIT;
    const { user, token } = await login();
    const form = await signInForm();
    for (let i = 0; i < limit; i++) expect((await patchMe(token, guess(i))).status).toBe(400);
    // The sign-in page now refuses this account, even with the right password typed in capitals...
    expect(await form.attempt(user.email.toUpperCase(), user.password)).toBe(429);

    const other = await login();
    for (let i = 0; i < limit; i++) expect(await form.attempt(other.user.email, `wrong password ${i}`)).toBe(400);
    // ...and guesses on the sign-in page leave none for re-authentication.
    expect((await patchMe(other.token, { current_password: other.user.password, new_password: "a brand new password" })).status).toBe(429);
  });

  it("does not lock out a user who gets the current password right: a right one refills the guesses", async () => {
    const { user, token } = await login();
    for (let i = 0; i < 2; i++) expect((await patchMe(token, guess(i), limited)).status).toBe(400);
    const changed = await patchMe(token, { current_password: user.password, new_password: "a brand new password" }, limited);
    expect(changed.status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await patchMe(token, guess(i), limited)).status).toBe(400);
  });

  it("spends no guess on a change that checks no password, or that names no current password", async () => {
    const { token } = await login();
    for (let i = 0; i < 5; i++) {
      expect((await patchMe(token, { bio: `take ${i}`, current_password: "ignored without new_password" }, limited)).status).toBe(200);
      expect((await patchMe(token, { new_password: "a brand new password" }, limited)).status).toBe(400);
    }
    expect((await patchMe(token, guess(0), limited)).status).toBe(400);
  });
});

describe("phone numbers", () => {
  const limited = { RATE_PHONE_LIMIT: "2" };

  it("stops one user cycling through phone numbers: new numbers are limited per user, and a refused change writes nothing", async () => {
    const { user, token } = await login();
    expect((await patchMe(token, { phone_number: "+14155550301" }, limited)).status).toBe(200);
    expect((await patchMe(token, { phone_number: "+14155550302" }, limited)).status).toBe(200);
    await expectLimited(await patchMe(token, { phone_number: "+14155550303", bio: "changed" }, limited), '"phone";q=2;w=86400');
    expect(await rowOf(user.id)).toEqual({ phone_number: "+14155550302", bio: null });
    // Another user has their own allowance.
    const other = await login();
    expect((await patchMe(other.token, { phone_number: "+14155550303" }, limited)).status).toBe(200);
  });

  it("holds the phone limit under concurrent changes", async () => {
    const { token } = await login();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => patchMe(token, { phone_number: `+1415555040${i}` }, limited)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, ...Array<number>(8).fill(429)]);
  });

  it("does not count an unchanged number or other edits, and always lets a user remove their number", async () => {
    const { user, token } = await login();
    for (const phone_number of ["+14155550501", "+14155550502"]) expect((await patchMe(token, { phone_number }, limited)).status).toBe(200);
    expect((await patchMe(token, { phone_number: "+14155550502", bio: "same number" }, limited)).status).toBe(200);
    expect((await patchMe(token, { first_name: "Still", last_name: "Editable" }, limited)).status).toBe(200);
    expect((await patchMe(token, { phone_number: null }, limited)).status).toBe(200);
    expect(await rowOf(user.id)).toEqual({ phone_number: null, bio: "same number" });
  });

  it("never reveals whether a number is on Hey: two users may hold the same number", async () => {
    const a = await login();
    const b = await login();
    expect((await api("/api/users/me/", { method: "PATCH", token: a.token, json: { phone_number: "+14155550600" } })).status).toBe(200);
    const res = await api("/api/users/me/", { method: "PATCH", token: b.token, json: { phone_number: "+14155550600" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ phone_number: "+14155550600" });
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE phone_number = ?").bind("+14155550600").first<{ n: number }>())!;
    expect(n).toBe(2);
  });
});
