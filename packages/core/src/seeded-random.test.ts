import { describe, expect, it } from "vitest";
import { seededRandom } from "./seeded-random.js";

describe("seededRandom", () => {
  it("repeats its sequence for a seed, differs between seeds, and stays in [0, 1)", () => {
    const first = seededRandom(42);
    const again = seededRandom(42);
    const other = seededRandom(43);
    const a = Array.from({ length: 1000 }, () => first());
    expect(Array.from({ length: 1000 }, () => again())).toEqual(a);
    expect(Array.from({ length: 1000 }, () => other())).not.toEqual(a);
    expect(a.every((value) => value >= 0 && value < 1)).toBe(true);
    // Spread over the interval, not stuck: each tenth gets a fair share of 1,000 draws.
    const tenths = new Array(10).fill(0);
    for (const value of a) tenths[Math.floor(value * 10)] += 1;
    for (const count of tenths) expect(count).toBeGreaterThan(60);
  });
});
