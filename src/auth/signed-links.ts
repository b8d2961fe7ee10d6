// Links a browser can follow without a token (a token must never be in a URL): HMAC-SHA256 over what the
// link names and its expiry, with a key per purpose that the Worker made for itself in D1.
import { encodeHexLowerCase } from "@oslojs/encoding";
import { constantTimeEqual } from "@oslojs/crypto/subtle";
import type { Database } from "../db/client";
import { serverKey } from "./server-keys";

async function signature(db: Database, keyName: string, id: string, expires: number): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await serverKey(db, keyName), new TextEncoder().encode(`${id}.${expires}`));
  return encodeHexLowerCase(new Uint8Array(mac));
}

/** The query string of a link to `id` good for `seconds`, and when it expires. */
export async function signLink(db: Database, keyName: string, id: string, seconds: number, now = Date.now()) {
  const expires = Math.floor(now / 1000) + seconds;
  return { query: `expires=${expires}&signature=${await signature(db, keyName, id, expires)}`, expires_at: new Date(expires * 1000).toISOString() };
}

/** Whether `sig` signs `id` until `expires`: "valid", "expired", or "invalid". */
export async function checkLink(db: Database, keyName: string, id: string, expires: number, sig: string): Promise<"valid" | "expired" | "invalid"> {
  const expected = new TextEncoder().encode(await signature(db, keyName, id, expires));
  if (!constantTimeEqual(expected, new TextEncoder().encode(sig))) return "invalid";
  return expires * 1000 < Date.now() ? "expired" : "valid";
}
