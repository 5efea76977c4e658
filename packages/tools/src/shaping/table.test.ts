import { describe, expect, it } from "vitest";
import { renderTable, truncateText } from "./table.js";

describe("renderTable", () => {
  it("aligns columns with two spaces and leaves no trailing spaces", () => {
    const table = renderTable(
      ["NAME", "STATUS", "AGE"],
      [
        ["web-1", "Running", "5m"],
        ["a", "CrashLoopBackOff", "12d"],
      ],
    );
    expect(table).toBe(
      ["NAME   STATUS            AGE", "web-1  Running           5m", "a      CrashLoopBackOff  12d"].join("\n"),
    );
    expect(table.split("\n").every((line) => line === line.trimEnd())).toBe(true);
  });

  it("shows missing cells as <none> and flattens newlines so rows stay rows", () => {
    expect(renderTable(["A", "B"], [[undefined, "two\nlines"]])).toBe("A       B\n<none>  two lines");
  });

  it("shortens long text with an ellipsis", () => {
    expect(truncateText("abcdefghij", 5)).toBe("abcd…");
    expect(truncateText("short", 10)).toBe("short");
  });
});

describe("renderTable blanks", () => {
  it("prints null as a blank cell, for markers like the current cluster's *", () => {
    expect(
      renderTable(
        ["CURRENT", "NAME"],
        [
          ["*", "dev"],
          [null, "prod"],
        ],
      ),
    ).toBe("CURRENT  NAME\n*        dev\n         prod");
  });
});
