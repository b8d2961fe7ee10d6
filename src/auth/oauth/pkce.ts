import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";
import { safeEqual } from "../secrets";

// RFC 7636 §4.1: 43 to 128 characters from the unreserved set. The S256 challenge is always 43.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export const isValidVerifier = (verifier: string) => VERIFIER.test(verifier);
export const isValidChallenge = (challenge: string) => CHALLENGE.test(challenge);

/** The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))), RFC 7636 §4.2. */
export function s256(verifier: string): string {
  return encodeBase64urlNoPadding(sha256(new TextEncoder().encode(verifier)));
}

/** RFC 7636 §4.6, compared in constant time. */
export function verifyChallenge(verifier: string, challenge: string): boolean {
  return isValidVerifier(verifier) && safeEqual(s256(verifier), challenge);
}
