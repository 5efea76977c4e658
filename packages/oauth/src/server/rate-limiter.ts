// Token buckets that shed load on the OAuth endpoints: a caller over its budget is refused with
// the seconds to wait, never queued, so a flood costs the gateway a map lookup and nothing more.

export interface TokenBucketSettings {
  /** Requests allowed at once after a quiet period. */
  readonly capacity: number;
  /** Sustained requests per second. */
  readonly refillPerSecond: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface KeyedRateLimiter {
  take(key: string): RateDecision;
  clear(): void;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Above this many keys, idle (full) buckets are dropped so memory stays bounded under a spray of addresses. */
const sweepThreshold = 10_000;

export function createKeyedRateLimiter(settings: TokenBucketSettings, now: () => number): KeyedRateLimiter {
  if (!(settings.capacity >= 1) || !(settings.refillPerSecond > 0)) {
    throw new RangeError("A rate limit needs a capacity of at least 1 and a positive refill rate.");
  }
  const buckets = new Map<string, Bucket>();

  function refill(bucket: Bucket, time: number): void {
    const elapsedSeconds = Math.max(0, time - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(settings.capacity, bucket.tokens + elapsedSeconds * settings.refillPerSecond);
    bucket.updatedAt = time;
  }

  function sweep(time: number): void {
    for (const [key, bucket] of buckets) {
      refill(bucket, time);
      if (bucket.tokens >= settings.capacity) {
        buckets.delete(key);
      }
    }
  }

  return {
    take(key) {
      const time = now();
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= sweepThreshold) {
          sweep(time);
        }
        bucket = { tokens: settings.capacity, updatedAt: time };
        buckets.set(key, bucket);
      }
      refill(bucket, time);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / settings.refillPerSecond));
      return { allowed: false, retryAfterSeconds };
    },
    clear() {
      buckets.clear();
    },
  };
}
