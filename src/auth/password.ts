import { constantTimeEqual } from "@oslojs/crypto/subtle";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import { PASSWORD_ITERATIONS } from "../config";

const ALGORITHM = "pbkdf2_sha256";
const HASH_BYTES = 32;
const SALT_BYTES = 16;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BYTES * 8);
  return new Uint8Array(bits);
}

/** Hashes a password as `pbkdf2_sha256$<iterations>$<salt>$<hash>` (Django's layout, base64 parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PASSWORD_ITERATIONS);
  return [ALGORITHM, PASSWORD_ITERATIONS, encodeBase64(salt), encodeBase64(hash)].join("$");
}

function parse(stored: string): { iterations: number; salt: Uint8Array; hash: Uint8Array } | null {
  const [algorithm, rounds, salt, hash, ...rest] = stored.split("$");
  if (algorithm !== ALGORITHM || rest.length > 0 || !rounds || !salt || !hash) return null;
  const iterations = Number(rounds);
  // A crafted hash with a huge count must not burn CPU, and production refuses such counts anyway.
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > PASSWORD_ITERATIONS) return null;
  try {
    return { iterations, salt: decodeBase64(salt), hash: decodeBase64(hash) };
  } catch {
    return null;
  }
}

// Verified against when there is no user, so an unknown email costs the same as a wrong password.
const DECOY = `${ALGORITHM}$${PASSWORD_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$${"A".repeat(43)}=`;

/** True when `password` matches `stored`; pass `null` for an unknown user to spend the same time. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = parse(stored ?? DECOY);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return constantTimeEqual(candidate, parsed.hash) && stored !== null;
}
