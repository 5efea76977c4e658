import { describe, expect, it } from "vitest";
import { defaultExecTimeoutMilliseconds, execTimeoutWithin } from "./exec-bound.js";

describe("execTimeoutWithin", () => {
  it("keeps the exec bound strictly inside every tool timeout, with time left to answer", () => {
    // A seeded walk over the configurable range (1 s to 1 h) plus its edges.
    let state = 7;
    const timeouts = [1000, 1001, 2500, 29_999, 30_000, 30_001, 37_500, 60_000, 3_600_000];
    for (let index = 0; index < 500; index += 1) {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      timeouts.push(1000 + (state % 3_599_001));
    }
    for (const toolTimeout of timeouts) {
      const bound = execTimeoutWithin(toolTimeout);
      expect(bound, `tool timeout ${toolTimeout}`).toBeGreaterThan(0);
      expect(toolTimeout - bound, `tool timeout ${toolTimeout}`).toBeGreaterThanOrEqual(500);
      expect(bound).toBeLessThanOrEqual(defaultExecTimeoutMilliseconds);
    }
  });

  it("uses the whole default when the tool timeout leaves room for it", () => {
    expect(execTimeoutWithin(60_000)).toBe(30_000);
    expect(execTimeoutWithin(30_000)).toBe(24_000);
    expect(execTimeoutWithin(120_000, 90_000)).toBe(90_000);
  });
});
