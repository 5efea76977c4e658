// Random values and hashes for codes, tokens and secrets. Every stored key is a hash, so a copy
// of the store (or a log of its keys) never hands out a usable token.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A random value of `bytes` bytes, base64url without padding (32 bytes → 43 characters). */
export function randomValue(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** SHA-256, base64url: how tokens, codes and secrets are keyed and kept. */
export function sha256(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("base64url");
}

/**
 * Compares two strings in time independent of where they differ. Hashing first gives both
 * sides the same length, so the length of a secret does not leak either.
 */
export function constantTimeEqual(left: string, right: string): boolean {
  const leftDigest = createHash("sha256").update(left, "utf8").digest();
  const rightDigest = createHash("sha256").update(right, "utf8").digest();
  return timingSafeEqual(leftDigest, rightDigest);
}

/** RFC 7636: code_verifier is 43–128 characters of the unreserved set. */
const codeVerifierPattern = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge is the base64url SHA-256 of the verifier: always 43 characters. */
export const s256ChallengePattern = /^[A-Za-z0-9_-]{43}$/;

export function isValidCodeVerifier(verifier: string): boolean {
  return codeVerifierPattern.test(verifier);
}

/** RFC 7636 §4.6 with S256, the only method this server accepts. */
export function verifyS256(verifier: string, challenge: string): boolean {
  if (!isValidCodeVerifier(verifier)) {
    return false;
  }
  return constantTimeEqual(sha256(verifier), challenge);
}
