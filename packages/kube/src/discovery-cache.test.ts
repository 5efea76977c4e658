import { describe, expect, it } from "vitest";
import { buildDiscoveryDocument, type DiscoveryDocument } from "./discovery.js";
import { createDiscoveryCache } from "./discovery-cache.js";

function counting() {
  let fetches = 0;
  let time = 0;
  const fetch = async (): Promise<DiscoveryDocument> => {
    fetches += 1;
    return buildDiscoveryDocument([], new Map());
  };
  return {
    fetch,
    now: () => time,
    advance: (milliseconds: number) => {
      time += milliseconds;
    },
    fetches: () => fetches,
  };
}

describe("the discovery cache", () => {
  it("serves the cached document within the TTL and fetches again after it", async () => {
    const source = counting();
    const cache = createDiscoveryCache({ fetch: source.fetch, ttlMilliseconds: 300_000, now: source.now });
    await cache.current();
    source.advance(299_000);
    await cache.current();
    expect(source.fetches()).toBe(1);
    source.advance(2_000);
    await cache.current();
    expect(source.fetches()).toBe(2);
  });

  it("refreshes once on a miss, shares one fetch between concurrent misses, and throttles repeated misses", async () => {
    const source = counting();
    const cache = createDiscoveryCache({
      fetch: source.fetch,
      ttlMilliseconds: 300_000,
      missRefreshIntervalMilliseconds: 1_000,
      now: source.now,
    });
    await cache.current();
    source.advance(5_000);
    await Promise.all([cache.refreshAfterMiss(), cache.refreshAfterMiss(), cache.refreshAfterMiss()]);
    expect(source.fetches()).toBe(2);
    await cache.refreshAfterMiss();
    expect(source.fetches()).toBe(2);
    source.advance(1_500);
    await cache.refreshAfterMiss();
    expect(source.fetches()).toBe(3);
  });
});
