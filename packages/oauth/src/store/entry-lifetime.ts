import { GatewayError } from "@capi-mcp/core";

/**
 * A lifetime in whole seconds, as Redis `EX` takes it. A fraction is rounded up rather than down,
 * so a 0.5-second lifetime still lives (a rounded-down zero would be refused by Redis and would
 * silently mean "already expired" in memory). Anything that is not a positive finite number is a
 * caller bug: storing a token "forever" or "never" must not happen by accident.
 */
export function wholeSeconds(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new GatewayError("internal", "A token store entry needs a positive lifetime.", {
      detail: `ttlSeconds was ${String(ttlSeconds)}`,
    });
  }
  return Math.ceil(ttlSeconds);
}

/** Both stores refuse to read a set as a value (and the reverse), as Redis does with WRONGTYPE. */
export function wrongKindError(detail: string): GatewayError {
  return new GatewayError("internal", "The token store holds a different kind of entry under this key.", { detail });
}
