import { sha256 } from "@oslojs/crypto/sha2";
import { constantTimeEqual } from "@oslojs/crypto/subtle";
import { encodeBase64urlNoPadding, encodeHexLowerCase } from "@oslojs/encoding";

/** A fresh 256-bit random value, base64url without padding (43 characters). */
export function randomToken(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return encodeBase64urlNoPadding(bytes);
}

/** The form a secret is stored in: SHA-256, lower-case hex. */
export function hashSecret(secret: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(secret)));
}

/** Compares two strings without leaking where, or whether their lengths, differ. */
export function safeEqual(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  return constantTimeEqual(sha256(encoder.encode(a)), sha256(encoder.encode(b)));
}
