import { GatewayError, gatewayErrorLabel } from "@capi-mcp/core";

/** The text a model sees for a failed call: the label, the message, and any field causes. */
export function errorText(error: GatewayError): string {
  const causes = error.causes.map((cause) => {
    const where = cause.field ? `${cause.field}: ` : "";
    return `- ${where}${cause.message}`;
  });
  return [`${gatewayErrorLabel(error.code)}: ${error.message}`, ...causes].join("\n");
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
