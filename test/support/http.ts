import { createExecutionContext, env, SELF } from "cloudflare:test";
import { createApp } from "../../src/app";

export const ORIGIN = "http://hey.test";

/** Calls the Worker like a client would; a non-string body is sent as JSON. */
export function api(path: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<Response> {
  const { json, token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set("Content-Type", "application/json");
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return SELF.fetch(`${ORIGIN}${path}`, {
    ...rest,
    headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body,
    redirect: "manual",
  });
}

let counter = 0;

/** Signs a new user up through the API and returns its resource and password. */
export async function signUp(overrides: Record<string, unknown> = {}) {
  counter += 1;
  const password = "a long enough password";
  const body = { email: `user${counter}-${crypto.randomUUID().slice(0, 8)}@example.com`, password, first_name: `User${counter}`, last_name: "Test", ...overrides };
  const res = await api("/api/users/", { method: "POST", json: body });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  const user = (await res.json()) as { id: number; email: string; first_name: string; last_name: string };
  return { ...user, password: String(body.password) };
}

/** Asserts nothing here but the shape: returns the parsed problem+json body of `res`. */
export async function problemOf(res: Response) {
  return { contentType: res.headers.get("Content-Type"), body: (await res.json()) as Problem };
}

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
};

/**
 * The app as deployed, called in this isolate with some vars replaced (a lowered limit, say) and, when
 * given, a client address as Cloudflare would report it.
 */
export function appWith(vars: Record<string, string | undefined>) {
  const app = createApp();
  return (path: string, init: RequestInit & { ip?: string; form?: Record<string, string> } = {}) => {
    const { ip, form, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (ip) headers.set("CF-Connecting-IP", ip);
    if (form) headers.set("Content-Type", "application/x-www-form-urlencoded");
    const url = path.startsWith("http") ? path : `${ORIGIN}${path}`;
    return app.request(url, { ...rest, headers, ...(form ? { method: "POST", body: new URLSearchParams(form).toString() } : {}) }, { ...env, ...vars }, createExecutionContext());
  };
}
