import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from "@oslojs/encoding";

// Binds the derived key to this one use: the same refresh token must never key anything else.
const INFO = new TextEncoder().encode("hey oauth refresh retry v1");
const IV_BYTES = 12;

/**
 * An AES-256-GCM key derived (HKDF-SHA256) from a refresh token. The database holds only the token's
 * hash, so only whoever presents the token itself can derive it: what is sealed is unreadable at rest.
 */
async function keyFrom(refreshToken: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", new TextEncoder().encode(refreshToken), "HKDF", false, ["deriveKey"]);
  // No salt: the token is already 256 uniformly random bits (RFC 5869 §3.1).
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: INFO }, ikm, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/** Seals `value` as JSON under `refreshToken`, bound to `hash` (its stored hash) as additional data. */
export async function seal(refreshToken: string, hash: string, value: unknown): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const plain = new TextEncoder().encode(JSON.stringify(value));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(hash) }, await keyFrom(refreshToken), plain);
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return encodeBase64urlNoPadding(out);
}

/** What `seal` sealed, or null when this token and hash cannot open it (another token, or tampered with). */
export async function unseal<T>(refreshToken: string, hash: string, sealed: string): Promise<T | null> {
  try {
    const bytes = decodeBase64urlIgnorePadding(sealed);
    const iv = bytes.subarray(0, IV_BYTES);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(hash) }, await keyFrom(refreshToken), bytes.subarray(IV_BYTES));
    return JSON.parse(new TextDecoder().decode(plain)) as T;
  } catch {
    return null;
  }
}
