// The sealer tools' tests get in place of the guard's (which tools may not import): tokens are
// random handles onto positions held here, so they disclose nothing, and a handle opens only for
// the caller and query that sealed it. Shared by every context, as the guard's one sealer is.
import { randomBytes } from "node:crypto";
import { GatewayError, type ToolContinueTokens } from "@capi-mcp/core";

interface SealedPosition {
  readonly caller: string;
  readonly query: string;
  readonly position: string;
}

const sealedPositions = new Map<string, SealedPosition>();
const tokenPrefix = "test-continue.";

/** The same answer the guard's sealer gives for an edited, foreign or stale token. */
function unusableToken(): GatewayError {
  return new GatewayError(
    "invalid_input",
    "The continue token cannot be used: it was changed, belongs to another listing, or was handed out by another " +
      "gateway. List again from the start, without continue.",
  );
}

export function testContinueTokens(caller = "test-user"): ToolContinueTokens {
  return {
    seal(position, query) {
      const token = tokenPrefix + randomBytes(16).toString("base64url");
      sealedPositions.set(token, { caller, query, position });
      return token;
    },
    open(token, query) {
      const sealed = sealedPositions.get(token);
      if (sealed === undefined || sealed.caller !== caller || sealed.query !== query) throw unusableToken();
      return sealed.position;
    },
  };
}
