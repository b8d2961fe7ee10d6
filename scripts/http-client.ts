// A plain HTTP client of Hey for the e2e, browser-seeding and benchmark suites and `npm run token`: sign
// up, run the real OAuth flow (dynamic registration, sign-in and consent forms, PKCE), and call the API.
import { createHash, randomBytes, randomUUID } from "node:crypto";

const b64url = (b: Buffer) => b.toString("base64url");

export type Session = { userId: number; email: string; token: string; refreshToken: string; clientId: string };

export class HeyClient {
  constructor(readonly url: string) {}

  async json<T = any>(path: string, init: Omit<RequestInit, "body"> & { token?: string; body?: unknown } = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
    let body = init.body;
    if (body !== undefined && typeof body !== "string") {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(body);
    }
    const res = await fetch(`${this.url}${path}`, { ...init, headers, body: body as BodyInit | undefined });
    const text = await res.text();
    try {
      return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
    } catch {
      // wrangler's local proxy answers some failures (a restarted worker) in plain text.
      return { status: res.status, headers: res.headers, body: { detail: text.slice(0, 500) } as T };
    }
  }

  /** Registers a public client through RFC 7591 dynamic registration. */
  async registerClient(): Promise<string> {
    const res = await this.json("/o/register/", { method: "POST", body: { client_name: "hey e2e", redirect_uris: ["http://127.0.0.1/callback"] } });
    if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.client_id;
  }

  /** Signs a new user up and signs in through the real pages; returns its tokens. */
  async signUpAndLogin(clientId: string, name = randomUUID().slice(0, 8)): Promise<Session> {
    const email = `${name}@example.com`;
    const password = "a long enough password";
    const created = await this.json("/api/users/", { method: "POST", body: { email, password, first_name: name } });
    if (created.status !== 201) throw new Error(`sign-up: ${created.status} ${JSON.stringify(created.body)}`);
    const tokens = await signIn(this.url, { clientId, redirectUri: "http://127.0.0.1/callback", email, password, scope: "read:messages send:messages manage:conversations profile" });
    return { userId: created.body.id, email, token: tokens.access_token, refreshToken: tokens.refresh_token, clientId };
  }
}

/** The token endpoint's answer (RFC 6749 §5.1). */
export type Tokens = { access_token: string; token_type: "Bearer"; expires_in: number; refresh_token: string; scope: string };

export type SignInStep = "authorize" | "sign-in" | "consent" | "token";

/** A step of the sign-in flow was refused; the message is the server's own sentence where it gave one. */
export class SignInError extends Error {
  constructor(
    message: string,
    readonly step: SignInStep,
    readonly status?: number,
  ) {
    super(message);
    this.name = "SignInError";
  }
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash("sha256").update(verifier).digest()) };
}

const unescapeHtml = (text: string) =>
  text
    .replace(/<[^>]*>/g, "")
    .replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!)
    .replace(/\s+/g, " ")
    .trim();

/** What a sign-in page says went wrong: its alert, else its heading. */
function pageMessage(html: string): string | null {
  const alert = /<(\w+)[^>]*role="alert"[^>]*>([\s\S]*?)<\/\1>/.exec(html)?.[2];
  const heading = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1];
  const text = alert ?? heading;
  return text ? unescapeHtml(text) : null;
}

/** The value of a form's hidden field, whatever the attribute order. */
function field(html: string, name: string): string | null {
  for (const [input] of html.matchAll(/<input\b[^>]*>/g)) {
    if (new RegExp(`\\bname="${name}"`).test(input)) return /\bvalue="([^"]*)"/.exec(input)?.[1] ?? null;
  }
  return null;
}

/**
 * Runs the authorization-code flow with PKCE as a browser would, without one: the sign-in page (its
 * `__Host-` CSRF cookie and form token), the sign-in form, the consent page when the server shows it
 * (`decision=approve`), the code from the redirect, then the token endpoint. Node's fetch keeps no
 * cookies, so the pages' `__Host-` ones are carried by hand from each `set-cookie`.
 * Without `scope` the server grants what the client may ask for; without `redirectUri` the client's
 * only registered one. Throws a SignInError for a refusal; a server that does not answer throws fetch's TypeError.
 */
export async function signIn(
  url: string,
  options: { clientId: string; redirectUri?: string; email: string; password: string; scope?: string; clientSecret?: string },
): Promise<Tokens> {
  const base = new URL(url);
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(12));
  const q = new URLSearchParams({ response_type: "code", client_id: options.clientId });
  if (options.redirectUri !== undefined) q.set("redirect_uri", options.redirectUri);
  if (options.scope !== undefined) q.set("scope", options.scope);
  q.set("state", state);
  q.set("code_challenge", challenge);
  q.set("code_challenge_method", "S256");
  const authorize = new URL(`/o/authorize/?${q}`, base);

  const cookies = new Map<string, string>();
  const go = async (target: URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set("Cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(target, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const i = pair.indexOf("=");
      if (i < 1) continue;
      const cleared = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (cleared) cookies.delete(pair.slice(0, i).trim());
      else cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    return res;
  };
  const post = (target: URL, fields: Record<string, string>) =>
    go(target, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
  /** Where a redirect goes: another step of the pages (same origin, /o/authorize/), or back to the client. */
  const next = (res: Response) => {
    const location = res.headers.get("Location");
    if (!location) return null;
    const target = new URL(location, base);
    const onPages = target.origin === base.origin && target.pathname === authorize.pathname;
    return { target, onPages };
  };
  const refused = (res: Response, html: string, step: SignInStep, fallback: string) =>
    new SignInError(pageMessage(html) ?? `${fallback} (HTTP ${res.status}).`, step, res.status);

  // 1. The sign-in page, and its CSRF cookie.
  let res = await go(authorize);
  let html = await res.text();
  let hop = next(res);
  if (hop && !hop.onPages) return exchange(hop.target);
  if (res.status !== 200) throw refused(res, html, "authorize", "The server refused the authorization request");
  let csrf = field(html, "csrf_token");
  if (!csrf || !/name="password"/.test(html)) throw new SignInError("The server did not show its sign-in form.", "authorize", res.status);

  // 2. The sign-in form: a redirect back to the authorization request, with the session cookie.
  res = await post(authorize, { csrf_token: csrf, email: options.email, password: options.password });
  html = await res.text();
  hop = next(res);
  if (!hop) throw refused(res, html, "sign-in", "The server refused the sign-in");
  if (!hop.onPages) return exchange(hop.target);

  // 3. The consent page, unless the server already knows the answer and sends the code at once.
  const consent = hop.target;
  res = await go(consent);
  html = await res.text();
  hop = next(res);
  if (hop && !hop.onPages) return exchange(hop.target);
  if (res.status !== 200) throw refused(res, html, "consent", "The server refused to show the consent page");
  if (/name="password"/.test(html)) throw new SignInError("The server asked for the password again: the sign-in session was not kept.", "consent", res.status);
  csrf = field(html, "csrf_token") ?? csrf;
  res = await post(consent, { csrf_token: csrf, decision: "approve" });
  html = await res.text();
  hop = next(res);
  if (!hop || hop.onPages) throw refused(res, html, "consent", "The server did not accept the consent");
  return exchange(hop.target);

  /** 4. The code from the redirect back to the client, exchanged at the token endpoint. */
  async function exchange(callback: URL): Promise<Tokens> {
    const params = callback.searchParams;
    const error = params.get("error");
    if (error) throw new SignInError(params.get("error_description") ?? `The server answered ${error}.`, "consent");
    const code = params.get("code");
    if (!code) throw new SignInError(`The server redirected to ${callback.origin}${callback.pathname} without a code.`, "consent");
    if (params.get("state") !== state) throw new SignInError("The redirect carried another state than the request's.", "consent");
    const form = new URLSearchParams({ grant_type: "authorization_code", code, client_id: options.clientId, code_verifier: verifier });
    if (options.redirectUri !== undefined) form.set("redirect_uri", options.redirectUri);
    if (options.clientSecret !== undefined) form.set("client_secret", options.clientSecret);
    const answer = await fetch(new URL("/o/token/", base), { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form.toString() });
    const text = await answer.text();
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: said below.
    }
    if (answer.status !== 200 || typeof body?.access_token !== "string") {
      const said = body?.error_description ?? body?.error ?? text.slice(0, 200);
      throw new SignInError(`The token endpoint refused the code: ${said}`, "token", answer.status);
    }
    return body as Tokens;
  }
}
