import { describe, expect, it } from "vitest";
import { parseReadyz } from "./health.js";

describe("reading /readyz?verbose", () => {
  it("turns each check line into a named pass or failure and ignores the summary", () => {
    const text = [
      "[+]ping ok",
      "[+]log ok",
      "[-]etcd failed: reason withheld",
      "[+]poststarthook/start-kube-aggregator-informers ok",
      "[+]shutdown excluded: this endpoint is excluded",
      "readyz check failed",
    ].join("\n");
    expect(parseReadyz(text)).toEqual([
      { name: "ping", ok: true },
      { name: "log", ok: true },
      { name: "etcd", ok: false },
      { name: "poststarthook/start-kube-aggregator-informers", ok: true },
    ]);
  });
});
