import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { GatewayError } from "@capi-mcp/core";

/**
 * What a continue token is bound to. A token sealed for one binding opens for no other, so a
 * token cannot be replayed by another user, on another cluster or for another query.
 */
export interface ContinueTokenBinding {
  /** Who listed: a principal's identity key, or the gateway's own identity without OAuth. */
  readonly caller: string;
  readonly cluster: string;
  /** The resource and selectors of the listing; `limit` is left out, since pages may differ in size. */
  readonly query: string;
}

/**
 * Seals and opens continue tokens. The API server's own token is base64 JSON naming the next
 * key it will read, which can be an object the namespace rules hide, and a caller can edit it;
 * a sealed token (AES-256-GCM, the binding as associated data) discloses nothing and any edit
 * makes it fail to open.
 */
export interface ContinueTokenSealer {
  seal(position: string, binding: ContinueTokenBinding): string;
  /** The position sealed in `token`; a tampered, foreign or stale token is an `invalid_input` error. */
  open(token: string, binding: ContinueTokenBinding): string;
}

export interface ContinueTokenSealerOptions {
  /**
   * A 32-byte secret shared by every replica behind one address, so a page from one replica
   * continues on another. Undefined: a random key for this process only (tokens end with it).
   */
  readonly key?: Uint8Array;
  /** How long a token stays usable; the API server's own tokens rarely outlive a few minutes. */
  readonly maximumAgeMilliseconds?: number;
  readonly now?: () => number;
}

export const continueTokenKeyBytes = 32;
const defaultMaximumAgeMilliseconds = 60 * 60 * 1000;
const tokenPrefix = "capi-mcp-continue.v1.";
const ivBytes = 12;
const tagBytes = 16;
// Derived, so the operator's key (which may also serve other purposes) is never used as is.
const keyDerivationInfo = "capi-mcp continue tokens v1";

function derivedKey(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), keyDerivationInfo, continueTokenKeyBytes));
}

function associatedData(binding: ContinueTokenBinding): Buffer {
  return Buffer.from(JSON.stringify([tokenPrefix, binding.caller, binding.cluster, binding.query]), "utf8");
}

function unusableToken(why: string): GatewayError {
  return new GatewayError(
    "invalid_input",
    `The continue token cannot be used: ${why}. Tokens work only for the same user, cluster, resource, namespace ` +
      "and selectors as the page that returned them, and only for a while. List again from the start, without continue.",
    { detail: `continue token refused: ${why}` },
  );
}

export function createContinueTokenSealer(options: ContinueTokenSealerOptions = {}): ContinueTokenSealer {
  if (options.key !== undefined && options.key.length !== continueTokenKeyBytes) {
    throw new Error(`a continue token key has ${continueTokenKeyBytes} bytes, not ${options.key.length}`);
  }
  const key = derivedKey(options.key ?? randomBytes(continueTokenKeyBytes));
  const maximumAge = options.maximumAgeMilliseconds ?? defaultMaximumAgeMilliseconds;
  const now = options.now ?? Date.now;

  return {
    seal(position, binding) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: tagBytes });
      cipher.setAAD(associatedData(binding));
      const plaintext = Buffer.from(JSON.stringify({ issued: now(), position }), "utf8");
      const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return tokenPrefix + sealed.toString("base64url");
    },

    open(token, binding) {
      if (!token.startsWith(tokenPrefix)) throw unusableToken("it is not a token this gateway handed out");
      const sealed = Buffer.from(token.slice(tokenPrefix.length), "base64url");
      if (sealed.length <= ivBytes + tagBytes) throw unusableToken("it is incomplete");
      let plaintext: string;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, ivBytes), { authTagLength: tagBytes });
        decipher.setAAD(associatedData(binding));
        decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
        plaintext = Buffer.concat([
          decipher.update(sealed.subarray(ivBytes, sealed.length - tagBytes)),
          decipher.final(),
        ]).toString("utf8");
      } catch {
        // One answer for an edited token, another user's or query's token, and one sealed by a
        // gateway with another key: telling them apart would help only someone probing.
        throw unusableToken("it was changed, belongs to another listing, or was handed out by another gateway");
      }
      const { issued, position } = JSON.parse(plaintext) as { issued: unknown; position: unknown };
      if (typeof issued !== "number" || typeof position !== "string") throw unusableToken("it is malformed");
      if (now() - issued > maximumAge) throw unusableToken("it has expired");
      return position;
    },
  };
}
