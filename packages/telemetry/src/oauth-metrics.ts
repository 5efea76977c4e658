import { type Meter, metrics } from "@opentelemetry/api";

/** Why a stored value could not be decrypted (the encrypted token store's reasons). */
export type TokenStoreDecryptionFailureReason = "malformed" | "unknown-version" | "authentication-failed";

export interface OAuthMetrics {
  /** One value in the encrypted token store failed to decrypt (tampered, or another key's). */
  recordDecryptionFailure(reason: TokenStoreDecryptionFailureReason): void;
  /** A client registration was refused because the registration cap was reached. */
  recordRegistrationRefused(reason: "capacity"): void;
}

/**
 * Instruments for the OAuth side: failures that an operator must see even though the caller
 * only sees "expired" or 503. Attributes carry reasons only, never a key, token or client id.
 */
export function createOAuthMetrics(options: { meter?: Meter } = {}): OAuthMetrics {
  const meter = options.meter ?? metrics.getMeter("capi-mcp");
  const decryptionFailures = meter.createCounter("capi_mcp.oauth.token_store.decryption_failures", {
    description: "Stored values that failed to decrypt (tampered, moved, or written with another key), by reason",
  });
  const refusedRegistrations = meter.createCounter("capi_mcp.oauth.registrations.refused", {
    description: "Client registrations refused by the gateway's own limits, by reason",
  });
  return {
    recordDecryptionFailure(reason) {
      decryptionFailures.add(1, { "capi_mcp.oauth.reason": reason });
    },
    recordRegistrationRefused(reason) {
      refusedRegistrations.add(1, { "capi_mcp.oauth.reason": reason });
    },
  };
}
