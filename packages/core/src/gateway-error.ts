/**
 * The closed set of error codes the gateway can report. Adding a code here breaks the build of
 * every `Record<GatewayErrorCode, …>` mapping (MCP, HTTP) until that mapping handles it.
 */
export const gatewayErrorCodes = [
  "invalid_input",
  "unauthenticated",
  "forbidden",
  "denied_by_policy",
  "not_found",
  "cluster_not_found",
  "ambiguous_cluster",
  "conflict",
  "invalid_object",
  "rate_limited",
  "timeout",
  "too_large",
  "unavailable",
  "internal",
] as const;

export type GatewayErrorCode = (typeof gatewayErrorCodes)[number];

/**
 * How each code reads to a person or model, wherever an error is shown (a whole call's error, one
 * cluster's line in a fleet-wide answer). Typed by the closed union: a new code needs a label.
 */
const errorLabels: Record<GatewayErrorCode, string> = {
  invalid_input: "Invalid input",
  unauthenticated: "Not authenticated",
  forbidden: "Forbidden",
  denied_by_policy: "Denied by the gateway's policy",
  not_found: "Not found",
  cluster_not_found: "Unknown cluster",
  ambiguous_cluster: "Ambiguous cluster name",
  conflict: "Conflict",
  invalid_object: "Invalid object",
  rate_limited: "Rate limited",
  timeout: "Timed out",
  too_large: "Too large",
  unavailable: "Unavailable",
  internal: "Internal error",
};

export function gatewayErrorLabel(code: GatewayErrorCode): string {
  return errorLabels[code];
}

/** A field-level cause, as Kubernetes reports for Invalid objects. */
export interface GatewayErrorCause {
  readonly field?: string;
  readonly reason?: string;
  readonly message: string;
}

export interface GatewayErrorOptions {
  /** Field-level causes the caller can act on. Shown to the user. */
  readonly causes?: readonly GatewayErrorCause[];
  /** Internal detail for logs and spans. Never shown to the user; never a secret. */
  readonly detail?: string;
  readonly cause?: unknown;
}

/**
 * The one error type that crosses package boundaries. `message` is written for the person or
 * model who made the call; `detail` is for operators.
 */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly causes: readonly GatewayErrorCause[];
  readonly detail: string | undefined;

  constructor(code: GatewayErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.causes = options.causes ?? [];
    this.detail = options.detail;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

export function isGatewayErrorCode(value: string): value is GatewayErrorCode {
  return (gatewayErrorCodes as readonly string[]).includes(value);
}
