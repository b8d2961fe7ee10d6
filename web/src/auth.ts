// OAuth 2.1 authorization code + PKCE (S256) against Hey itself, as the public client "hey-web".
// Tokens live in memory and this tab's sessionStorage only. Refresh tokens rotate and a spent one
// revokes the grant (RFC 9700 §4.14.2). A duplicated tab starts with a copy of sessionStorage, so tabs
// of one sign-in (one "lineage") share a refresh token: they refresh one at a time under a Web Lock,
// and over a BroadcastChannel the winner hands out the new pair and a tab about to refresh first asks
// whether another already has a newer one.
import { sleep } from "./dom";
import { BASE, CLIENT_ID, SCOPES } from "./types";

type Tokens = { access_token: string; refresh_token: string; expires_at: number; scope: string; lineage: string };
type Pending = { state: string; verifier: string; returnTo: string };
type Metadata = { issuer: string; authorization_endpoint: string; token_endpoint: string; revocation_endpoint: string; end_session_endpoint: string };
type Broadcast =
  | { type: "rotated"; lineage: string; tokens: Tokens }
  | { type: "ask"; lineage: string }
  | { type: "signed-out"; lineage: string }
  /** A new tab (not a duplicate) with no sign-in of its own asks to join one. */
  | { type: "join" };

const TOKENS_KEY = "hey.tokens";
const PENDING_KEY = "hey.pkce";
/** Refresh this long before the access token expires, so requests and sockets never carry a dead one. */
const REFRESH_MARGIN_MS = 120_000;
/** How long a tab about to refresh waits for the other tabs of its sign-in to offer a newer pair. */
const ASK_MS = 60;
/** How long a new tab waits for a signed-in tab to share its sign-in. */
const JOIN_MS = 250;

let tokens: Tokens | null = read<Tokens>(TOKENS_KEY);
let metadata: Promise<Metadata> | null = null;
let timer: number | undefined;
const listeners = new Set<() => void>();
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("hey-auth") : null;

function read<T>(key: string): T | null {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? "null") as T | null;
  } catch {
    return null;
  }
}

function setTokens(next: Tokens | null): void {
  tokens = next;
  if (next) sessionStorage.setItem(TOKENS_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(TOKENS_KEY);
  if (next) scheduleRefresh(next.expires_at - Date.now() - REFRESH_MARGIN_MS);
  else window.clearTimeout(timer);
  for (const listener of listeners) listener();
}

function scheduleRefresh(delay: number): void {
  window.clearTimeout(timer);
  // Offline or the server is down: try again shortly; the token is still good for a while.
  timer = window.setTimeout(() => void refresh().catch(() => scheduleRefresh(5000)), Math.max(0, delay));
}

let joining: ((shared: Tokens) => void) | null = null;

channel?.addEventListener("message", (event: MessageEvent<Broadcast>) => {
  const data = event.data;
  if (data.type === "join") {
    if (tokens) channel.postMessage({ type: "rotated", lineage: tokens.lineage, tokens } satisfies Broadcast);
    return;
  }
  if (!tokens && joining && data.type === "rotated") return joining(data.tokens);
  if (!tokens || data.lineage !== tokens.lineage) return;
  if (data.type === "ask") channel.postMessage({ type: "rotated", lineage: tokens.lineage, tokens } satisfies Broadcast);
  // Only ever forward: a later pair expires later.
  else if (data.type === "rotated" && data.tokens.expires_at > tokens.expires_at) setTokens(data.tokens);
  else if (data.type === "signed-out") setTokens(null);
});

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));

/** RFC 8414 metadata: the endpoints and the issuer the callback's `iss` must match (RFC 9207). */
function serverMetadata(): Promise<Metadata> {
  metadata ??= fetch("/.well-known/oauth-authorization-server").then((r) => {
    if (!r.ok) throw new Error("The sign-in service is unavailable.");
    return r.json() as Promise<Metadata>;
  });
  metadata.catch(() => (metadata = null));
  return metadata;
}

const redirectUri = () => `${location.origin}${BASE}callback`;

async function tokenRequest(fields: Record<string, string>): Promise<Response> {
  const { token_endpoint } = await serverMetadata();
  return fetch(token_endpoint, { method: "POST", body: new URLSearchParams({ ...fields, client_id: CLIENT_ID }) });
}

async function accept(res: Response, lineage: string): Promise<Tokens> {
  const body = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number; scope: string; error_description?: string };
  if (!res.ok) throw Object.assign(new Error(body.error_description ?? "Sign-in failed."), { status: res.status });
  return { access_token: body.access_token, refresh_token: body.refresh_token, scope: body.scope, expires_at: Date.now() + body.expires_in * 1000, lineage };
}

/**
 * A tab opened on its own (not duplicated) starts with empty sessionStorage: it asks the other tabs for
 * their sign-in and, if one answers, joins its lineage (one refresh token, refreshed under the shared
 * lock), so opening Hey in a second tab does not ask to sign in again.
 */
export async function joinSignIn(): Promise<void> {
  if (tokens || !channel) return;
  const shared = await new Promise<Tokens | null>((resolve) => {
    joining = resolve;
    channel.postMessage({ type: "join" } satisfies Broadcast);
    window.setTimeout(() => resolve(null), JOIN_MS);
  });
  joining = null;
  if (shared && !tokens) setTokens(shared);
}

/** True while this tab holds tokens. */
export const signedIn = () => tokens !== null;

/** Calls `listener` whenever this tab signs in, refreshes or signs out. */
export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The scopes the server granted this tab's sign-in (it may grant fewer than asked, RFC 6749 §5.1). */
export const grantedScopes = (): string[] => tokens?.scope.split(" ").filter(Boolean) ?? [];

/**
 * Starts the authorization request; the browser leaves for Hey's sign-in and consent pages.
 * `email` (OIDC's login_hint) prefills the sign-in form, e.g. right after creating the account.
 * `scope` asks for more than the app's usual scopes (staff asking for `admin` to moderate).
 */
export async function signIn(returnTo = location.pathname + location.search, email?: string, scope = SCOPES): Promise<void> {
  const { authorization_endpoint } = await serverMetadata();
  const verifier = random(48);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const pending: Pending = { state: random(16), verifier, returnTo: returnTo.startsWith(BASE) && !returnTo.startsWith(`${BASE}callback`) ? returnTo : BASE };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    scope,
    state: pending.state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (email) query.set("login_hint", email);
  location.assign(`${authorization_endpoint}?${query}`);
}

/** Finishes sign-in on /app/callback; returns the path to go back to. Throws with a readable message. */
export async function completeSignIn(url: URL): Promise<string> {
  const pending = read<Pending>(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const params = url.searchParams;
  if (!pending || params.get("state") !== pending.state) throw new Error("This sign-in link is stale. Sign in again.");
  // RFC 9207: the response must come from the issuer we sent the user to (mix-up defence).
  const { issuer } = await serverMetadata();
  if (params.has("iss") && params.get("iss") !== issuer) throw new Error("The sign-in answer came from an unexpected issuer.");
  const error = params.get("error");
  if (error) throw new Error(error === "access_denied" ? "You chose not to allow Hey. Sign in again when you are ready." : params.get("error_description") ?? error);
  const code = params.get("code");
  if (!code) throw new Error("The sign-in answer carried no code.");
  const res = await tokenRequest({ grant_type: "authorization_code", code, redirect_uri: redirectUri(), code_verifier: pending.verifier });
  setTokens(await accept(res, random(12)));
  return pending.returnTo;
}

async function exclusively<T>(work: () => Promise<T>): Promise<T> {
  // Web Locks need a secure context (https, or http on a loopback host as in development).
  if (!navigator.locks) return work();
  return navigator.locks.request("hey-refresh", work) as Promise<T>;
}

let refreshing: Promise<void> | null = null;

/** Rotates the refresh token once, whoever else asks at the same time in this tab or another. */
export function refresh(): Promise<void> {
  const spent = tokens?.refresh_token;
  if (!spent) return Promise.resolve();
  refreshing ??= exclusively(async () => {
    // Another tab of this sign-in may have rotated it already (while we waited for the lock, or before
    // this tab was opened): ask, and give the answers a moment to land before spending the token.
    if (!tokens || tokens.refresh_token !== spent) return;
    if (channel) {
      channel.postMessage({ type: "ask", lineage: tokens.lineage } satisfies Broadcast);
      await sleep(ASK_MS);
    }
    if (!tokens || tokens.refresh_token !== spent) return;
    const res = await tokenRequest({ grant_type: "refresh_token", refresh_token: spent });
    if (res.status === 400 || res.status === 401) {
      // invalid_grant: revoked, expired, or spent elsewhere. Nothing left to do but sign in again.
      if (tokens?.refresh_token === spent) endSession();
      return;
    }
    const next = await accept(res, tokens.lineage);
    setTokens(next);
    channel?.postMessage({ type: "rotated", lineage: next.lineage, tokens: next } satisfies Broadcast);
  }).finally(() => (refreshing = null));
  return refreshing;
}

/** A live access token, refreshed first when it is about to expire; null when signed out. */
export async function accessToken(): Promise<string | null> {
  // If the refresh cannot reach the server, the current token is still worth a try.
  if (tokens && tokens.expires_at - Date.now() < REFRESH_MARGIN_MS / 2) await refresh().catch(() => {});
  return tokens?.access_token ?? null;
}

function endSession(): void {
  const lineage = tokens?.lineage;
  setTokens(null);
  if (lineage) channel?.postMessage({ type: "signed-out", lineage } satisfies Broadcast);
}

/**
 * Revokes the grant (RFC 7009: revoking the refresh token ends its access tokens too), forgets it, and
 * ends the browser's Hey sign-in, so the next sign-in asks for the password again.
 */
export async function signOut(): Promise<void> {
  const current = tokens;
  endSession();
  await exclusively(async () => {
    const { revocation_endpoint, end_session_endpoint } = await serverMetadata();
    if (current) {
      await fetch(revocation_endpoint, {
        method: "POST",
        body: new URLSearchParams({ token: current.refresh_token, token_type_hint: "refresh_token", client_id: CLIENT_ID }),
      }).catch(() => {});
    }
    // Same origin: the server checks the Origin header instead of a form token.
    await fetch(end_session_endpoint, { method: "POST", credentials: "same-origin" }).catch(() => {});
  });
}

// A tab restored from sessionStorage schedules its next refresh (or refreshes now, if it slept).
if (tokens) setTokens(tokens);
