import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { unseal } from "../src/auth/oauth/sealing";
import { REFRESH_RETRY_WINDOW_MS, REUSED_REFRESH, type TokenPair } from "../src/auth/oauth/tokens";
import { hashSecret } from "../src/auth/secrets";
import { api, ORIGIN } from "./support/http";
import { login, registerClient, tokenRequest, type Tokens } from "./support/oauth";

// Issue 17: a refresh whose rotation committed but whose answer was lost is retried with the spent refresh
// token. Within REFRESH_RETRY_WINDOW_MS, while the new refresh token is unused, the retry gets the same
// answer (sealed on the spent token's row under a key only that token gives); anything else is reuse.

const refresh = (refreshToken: string, clientId: string) => tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId });

async function refreshed(res: Response): Promise<Tokens> {
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

async function expectReuse(res: Response) {
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: "invalid_grant", error_description: REUSED_REFRESH });
}

const status = async (token: string) => (await api("/api/users/me", { token })).status;

type Row = { hash: string; grant_id: string; kind: string; rotated_at: number | null; sealed_successor: string | null };

const row = (token: string) => env.DB.prepare("SELECT * FROM oauth_tokens WHERE hash = ?").bind(hashSecret(token)).first<Row>();

async function grantRevoked(token: string): Promise<boolean> {
  const grant = await env.DB.prepare("SELECT g.revoked_at FROM oauth_grants g JOIN oauth_tokens t ON t.grant_id = g.id WHERE t.hash = ?").bind(hashSecret(token)).first<{ revoked_at: number | null }>();
  return grant!.revoked_at !== null;
}

/** Moves a spent token's rotation `ms` into the past. */
async function rotatedAgo(token: string, ms: number) {
  const updated = await env.DB.prepare("UPDATE oauth_tokens SET rotated_at = ? WHERE hash = ?").bind(Date.now() - ms, hashSecret(token)).run();
  expect(updated.meta.changes).toBe(1);
}

describe("refresh retry", () => {
  it("answers a retry of the spent refresh token within the window with the same pair, and both tokens work", async () => {
    const { client, tokens } = await login();
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    for (let i = 0; i < 2; i++) {
      const again = await refreshed(await refresh(tokens.refresh_token, client.clientId));
      expect(again).toMatchObject({ access_token: next.access_token, refresh_token: next.refresh_token, scope: next.scope, token_type: "Bearer" });
      expect(again.expires_in).toBeLessThanOrEqual(next.expires_in);
      expect(again.expires_in).toBeGreaterThan(next.expires_in - 10);
    }
    expect(await grantRevoked(tokens.refresh_token)).toBe(false);
    expect(await status(next.access_token)).toBe(200);
    const third = await refreshed(await refresh(next.refresh_token, client.clientId));
    expect(await status(third.access_token)).toBe(200);
  });

  it("treats a retry after the new refresh token was used as reuse: the grant is revoked, and the older answer is cleared", async () => {
    const { client, tokens } = await login();
    const second = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    const third = await refreshed(await refresh(second.refresh_token, client.clientId));
    // Only the latest rotation's answer can still be given again.
    expect((await row(tokens.refresh_token))!.sealed_successor).toBeNull();
    expect((await row(second.refresh_token))!.sealed_successor).not.toBeNull();

    await expectReuse(await refresh(tokens.refresh_token, client.clientId));
    expect(await grantRevoked(tokens.refresh_token)).toBe(true);
    expect(await status(third.access_token)).toBe(401);
    const dead = await refresh(third.refresh_token, client.clientId);
    expect([dead.status, ((await dead.json()) as { error: string }).error]).toEqual([400, "invalid_grant"]);
    expect((await row(second.refresh_token))!.sealed_successor).toBeNull();
  });

  it("treats a retry after the window as reuse: the grant is revoked", async () => {
    const { client, tokens } = await login();
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    await rotatedAgo(tokens.refresh_token, REFRESH_RETRY_WINDOW_MS + 1000);
    await expectReuse(await refresh(tokens.refresh_token, client.clientId));
    expect(await grantRevoked(tokens.refresh_token)).toBe(true);
    expect(await status(next.access_token)).toBe(401);
    expect((await row(tokens.refresh_token))!.sealed_successor).toBeNull();
  });

  it("refuses a retry with invalid_grant once the grant was revoked meanwhile", async () => {
    const { client, tokens } = await login();
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    const revoked = await SELF.fetch(`${ORIGIN}/o/revoke_token/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: next.refresh_token, client_id: client.clientId }).toString(),
    });
    expect(revoked.status).toBe(200);
    const res = await refresh(tokens.refresh_token, client.clientId);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    expect(await status(next.access_token)).toBe(401);
  });

  it("refuses the spent refresh token to another client as before, which leaves the grant alone", async () => {
    const { client, tokens } = await login();
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    const other = await registerClient();
    const res = await refresh(tokens.refresh_token, other.clientId);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_grant", error_description: "The refresh token is invalid, expired or revoked." });
    expect(await grantRevoked(tokens.refresh_token)).toBe(false);
    await refreshed(await refresh(next.refresh_token, client.clientId));
  });

  it("gives two concurrent refreshes of one token the same pair, stores one, and keeps the grant", async () => {
    const { client, tokens } = await login();
    const answers = await Promise.all([refresh(tokens.refresh_token, client.clientId), refresh(tokens.refresh_token, client.clientId)]);
    const [a, b] = await Promise.all(answers.map(refreshed));
    expect(b!.access_token).toBe(a!.access_token);
    expect(b!.refresh_token).toBe(a!.refresh_token);
    expect(await grantRevoked(tokens.refresh_token)).toBe(false);
    // The loser's rotation left no tokens behind: the login's pair and the one answered.
    const { grant_id } = (await row(tokens.refresh_token))!;
    const { results } = await env.DB.prepare("SELECT hash FROM oauth_tokens WHERE grant_id = ?").bind(grant_id).all<{ hash: string }>();
    expect(results.map((r) => r.hash).sort()).toEqual([tokens.access_token, tokens.refresh_token, a!.access_token, a!.refresh_token].map(hashSecret).sort());
    expect(await status(a!.access_token)).toBe(200);
  });
});

describe("the sealed answer", () => {
  it("keeps no token in clear, and opens only with the spent refresh token and its hash", async () => {
    const { client, tokens } = await login();
    const next = await refreshed(await refresh(tokens.refresh_token, client.clientId));
    const spent = (await row(tokens.refresh_token))!;
    expect(spent.rotated_at).not.toBeNull();
    expect(spent.sealed_successor).toMatch(/^[A-Za-z0-9_-]+$/);

    const { results } = await env.DB.prepare("SELECT * FROM oauth_tokens WHERE grant_id = ?").bind(spent.grant_id).all();
    const dump = JSON.stringify(results);
    for (const token of [tokens.access_token, tokens.refresh_token, next.access_token, next.refresh_token]) {
      expect(dump.includes(token)).toBe(false);
    }

    const sealed = spent.sealed_successor!;
    expect(await unseal<TokenPair>(tokens.refresh_token, spent.hash, sealed)).toMatchObject({ access_token: next.access_token, refresh_token: next.refresh_token });
    // Nothing the database holds opens it: not the hash, not another token, not another row's hash.
    expect(await unseal(spent.hash, spent.hash, sealed)).toBeNull();
    expect(await unseal(next.refresh_token, spent.hash, sealed)).toBeNull();
    expect(await unseal(tokens.refresh_token, hashSecret(next.refresh_token), sealed)).toBeNull();
  });
});
