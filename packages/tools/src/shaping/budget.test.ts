import { describe, expect, it } from "vitest";
import { byteLength, fitToBudget } from "./budget.js";

describe("fitToBudget", () => {
  const body = Array.from({ length: 100 }, (_, index) => `line ${index} ${"x".repeat(40)}`).join("\n");

  it("leaves an answer within the budget untouched", () => {
    const result = fitToBudget("short", { budgetBytes: 100, narrowHint: "Narrow it.", footer: "footer" });
    expect(result).toEqual({ text: "short\nfooter", truncated: false, omittedBytes: 0, omittedLines: 0 });
  });

  it("cuts at a line boundary, says how much was left out and how to narrow, and keeps the footer", () => {
    const result = fitToBudget(body, {
      budgetBytes: 1500,
      narrowHint: "Use a labelSelector.",
      footer: "PAGING FOOTER",
    });
    expect(result.truncated).toBe(true);
    expect(byteLength(result.text)).toBeLessThanOrEqual(1500);
    const lines = result.text.split("\n");
    expect(lines.at(-1)).toBe("PAGING FOOTER");
    const note = lines.at(-2) ?? "";
    expect(note).toMatch(/^\[Truncated: .*\d+ lines \(\d+ bytes\) left out\. Use a labelSelector\.\]$/);
    const kept = lines.slice(0, -2);
    expect(kept.every((line) => /^line \d+ x{40}$/.test(line))).toBe(true);
    expect(kept.length + result.omittedLines).toBe(100);
  });

  it("counts bytes, not characters, for multi-byte text", () => {
    const wide = Array.from({ length: 50 }, () => "ü".repeat(20)).join("\n");
    const result = fitToBudget(wide, { budgetBytes: 600, narrowHint: "Less." });
    expect(result.truncated).toBe(true);
    expect(byteLength(result.text)).toBeLessThanOrEqual(600);
  });

  it("cuts inside a single line that alone exceeds the budget rather than return nothing", () => {
    const result = fitToBudget("y".repeat(5000), { budgetBytes: 1000, narrowHint: "Less." });
    expect(result.truncated).toBe(true);
    expect(result.text.startsWith("yyyy")).toBe(true);
    expect(byteLength(result.text)).toBeLessThanOrEqual(1000);
  });
});
