import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { json } from "./support/conversations";
import { api, signUp } from "./support/http";
import { Browser, login } from "./support/oauth";

const NEW_PASSWORD = "a brand new passphrase";

async function staff() {
  const user = await signUp();
  await env.DB.prepare("UPDATE users SET is_staff = 1 WHERE id = ?").bind(user.id).run();
  return login({ user });
}

async function issued(admin: { token: string }, userId: number) {
  const res = await api(`/api/users/${userId}/password-reset/`, { method: "POST", token: admin.token });
  expect(res.status).toBe(201);
  const link = await json<{ url: string; expires_at: string }>(res);
  return { ...link, path: new URL(link.url).pathname, token: new URL(link.url).pathname.split("/").at(-2)! };
}

describe("password reset links", () => {
  it("staff issue a 30-minute link whose page sets a new password, signs the user out everywhere, and works once", async () => {
    const [admin, forgetful] = [await staff(), await login()];
    const link = await issued(admin, forgetful.user.id);
    expect(Date.parse(link.expires_at) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(Date.parse(link.expires_at) - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    expect(link.url).toMatch(/^http:\/\/hey\.test\/o\/reset\/[A-Za-z0-9_-]{43}\/$/);

    const browser = new Browser();
    const form = await browser.fetch(link.path);
    expect(form.status).toBe(200);
    expect(form.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(await form.text()).toContain(forgetful.user.email);

    const differ = await browser.post(link.path, { password: NEW_PASSWORD, again: "something else entirely" });
    expect(differ.status).toBe(400);
    expect(await differ.text()).toContain("The two passwords differ");
    const short = await browser.post(link.path, { password: "short", again: "short" });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain("Use at least 10 characters.");

    const done = await browser.post(link.path, { password: NEW_PASSWORD, again: NEW_PASSWORD });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Your password is changed");
    expect((await api("/api/users/me/", { token: forgetful.token })).status).toBe(401);
    expect((await login({ user: { ...forgetful.user, password: NEW_PASSWORD } })).token).toBeTruthy();

    const again = await browser.post(link.path, { password: "yet another passphrase", again: "yet another passphrase" });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("It has expired or was used already.");
    expect((await browser.fetch(link.path)).status).toBe(400);
  });

  it("keeps only the link's hash, and a newer link replaces an unused older one", async () => {
    const [admin, user] = [await staff(), await signUp()];
    const first = await issued(admin, user.id);
    const { results } = await env.DB.prepare("SELECT * FROM password_resets WHERE user_id = ?").bind(user.id).all();
    expect(JSON.stringify(results)).not.toContain(first.token);
    const second = await issued(admin, user.id);
    expect((await new Browser().fetch(first.path)).status).toBe(400);
    expect((await new Browser().fetch(second.path)).status).toBe(200);
  });

  it("refuses an expired link, and a link for someone who is not staff to issue", async () => {
    const [admin, user, someone] = [await staff(), await signUp(), await login()];
    const link = await issued(admin, user.id);
    await env.DB.prepare("UPDATE password_resets SET expires_at = ? WHERE user_id = ?").bind(Date.now() - 1, user.id).run();
    const late = await new Browser().post(link.path, { password: NEW_PASSWORD, again: NEW_PASSWORD });
    expect(late.status).toBe(400);
    expect((await api(`/api/users/${user.id}/password-reset/`, { method: "POST", token: someone.token })).status).toBe(403);
    expect((await api("/api/users/999999/password-reset/", { method: "POST", token: admin.token })).status).toBe(404);
    expect((await new Browser().fetch("/o/reset/not-a-real-token/")).status).toBe(400);
  });
});
