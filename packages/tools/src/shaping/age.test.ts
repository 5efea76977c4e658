import { describe, expect, it } from "vitest";
import { formatAge, formatDuration } from "./age.js";

describe("formatDuration", () => {
  it("prints seconds, minutes, hours, days and years with one unit", () => {
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(5 * 60_000)).toBe("5m");
    expect(formatDuration(3 * 3_600_000)).toBe("3h");
    expect(formatDuration(12 * 86_400_000)).toBe("12d");
    expect(formatDuration(3 * 365 * 86_400_000)).toBe("3y");
  });

  it("never prints a negative age for a clock slightly ahead", () => {
    expect(formatDuration(-5000)).toBe("0s");
  });

  it("says unknown for a missing or unreadable timestamp", () => {
    expect(formatAge(undefined)).toBe("<unknown>");
    expect(formatAge("yesterday")).toBe("<unknown>");
    expect(formatAge("2026-01-01T00:00:00Z", new Date("2026-01-01T00:05:00Z"))).toBe("5m");
  });
});
