import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../../env";
import { CSRF_COOKIE } from "../sessions";

// The pages may not be framed (clickjacking of the consent button) and run no script.
const PAGE_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
};

/** A `__Host-` cookie for the sign-in pages; Max-Age=0 clears it. */
export const cookie = (name: string, value: string, maxAge: number) =>
  `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`;

/** An HTML page of the sign-in flow; sets the CSRF cookie when the page carries a new token. */
export function page(c: Context<AppEnv>, body: string, status: 200 | 400 | 403 | 429 = 200, csrf?: string, setCookie?: string): Response {
  const headers = new Headers(PAGE_HEADERS);
  headers.set("Content-Type", "text/html; charset=utf-8");
  if (csrf && getCookie(c, CSRF_COOKIE) !== csrf) headers.append("Set-Cookie", cookie(CSRF_COOKIE, csrf, 3600));
  if (setCookie) headers.append("Set-Cookie", setCookie);
  return new Response(body, { status, headers });
}

export function redirect(location: string, setCookie?: string): Response {
  const headers = new Headers({ Location: location, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" });
  if (setCookie) headers.append("Set-Cookie", setCookie);
  return new Response(null, { status: 303, headers });
}
