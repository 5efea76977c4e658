import { describe, expect, it } from "vitest";
import { createKeyedRateLimiter } from "./rate-limiter.js";
import { createHarness, postForm, registerClient } from "./testing/harness.js";

describe("rate limits on the OAuth endpoints", () => {
  it("answers 429 with Retry-After once an address has used its burst, and serves it again after waiting", async () => {
    const harness = createHarness({ rateLimits: { perAddress: { capacity: 3, refillPerSecond: 0.5 } } });
    const call = (address: string) =>
      postForm(harness, "/oauth/token", { grant_type: "refresh_token", client_id: "c" }, { "x-test-address": address });
    for (let index = 0; index < 3; index += 1) {
      expect((await call("192.0.2.7")).status).not.toBe(429);
    }
    const limited = await call("192.0.2.7");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(((await limited.json()) as { error: string }).error).toBe("rate_limited");
    expect((await call("192.0.2.8")).status).not.toBe(429);
    harness.advance(2);
    expect((await call("192.0.2.7")).status).not.toBe(429);
    expect(harness.events.some((event) => event.type === "rate_limited" && event.limit === "address")).toBe(true);
  });

  it("limits per client id across addresses", async () => {
    const harness = createHarness({ rateLimits: { perClient: { capacity: 2, refillPerSecond: 1 } } });
    const client = await registerClient(harness);
    const call = (address: string) =>
      postForm(
        harness,
        "/oauth/token",
        { grant_type: "refresh_token", client_id: client.clientId, refresh_token: "x" },
        { "x-test-address": address },
      );
    expect((await call("198.51.100.1")).status).toBe(400);
    expect((await call("198.51.100.2")).status).toBe(400);
    const limited = await call("198.51.100.3");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
  });

  it("answers a browser endpoint's 429 as an HTML page", async () => {
    const harness = createHarness({ rateLimits: { perAddress: { capacity: 1, refillPerSecond: 1 } } });
    await harness.request("/oauth/authorize");
    const limited = await harness.request("/oauth/authorize");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toContain("text/html");
    expect(limited.headers.get("retry-after")).toBe("1");
  });

  it("leaves the metadata documents unlimited", async () => {
    const harness = createHarness({ rateLimits: { perAddress: { capacity: 1, refillPerSecond: 1 } } });
    for (let index = 0; index < 5; index += 1) {
      expect((await harness.request("/.well-known/oauth-authorization-server")).status).toBe(200);
    }
  });
});

describe("the token bucket", () => {
  it("refills continuously and never beyond its capacity", () => {
    let time = 0;
    const limiter = createKeyedRateLimiter({ capacity: 2, refillPerSecond: 1 }, () => time);
    expect(limiter.take("k").allowed).toBe(true);
    expect(limiter.take("k").allowed).toBe(true);
    expect(limiter.take("k")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    time += 10_000;
    expect(limiter.take("k").allowed).toBe(true);
    expect(limiter.take("k").allowed).toBe(true);
    expect(limiter.take("k").allowed).toBe(false);
  });
});
