import { GatewayError } from "@capi-mcp/core";

export interface RateLimiterOptions {
  /** Sustained requests per second. */
  readonly qps: number;
  /** Requests allowed at once after a quiet period (the bucket's size). */
  readonly burst: number;
  /** A monotonic clock in milliseconds; replaceable in tests. */
  readonly now?: () => number;
}

export interface RateLimiter {
  /** Resolves when the caller may send one request. Callers are served in arrival order. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Callers waiting for a token. */
  readonly waiting: number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * A token bucket, like client-go's default limiter, so one runaway caller cannot flood an API
 * server. Unlike a limiter that sheds load, a waiting caller is never dropped: it stays queued
 * until a token is free or its signal aborts.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { qps, burst } = options;
  if (!(qps > 0) || !Number.isFinite(qps)) {
    throw new GatewayError("invalid_input", `The QPS limit must be a positive number, not ${qps}.`);
  }
  if (!Number.isInteger(burst) || burst < 1) {
    throw new GatewayError("invalid_input", `The burst limit must be a whole number of at least 1, not ${burst}.`);
  }
  const now = options.now ?? (() => performance.now());
  let tokens = burst;
  let refilledAt = now();
  const queue: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;

  function refill(): void {
    const time = now();
    tokens = Math.min(burst, tokens + ((time - refilledAt) * qps) / 1000);
    refilledAt = time;
  }

  function serve(): void {
    timer = undefined;
    refill();
    while (queue.length > 0 && tokens >= 1) {
      const waiter = queue.shift() as Waiter;
      tokens -= 1;
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.resolve();
    }
    schedule();
  }

  function schedule(): void {
    if (timer !== undefined || queue.length === 0) return;
    const delay = Math.max(0, ((1 - tokens) * 1000) / qps);
    timer = setTimeout(serve, Math.ceil(delay));
  }

  return {
    get waiting() {
      return queue.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      refill();
      if (queue.length === 0 && tokens >= 1) {
        tokens -= 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          signal,
          onAbort: () => {
            const index = queue.indexOf(waiter);
            if (index >= 0) queue.splice(index, 1);
            reject(signal?.reason);
          },
        };
        signal?.addEventListener("abort", waiter.onAbort, { once: true });
        queue.push(waiter);
        schedule();
      });
    },
  };
}
