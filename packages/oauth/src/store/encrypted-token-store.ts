import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { GatewayError } from "@capi-mcp/core";
import type { TokenStore } from "../contracts.js";

/** Why a stored value could not be decrypted. */
export type TokenStoreTamperReason = "malformed" | "unknown-version" | "authentication-failed";

export interface TokenStoreTamperEvent {
  /** The store key (callers key by a hash, so it is not a secret). */
  readonly key: string;
  readonly reason: TokenStoreTamperReason;
}

export interface EncryptedTokenStoreOptions {
  /**
   * Told about every value that fails to decrypt: tampering, a value moved to another key, or a
   * store written with another encryption key. The value itself is never passed on.
   */
  readonly onTamper?: (event: TokenStoreTamperEvent) => void;
}

const formatVersion = 1;
const ivLength = 12;
const tagLength = 16;
const headerLength = 1 + ivLength + tagLength;
const base64UrlPattern = /^[A-Za-z0-9_-]*$/;

/**
 * Encrypts every value at rest with AES-256-GCM. A stored value is the base64url of
 * `version (1 byte) | iv (12 random bytes) | tag (16 bytes) | ciphertext`, and the store key is
 * the additional authenticated data: a value copied under another key fails to decrypt, so
 * whoever can write to the inner store cannot swap one user's token record for another's.
 *
 * A value that fails to decrypt is reported to `onTamper` and read as absent rather than thrown:
 * a tampered value must never be returned, and an attacker who can write to Redis should not be
 * able to turn one bad value into a failing (or crash-looping) gateway. Absent is what the callers
 * already handle (expired code, revoked token), and it fails closed.
 *
 * Set members are stored in the clear: they are token ids that callers already hash, they must be
 * comparable by the inner store (SADD de-duplicates), and encrypting them with random IVs would
 * defeat that. Keys are in the clear for the same reason; so are bounded-set members.
 *
 * Random 96-bit IVs keep GCM safe for about 2^32 encryptions under one key; rotate the key long
 * before (rotation makes existing entries unreadable: users log in again). The version byte
 * leaves room for a key id when rotation without logouts is needed.
 */
export function createEncryptedTokenStore(
  inner: TokenStore,
  key: Buffer,
  options: EncryptedTokenStoreOptions = {},
): TokenStore {
  if (key.length !== 32) {
    throw new GatewayError("invalid_input", "The token encryption key must be exactly 32 bytes (AES-256).", {
      detail: `got ${key.length} bytes`,
    });
  }
  // A KeyObject holds its own copy: a caller that later zeroes or reuses the Buffer cannot
  // change the key under us.
  const secretKey = createSecretKey(key);

  function open(storeKey: string, stored: string | undefined): string | undefined {
    if (stored === undefined) {
      return undefined;
    }
    const result = decrypt(secretKey, storeKey, stored);
    if (typeof result === "string") {
      return result;
    }
    options.onTamper?.({ key: storeKey, reason: result.reason });
    return undefined;
  }

  return {
    async set(storeKey, value, ttlSeconds) {
      await inner.set(storeKey, encrypt(secretKey, storeKey, value), ttlSeconds);
    },
    async get(storeKey) {
      return open(storeKey, await inner.get(storeKey));
    },
    async take(storeKey) {
      // The inner take has already removed a tampered value, which is what a single-use value wants.
      return open(storeKey, await inner.take(storeKey));
    },
    async delete(...keys) {
      await inner.delete(...keys);
    },
    async addToSet(storeKey, member, ttlSeconds) {
      await inner.addToSet(storeKey, member, ttlSeconds);
    },
    async members(storeKey) {
      return await inner.members(storeKey);
    },
    async addToBoundedSet(storeKey, member, limit, ttlSeconds) {
      return await inner.addToBoundedSet(storeKey, member, limit, ttlSeconds);
    },
    async removeFromBoundedSet(storeKey, member) {
      await inner.removeFromBoundedSet(storeKey, member);
    },
    async boundedSetSize(storeKey) {
      return await inner.boundedSetSize(storeKey);
    },
    async close() {
      await inner.close();
    },
  };
}

function encrypt(secretKey: KeyObject, storeKey: string, value: string): string {
  const iv = randomBytes(ivLength);
  const cipher = createCipheriv("aes-256-gcm", secretKey, iv, { authTagLength: tagLength });
  cipher.setAAD(Buffer.from(storeKey, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return Buffer.concat([Buffer.of(formatVersion), iv, tag, ciphertext]).toString("base64url");
}

function decrypt(
  secretKey: KeyObject,
  storeKey: string,
  stored: string,
): string | { readonly reason: TokenStoreTamperReason } {
  if (!base64UrlPattern.test(stored)) {
    return { reason: "malformed" };
  }
  const bytes = Buffer.from(stored, "base64url");
  // Only the canonical encoding is accepted: base64 decoders ignore stray trailing bits, and a
  // changed stored value should never read as if nothing happened.
  if (bytes.length < headerLength || bytes.toString("base64url") !== stored) {
    return { reason: "malformed" };
  }
  if (bytes[0] !== formatVersion) {
    return { reason: "unknown-version" };
  }
  const iv = bytes.subarray(1, 1 + ivLength);
  const tag = bytes.subarray(1 + ivLength, headerLength);
  const ciphertext = bytes.subarray(headerLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", secretKey, iv, { authTagLength: tagLength });
    decipher.setAAD(Buffer.from(storeKey, "utf8"));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    // GCM authenticated the bytes, so they are what we encrypted: valid UTF-8 from a string.
    return plaintext.toString("utf8");
  } catch {
    return { reason: "authentication-failed" };
  }
}
