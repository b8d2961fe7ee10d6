// Signed links to attachments, for browsers (an <img> cannot send a bearer token).
import type { Database } from "../db/client";
import { checkLink as check, signLink } from "../auth/signed-links";

export const LINK_SECONDS = 3600;
const KEY_NAME = "attachment-links";

/** A link to the attachment good for LINK_SECONDS. */
export async function signedLink(db: Database, id: string, now = Date.now()) {
  const { query, expires_at } = await signLink(db, KEY_NAME, id, LINK_SECONDS, now);
  return { url: `/api/attachments/${id}/?${query}`, expires_at };
}

/** Whether `sig` signs the attachment until `expires`: "valid", "expired", or "invalid". */
export const checkLink = (db: Database, id: string, expires: number, sig: string) => check(db, KEY_NAME, id, expires, sig);
