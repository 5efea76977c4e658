// What the OAuth side tells the operator, beside the audit trail: failures that the caller only
// sees as "expired" or 503. Each goes to the log and to a metric, with keys, reasons and counts,
// never a token, a stored value or a client's secret.
import { isGatewayError } from "@capi-mcp/core";
import type { AuthorizationServerEvent, TokenStoreTamperEvent } from "@capi-mcp/oauth";
import type { OAuthMetrics, OAuthSecurityEvent } from "@capi-mcp/telemetry";
import type { Logger } from "pino";

export interface OAuthReports {
  /** A stored value failed to decrypt: one log event and one count per failure. */
  decryptionFailed(event: TokenStoreTamperEvent): void;
  /** Watches authorization events for the ones an operator must act on (the registration cap). */
  authorizationEvent(event: AuthorizationServerEvent): void;
  /** A failure the client only saw as server_error or temporarily_unavailable. */
  unexpectedError(error: unknown): void;
}

export interface OAuthReportsOptions {
  readonly logger: Logger;
  readonly metrics: OAuthMetrics;
  readonly maxRegisteredClients: number;
  /** Milliseconds since the epoch; replaceable in tests. */
  readonly now?: () => number;
}

/** The authorization events that are counted as OAuth security events. */
const securityEventOf: Partial<Record<AuthorizationServerEvent["type"], OAuthSecurityEvent>> = {
  authorization_code_reuse_detected: "code_reuse",
  refresh_token_reuse_detected: "refresh_reuse",
  pkce_verification_failed: "pkce_failure",
  rate_limited: "rate_limited",
};

/** Refusals at the cap come in floods: each is counted, the log says so at most this often. */
const capacityLogIntervalMilliseconds = 60_000;

export function createOAuthReports(options: OAuthReportsOptions): OAuthReports {
  const { logger, metrics } = options;
  const now = options.now ?? Date.now;
  let lastCapacityLog = Number.NEGATIVE_INFINITY;
  let refusedSinceLog = 0;
  return {
    decryptionFailed(event) {
      // The store key is a hash or an opaque id, never a token; the value is never passed on.
      logger.warn(
        { event: "token_store_decryption_failed", key: event.key, reason: event.reason },
        "a stored token record failed to decrypt and was treated as absent",
      );
      metrics.recordDecryptionFailure(event.reason);
    },
    authorizationEvent(event) {
      const securityEvent = securityEventOf[event.type];
      if (securityEvent !== undefined) metrics.recordSecurityEvent(securityEvent);
      if (event.type !== "registration_refused" || event.code !== "capacity") return;
      metrics.recordRegistrationRefused("capacity");
      refusedSinceLog += 1;
      const instant = now();
      if (instant - lastCapacityLog < capacityLogIntervalMilliseconds) return;
      logger.warn(
        {
          event: "registration_capacity_reached",
          maxRegisteredClients: options.maxRegisteredClients,
          refused: refusedSinceLog,
        },
        "client registrations refused: the registered client cap is reached",
      );
      lastCapacityLog = instant;
      refusedSinceLog = 0;
    },
    unexpectedError(error) {
      // Its code and operator detail only: never whatever value the failing call carried.
      const described = isGatewayError(error)
        ? { code: error.code, error: error.message, detail: error.detail }
        : { error: error instanceof Error ? error.message : String(error) };
      logger.error(described, "OAuth request failed");
    },
  };
}
