// A plain HTTP client of Hey for the e2e, browser-seeding and benchmark suites: sign up, run the real
// OAuth flow (dynamic registration, sign-in and consent forms, PKCE), and call the API.
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
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash("sha256").update(verifier).digest());
    const q = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: "http://127.0.0.1/callback", scope: "read:messages send:messages manage:conversations profile", state: "s", code_challenge: challenge, code_challenge_method: "S256" });
    const authorize = `${this.url}/o/authorize/?${q}`;
    const cookies = new Map<string, string>();
    const go = async (init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set("Cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
      const res = await fetch(authorize, { ...init, headers, redirect: "manual" });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(";");
        const i = pair!.indexOf("=");
        cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
      }
      return res;
    };
    const form = (fields: Record<string, string>) => go({ method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
    const csrf = (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)![1]!;
    await form({ csrf_token: csrf(await (await go()).text()), email, password });
    const approved = await form({ csrf_token: csrf(await (await go()).text()), decision: "approve" });
    const code = new URL(approved.headers.get("Location")!).searchParams.get("code")!;
    const res = await fetch(`${this.url}/o/token/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, client_id: clientId, redirect_uri: "http://127.0.0.1/callback", code_verifier: verifier }).toString(),
    });
    const tokens = (await res.json()) as { access_token: string; refresh_token: string };
    return { userId: created.body.id, email, token: tokens.access_token, refreshToken: tokens.refresh_token, clientId };
  }
}
