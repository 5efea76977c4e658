import { GatewayError } from "@capi-mcp/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRateLimiter } from "./rate-limiter.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function limiter(qps: number, burst: number) {
  return createRateLimiter({ qps, burst, now: () => Date.now() });
}

describe("the client-side rate limiter", () => {
  it("lets a burst through at once, then holds callers to the QPS", async () => {
    const bucket = limiter(10, 3);
    const granted: number[] = [];
    const start = Date.now();
    const calls = Array.from({ length: 6 }, (_, index) =>
      bucket.acquire().then(() => granted.push(Date.now() - start + index * 0)),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(3);
    expect(bucket.waiting).toBe(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(granted).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(200);
    expect(granted).toHaveLength(6);
    await Promise.all(calls);
    expect(granted.slice(3)).toEqual([100, 200, 300]);
  });

  it("serves waiting callers in arrival order and never drops one", async () => {
    const bucket = limiter(100, 1);
    const order: number[] = [];
    const calls = Array.from({ length: 50 }, (_, index) => bucket.acquire().then(() => order.push(index)));
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: 50 }, (_, index) => index));
  });

  it("refills up to the burst after a quiet period, not beyond", async () => {
    const bucket = limiter(10, 2);
    await bucket.acquire();
    await bucket.acquire();
    await vi.advanceTimersByTimeAsync(10_000);
    let granted = 0;
    for (let index = 0; index < 3; index += 1) void bucket.acquire().then(() => (granted += 1));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toBe(2);
  });

  it("takes an aborted caller out of the queue without holding up the others", async () => {
    const bucket = limiter(10, 1);
    await bucket.acquire();
    const controller = new AbortController();
    const aborted = bucket.acquire(controller.signal);
    const next = bucket.acquire();
    controller.abort(new Error("caller gave up"));
    await expect(aborted).rejects.toThrow("caller gave up");
    let served = false;
    void next.then(() => (served = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(served).toBe(true);
    expect(bucket.waiting).toBe(0);
  });

  it("refuses limits that make no sense", () => {
    expect(() => limiter(0, 1)).toThrow(GatewayError);
    expect(() => limiter(10, 0)).toThrow(GatewayError);
    expect(() => limiter(10, 1.5)).toThrow(GatewayError);
  });
});
