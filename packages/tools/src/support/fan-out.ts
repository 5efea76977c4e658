import { type GatewayErrorCode, gatewayErrorLabel, isGatewayError, type ToolSettings } from "@capi-mcp/core";
import { truncateText } from "../shaping/table.js";

export interface FanOutOptions {
  /** Clusters worked on at once; at least 1. */
  readonly concurrency: number;
  /** Bound on each cluster's work; past it that cluster fails alone with a timeout. */
  readonly timeoutMilliseconds: number;
  /** When aborted, clusters not yet started are not started. */
  readonly signal?: AbortSignal;
  /** Told once, when every cluster has answered or failed (the gateway's metrics). */
  readonly onDone?: ToolSettings["onFanOut"];
}

export type FanOutOutcome<T> =
  | { readonly cluster: string; readonly ok: true; readonly value: T }
  | {
      readonly cluster: string;
      readonly ok: false;
      readonly code: GatewayErrorCode;
      /** Written for the caller: never a stack trace or internal detail. */
      readonly message: string;
    };

/** `15 s`, `1.5 s` or `250 ms`: how long a cluster was given. */
export function formatTimeout(milliseconds: number): string {
  if (milliseconds < 1000) return `${milliseconds} ms`;
  const seconds = milliseconds / 1000;
  return Number.isInteger(seconds) ? `${seconds} s` : `${seconds.toFixed(1)} s`;
}

// One cluster's error line stays short: there may be dozens of them in one answer.
const maximumErrorLength = 400;

/** A failure as one line for the caller; errors that are not GatewayErrors keep their text to themselves. */
export function failureOf(error: unknown): { code: GatewayErrorCode; message: string } {
  if (!isGatewayError(error)) {
    return { code: "internal", message: "Internal error: the gateway failed to query this cluster." };
  }
  const label = gatewayErrorLabel(error.code);
  const text = error.message.toLowerCase().startsWith(label.toLowerCase())
    ? error.message
    : `${label}: ${error.message}`;
  return { code: error.code, message: truncateText(text, maximumErrorLength) };
}

class FanOutTimeout extends Error {}

async function withTimeout<T>(work: () => Promise<T>, milliseconds: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FanOutTimeout()), milliseconds);
  });
  try {
    // A call that never settles is left behind, not awaited: its cluster has failed already and
    // the worker moves on to the next one.
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `work` for every cluster, at most `concurrency` at a time, each bounded by the timeout.
 * Never rejects: each cluster's result or error comes back in the order the clusters were
 * given, so one dead or forbidden cluster fails alone and holds the others up for no longer
 * than its timeout takes up one worker.
 */
export async function fanOut<T>(
  clusters: readonly string[],
  work: (cluster: string) => Promise<T>,
  options: FanOutOptions,
): Promise<FanOutOutcome<T>[]> {
  const started = performance.now();
  const outcomes: FanOutOutcome<T>[] = new Array(clusters.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < clusters.length; index = next++) {
      const cluster = clusters[index] ?? "";
      if (options.signal?.aborted === true) {
        outcomes[index] = { cluster, ok: false, code: "timeout", message: "Not queried: the call was cancelled." };
        continue;
      }
      try {
        outcomes[index] = {
          cluster,
          ok: true,
          value: await withTimeout(() => work(cluster), options.timeoutMilliseconds),
        };
      } catch (error) {
        outcomes[index] =
          error instanceof FanOutTimeout
            ? {
                cluster,
                ok: false,
                code: "timeout",
                message: `Timed out after ${formatTimeout(options.timeoutMilliseconds)}.`,
              }
            : { cluster, ok: false, ...failureOf(error) };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(options.concurrency), clusters.length));
  await Promise.all(Array.from({ length: workers }, worker));
  options.onDone?.({
    clusters: clusters.length,
    failures: outcomes.flatMap((outcome) => (outcome.ok ? [] : [{ code: outcome.code }])),
    durationMilliseconds: performance.now() - started,
  });
  return outcomes;
}
