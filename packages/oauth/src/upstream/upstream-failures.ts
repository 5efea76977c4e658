// Turns what openid-client throws into GatewayErrors: a message a person can act on, and a
// `detail` for operators. No original error is attached as `cause`: openid-client's errors
// carry the authorization response parameters (the code) and response bodies (tokens), and a
// cause chain ends up in logs. The detail is built from error names, codes and messages only,
// and any secret of the exchange is scrubbed from it as well.
import { GatewayError } from "@capi-mcp/core";
import {
  AuthorizationResponseError,
  ClientError,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
} from "openid-client";

export type UpstreamStage = "discovery" | "login" | "refresh";

const unreachableMessage = "The identity provider cannot be reached right now. Please try again later.";

function scrub(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  for (const secret of secrets) {
    if (secret.length >= 8) scrubbed = scrubbed.replaceAll(secret, "[redacted]");
  }
  // Keep the detail to one printable line of reasonable size.
  return scrubbed.replace(/[^\u0020-\u007e]+/g, " ").slice(0, 500);
}

/** An OAuth error code from the provider, if it looks like one; provider text is not trusted. */
function oauthErrorCode(value: unknown): string | undefined {
  return typeof value === "string" && /^[\w.-]{1,64}$/.test(value) ? value : undefined;
}

function messageOf(value: unknown): string | undefined {
  return value instanceof Error ? `${value.name}: ${value.message}` : undefined;
}

function causeCode(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** What the provider itself said: an OAuth error in a body, a redirect or a WWW-Authenticate challenge. */
interface ProviderAnswer {
  readonly error: string | undefined;
  readonly description: string | undefined;
  readonly status: number | undefined;
}

function providerAnswer(error: unknown): ProviderAnswer | undefined {
  if (error instanceof ResponseBodyError) {
    return { error: error.error, description: error.error_description, status: error.status };
  }
  if (error instanceof AuthorizationResponseError) {
    return { error: error.error, description: error.error_description, status: undefined };
  }
  if (error instanceof WWWAuthenticateChallengeError) {
    // A token endpoint answers a failed client authentication with 401 and a challenge.
    const parameters = error.cause[0]?.parameters;
    return { error: parameters?.error, description: parameters?.error_description, status: error.status };
  }
  return undefined;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return "non-error thrown";
  const code = causeCode(error);
  const head = `${error.name}${code === undefined ? "" : ` [${code}]`}: ${error.message}`;
  // The provider's own words are kept (scrubbed with the rest of the detail); the body and
  // parameters behind them are not.
  const answer = providerAnswer(error);
  if (answer !== undefined) {
    const status = answer.status === undefined ? "" : `HTTP ${answer.status}, `;
    return `${head} (${status}error ${String(answer.error)}, description ${JSON.stringify(answer.description ?? "")})`;
  }
  const parts = [head];
  // One or two levels of cause hold the useful part (the claim that failed, ECONNREFUSED, the
  // certificate problem). Only names, codes and messages are read from them.
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 3 && cause instanceof Error; depth += 1) {
    const nestedCode = causeCode(cause);
    parts.push(`${messageOf(cause)}${nestedCode === undefined ? "" : ` [${nestedCode}]`}`);
    cause = cause.cause;
  }
  return parts.join("; caused by ");
}

function isTransportFailure(error: unknown): boolean {
  if (error instanceof ClientError) {
    return (
      error.code === "OAUTH_TIMEOUT" ||
      error.code === "OAUTH_ABORT" ||
      error.code === "OAUTH_RESPONSE_IS_NOT_CONFORM" ||
      error.code === "OAUTH_RESPONSE_IS_NOT_JSON"
    );
  }
  // undici reports connection, DNS and TLS failures as TypeError("fetch failed") with the reason
  // as its cause; openid-client passes them through unchanged.
  if (error instanceof TypeError && error.message === "fetch failed") return true;
  if (error instanceof DOMException) return error.name === "TimeoutError" || error.name === "AbortError";
  return error instanceof ResponseBodyError && error.status >= 500;
}

function loginReason(error: unknown, stage: "login" | "refresh"): string {
  const answer = providerAnswer(error);
  if (answer !== undefined) {
    const code = oauthErrorCode(answer.error);
    if (error instanceof AuthorizationResponseError && code === "access_denied") {
      return "access was denied at the identity provider";
    }
    if (code === "invalid_grant") {
      return stage === "login"
        ? "the identity provider refused the authorization code (it may have expired or been used already)"
        : "the identity provider no longer accepts the session (the refresh token was refused)";
    }
    if (code === "invalid_client" || code === "unauthorized_client" || answer.status === 401) {
      return "the identity provider refused the gateway's own client credentials; an administrator must check the client id and secret";
    }
    return `the identity provider answered ${code ?? "with an error"}`;
  }
  if (error instanceof ClientError) {
    const cause = error.cause instanceof Error ? error.cause.message : "";
    if (error.code === "OAUTH_JWT_TIMESTAMP_CHECK_FAILED") return "the ID token is expired or not yet valid";
    if (error.code === "OAUTH_JWT_CLAIM_COMPARISON_FAILED" || /ID Token|JWT|JWS|signature/i.test(cause)) {
      return "the ID token failed validation";
    }
    // The authorization response's own parameters (RFC 9207 `iss`, `state`).
    if (/"state"/.test(cause)) return "the answer does not belong to the login that was started (state mismatch)";
    if (/"iss"/.test(cause)) return "the answer came from another issuer than the one configured";
  }
  return "the answer from the identity provider could not be validated";
}

/**
 * The GatewayError for a failed call to the provider. `secrets` are the values of this exchange
 * (authorization code, verifier, refresh token) that must not survive into the detail.
 */
export function upstreamFailure(
  error: unknown,
  stage: UpstreamStage,
  issuer: string,
  secrets: readonly string[] = [],
): GatewayError {
  if (error instanceof GatewayError) return error;
  const detail = scrub(`${stage} at ${issuer}: ${describeError(error)}`, secrets);
  if (stage === "discovery" || isTransportFailure(error)) {
    return new GatewayError("unavailable", unreachableMessage, { detail });
  }
  if (error instanceof TypeError && causeCode(error)?.startsWith("ERR_INVALID_ARG") === true) {
    return new GatewayError("internal", "The login could not be processed.", { detail });
  }
  const reason = loginReason(error, stage);
  return stage === "login"
    ? new GatewayError(
        "unauthenticated",
        `The login with the identity provider failed: ${reason}. Please log in again.`,
        {
          detail,
        },
      )
    : new GatewayError(
        "unauthenticated",
        `The identity provider refused to renew your session: ${reason}. Please log in again.`,
        { detail },
      );
}
