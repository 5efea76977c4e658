/** The most an exec may run, whatever the tool timeout allows. */
export const defaultExecTimeoutMilliseconds = 30_000;

/**
 * The exec bound for a tool timeout: strictly inside it, with a fifth of it (at least half a
 * second) left over. An exec that runs to its bound is stopped and answers with the output it
 * has so far; a bound equal to the tool timeout would lose that race to the generic timeout, and
 * with it the partial output.
 */
export function execTimeoutWithin(
  toolTimeoutMilliseconds: number,
  wantedMilliseconds: number = defaultExecTimeoutMilliseconds,
): number {
  const margin = Math.max(500, Math.ceil(toolTimeoutMilliseconds * 0.2));
  return Math.max(1, Math.min(wantedMilliseconds, toolTimeoutMilliseconds - margin));
}
