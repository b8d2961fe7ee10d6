// Signed links to attachments, for browsers (an <img> cannot send a bearer token, and a token must never
// be in a URL): HMAC-SHA256 over the id and the expiry, with a key the Worker made for itself in D1.
import { encodeHexLowerCase } from "@oslojs/encoding";
import { constantTimeEqual } from "@oslojs/crypto/subtle";
import type { Database } from "../db/client";
import { serverKey } from "../auth/server-keys";

export const LINK_SECONDS = 3600;
const KEY_NAME = "attachment-links";

async function signature(db: Database, id: string, expires: number): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await serverKey(db, KEY_NAME), new TextEncoder().encode(`${id}.${expires}`));
  return encodeHexLowerCase(new Uint8Array(mac));
}

/** A link to the attachment good for LINK_SECONDS. */
export async function signedLink(db: Database, id: string, now = Date.now()) {
  const expires = Math.floor(now / 1000) + LINK_SECONDS;
  return { url: `/api/attachments/${id}/?expires=${expires}&signature=${await signature(db, id, expires)}`, expires_at: new Date(expires * 1000).toISOString() };
}

/** Whether `sig` signs the attachment until `expires`: "valid", "expired", or "invalid". */
export async function checkLink(db: Database, id: string, expires: number, sig: string): Promise<"valid" | "expired" | "invalid"> {
  const expected = new TextEncoder().encode(await signature(db, id, expires));
  if (!constantTimeEqual(expected, new TextEncoder().encode(sig))) return "invalid";
  return expires * 1000 < Date.now() ? "expired" : "valid";
}
