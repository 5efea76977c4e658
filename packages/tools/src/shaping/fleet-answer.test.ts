import { describe, expect, it } from "vitest";
import { byteLength } from "./budget.js";
import { renderFleetAnswer } from "./fleet-answer.js";

function rows(prefix: string, count: number): string {
  return Array.from(
    { length: count },
    (_, index) => `${prefix}-${String(index).padStart(4, "0")}  Running  ${"x".repeat(80)}`,
  ).join("\n");
}

describe("renderFleetAnswer", () => {
  it("keeps everything when it fits: header, one section per cluster, then the error lines", () => {
    const text = renderFleetAnswer({
      header: "pods on 3 clusters: 2 answered, 1 failed (errors at the end).",
      sections: [
        { cluster: "org-acme/dev", body: "NAME  STATUS\nweb  Running", footer: "1 pods in namespace shop." },
        { cluster: "org-acme/prod", body: "", footer: "No pods in namespace shop." },
      ],
      failures: [{ cluster: "org-globex/prod", message: "Timed out after 5 s." }],
      budgetBytes: 10_000,
      narrowHint: "Narrow it.",
    });
    expect(text).toBe(
      [
        "pods on 3 clusters: 2 answered, 1 failed (errors at the end).",
        "",
        "## org-acme/dev\nNAME  STATUS\nweb  Running\n1 pods in namespace shop.",
        "",
        "## org-acme/prod\nNo pods in namespace shop.",
        "",
        "Errors (1 of 3 clusters):\norg-globex/prod: Timed out after 5 s.",
      ].join("\n"),
    );
  });

  it("cuts only the big sections, each keeping its footer, and stays within the budget with the errors intact", () => {
    const text = renderFleetAnswer({
      header: "pods on 3 clusters.",
      sections: [
        { cluster: "a/huge", body: rows("huge", 400), footer: 'More exist: continue: "HUGE-TOKEN".' },
        { cluster: "a/small", body: rows("small", 3), footer: "This is the complete list." },
        { cluster: "a/big", body: rows("big", 300), footer: 'More exist: continue: "BIG-TOKEN".' },
      ],
      failures: [{ cluster: "a/dead", message: "Timed out after 5 s." }],
      budgetBytes: 20_000,
      narrowHint: "Ask for a smaller limit.",
    });
    expect(byteLength(text)).toBeLessThanOrEqual(20_000);
    expect(text).toContain('continue: "HUGE-TOKEN"');
    expect(text).toContain('continue: "BIG-TOKEN"');
    expect(text.match(/small-\d{4}/g)).toHaveLength(3);
    expect(text.match(/\[Truncated: /g)).toHaveLength(2);
    const huge = text.match(/huge-\d{4}/g)?.length ?? 0;
    const big = text.match(/big-\d{4}/g)?.length ?? 0;
    expect(Math.abs(huge - big)).toBeLessThanOrEqual(1);
    expect(huge).toBeGreaterThan(50);
    expect(text.endsWith("Errors (1 of 4 clusters):\na/dead: Timed out after 5 s.")).toBe(true);
  });
});
