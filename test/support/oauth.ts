import { env, SELF } from "cloudflare:test";
import { createClient } from "../../src/auth/oauth/clients";
import { s256 } from "../../src/auth/oauth/pkce";
import { ALL_SCOPES, type Scope } from "../../src/auth/scopes";
import { database } from "../../src/db/client";
import { ORIGIN, signUp } from "./http";

export const REDIRECT_URI = "http://127.0.0.1/callback";

/** Registers a client straight in D1 (as `npm run oauth:client` does). */
export async function registerClient(options: { confidential?: boolean; scopes?: Scope[]; redirectUris?: string[]; name?: string } = {}) {
  const { client, secret } = await createClient(database(env.DB), {
    name: options.name ?? "Test App",
    redirectUris: options.redirectUris ?? [REDIRECT_URI],
    confidential: options.confidential ?? false,
    scopes: options.scopes ?? ALL_SCOPES,
  });
  return { clientId: client.id, secret };
}

/** A fresh PKCE verifier and its S256 challenge. */
export function pkce() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const verifier = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return { verifier, challenge: s256(verifier) };
}

export function authorizeUrl(params: Record<string, string | undefined>): string {
  const url = new URL("/o/authorize/", ORIGIN);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** A browser: keeps cookies, never follows redirects, so tests can see each step. */
export class Browser {
  readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await SELF.fetch(new URL(url, ORIGIN).toString(), { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getAll("Set-Cookie")) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }

  /** Submits a form as a browser would, form-encoded. */
  post(url: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/** The CSRF token embedded in an authorize page. */
export function csrfOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("no csrf_token in page");
  return match[1]!;
}

/**
 * Walks an authorize URL through the login and consent pages as `user` and returns the final
 * redirect Location (the client's redirect URI with code or error).
 */
export async function approve(browser: Browser, url: string, user: { email: string; password: string }, decision: "approve" | "deny" = "approve") {
  let page = await browser.fetch(url);
  let html = await page.text();
  if (html.includes('name="password"')) {
    const login = await browser.post(url, { csrf_token: csrfOf(html), email: user.email, password: user.password });
    if (login.status !== 303) throw new Error(`login failed: ${login.status}`);
    page = await browser.fetch(login.headers.get("Location")!);
    html = await page.text();
  }
  // Consent already given to this (staff-registered) app by a live grant: straight back with a code.
  if (page.status === 303 && decision === "approve") return new URL(page.headers.get("Location")!);
  const res = await browser.post(url, { csrf_token: csrfOf(html), decision });
  if (res.status !== 303) throw new Error(`consent failed: ${res.status} ${await res.text()}`);
  return new URL(res.headers.get("Location")!);
}

/** Exchanges a code at the token endpoint (public client unless a secret is given, then Basic). */
export function tokenRequest(fields: Record<string, string>, basic?: { clientId: string; secret: string }) {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (basic) headers.Authorization = `Basic ${btoa(`${encodeURIComponent(basic.clientId)}:${encodeURIComponent(basic.secret)}`)}`;
  return SELF.fetch(`${ORIGIN}/o/token/`, { method: "POST", headers, body: new URLSearchParams(fields).toString() });
}

export type Tokens = { access_token: string; refresh_token: string; expires_in: number; scope: string; token_type: string };

/**
 * A signed-up user with tokens from the full authorization-code + PKCE flow through the real pages.
 * Pass `user` to reuse one, `scopes` to narrow the grant.
 */
export async function login(options: { user?: { id: number; email: string; password: string }; scopes?: Scope[]; client?: { clientId: string } } = {}) {
  const user = options.user ?? (await signUp());
  const client = options.client ?? (await registerClient());
  const { verifier, challenge } = pkce();
  const location = await approve(
    new Browser(),
    authorizeUrl({
      response_type: "code",
      client_id: client.clientId,
      redirect_uri: REDIRECT_URI,
      // Without scopes, everything the client may ask for (admin only reaches staff users).
      scope: options.scopes?.join(" "),
      state: "s",
      code_challenge: challenge,
      code_challenge_method: "S256",
    }),
    user,
  );
  const res = await tokenRequest({
    grant_type: "authorization_code",
    code: location.searchParams.get("code")!,
    redirect_uri: REDIRECT_URI,
    client_id: client.clientId,
    code_verifier: verifier,
  });
  if (res.status !== 200) throw new Error(`token exchange failed: ${res.status} ${await res.text()}`);
  const tokens = (await res.json()) as Tokens;
  return { user, client, tokens, token: tokens.access_token };
}

/** Walks the real pages as `user` for `client` and returns an unexchanged code with its verifier. */
export async function authorizationCode(client: { clientId: string }, user: { email: string; password: string }, options: { scope?: string; browser?: Browser } = {}) {
  const { verifier, challenge } = pkce();
  const params = { response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT_URI, scope: options.scope, state: "s", code_challenge: challenge, code_challenge_method: "S256" };
  const location = await approve(options.browser ?? new Browser(), authorizeUrl(params), user);
  return { code: location.searchParams.get("code"), error: location.searchParams.get("error"), verifier };
}
