import { type Meter, metrics } from "@opentelemetry/api";

/** Why a stored value could not be decrypted (the encrypted token store's reasons). */
export type TokenStoreDecryptionFailureReason = "malformed" | "unknown-version" | "authentication-failed";

export interface OAuthMetrics {
  /** One value in the encrypted token store failed to decrypt (tampered, or another key's). */
  recordDecryptionFailure(reason: TokenStoreDecryptionFailureReason): void;
  /** A client registration was refused because the registration cap was reached. */
  recordRegistrationRefused(reason: "capacity"): void;
  /** An attack signal or a throttled caller: counted in `capi_mcp_oauth_events_total{event}`. */
  recordSecurityEvent(event: OAuthSecurityEvent): void;
}

/** Authorization code replayed, refresh token replayed, PKCE verifier wrong, caller rate limited. */
export type OAuthSecurityEvent = "code_reuse" | "refresh_reuse" | "pkce_failure" | "rate_limited";

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
  const securityEvents = meter.createCounter("capi_mcp_oauth_events_total", {
    description: "OAuth events an operator must see: code_reuse, refresh_reuse, pkce_failure, rate_limited",
  });
  return {
    recordSecurityEvent(event) {
      securityEvents.add(1, { event });
    },
    recordDecryptionFailure(reason) {
      decryptionFailures.add(1, { "capi_mcp.oauth.reason": reason });
    },
    recordRegistrationRefused(reason) {
      refusedRegistrations.add(1, { "capi_mcp.oauth.reason": reason });
    },
  };
}
