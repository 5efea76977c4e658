import { GatewayError } from "@capi-mcp/core";

/**
 * A listing across several allowed namespaces is made of one upstream listing per namespace, so
 * its continue token has to say which namespace to resume in as well as the API server's own
 * token for that namespace. It leaves the gateway only sealed (continue-tokens.ts), like the
 * API server's own tokens; the checks here still run, since rules may differ between replicas.
 */
export interface NamespacePagePosition {
  readonly namespace: string;
  /** The API server's continue token within `namespace`; undefined to start it afresh. */
  readonly continue?: string;
}

const tokenPrefix = "capi-mcp-namespaces.";

export function encodeNamespacePagePosition(position: NamespacePagePosition): string {
  return tokenPrefix + Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

function invalidToken(): GatewayError {
  return new GatewayError(
    "invalid_input",
    "The continue token does not belong to this listing across the allowed namespaces. Pass back the token " +
      "exactly as the previous page returned it, with the same resource and selectors, or list again without continue.",
  );
}

/** Decodes a token this module wrote; anything else (including an API server token) is refused. */
export function decodeNamespacePagePosition(token: string, namespaces: readonly string[]): NamespacePagePosition {
  if (!token.startsWith(tokenPrefix)) throw invalidToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(tokenPrefix.length), "base64url").toString("utf8"));
  } catch {
    throw invalidToken();
  }
  if (typeof parsed !== "object" || parsed === null) throw invalidToken();
  const { namespace, continue: upstreamContinue } = parsed as Record<string, unknown>;
  // The namespace comes from the caller, so it is checked against the rules like any other
  // input: a crafted token cannot open a closed namespace.
  if (typeof namespace !== "string" || !namespaces.includes(namespace)) throw invalidToken();
  if (upstreamContinue !== undefined && typeof upstreamContinue !== "string") throw invalidToken();
  return upstreamContinue === undefined ? { namespace } : { namespace, continue: upstreamContinue };
}
