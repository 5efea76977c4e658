import { GatewayError, type GatewayErrorCode } from "@capi-mcp/core";

/**
 * How each error code reads to a model. A table typed by the closed code union: adding a code
 * to core does not compile until it is described here.
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

/** The text a model sees for a failed call: the label, the message, and any field causes. */
export function errorText(error: GatewayError): string {
  const causes = error.causes.map((cause) => {
    const where = cause.field ? `${cause.field}: ` : "";
    return `- ${where}${cause.message}`;
  });
  return [`${errorLabels[error.code]}: ${error.message}`, ...causes].join("\n");
}

/** Any thrown value as a GatewayError; unknown failures keep their detail out of the message. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new GatewayError("internal", "The gateway failed to complete this call. The failure was logged.", {
    detail,
    cause: error,
  });
}
