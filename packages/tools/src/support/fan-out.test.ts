import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { failureOf, fanOut, formatTimeout } from "./fan-out.js";

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

describe("fanOut", () => {
  it("never has more clusters in flight than the concurrency, yet uses all of it", async () => {
    let current = 0;
    let maximum = 0;
    const clusters = Array.from({ length: 10 }, (_, index) => `org/c${index}`);
    const outcomes = await fanOut(
      clusters,
      async (cluster) => {
        current += 1;
        maximum = Math.max(maximum, current);
        await delay(5 + (cluster.length % 3));
        current -= 1;
        return cluster.toUpperCase();
      },
      { concurrency: 3, timeoutMilliseconds: 1000 },
    );
    expect(maximum).toBe(3);
    expect(outcomes.map((outcome) => (outcome.ok ? outcome.value : undefined))).toEqual(
      clusters.map((cluster) => cluster.toUpperCase()),
    );
  });

  it("times out a cluster that never answers without failing or holding up the others", async () => {
    const started = Date.now();
    const outcomes = await fanOut(
      ["a/dead", "a/one", "a/two", "a/three"],
      async (cluster) => {
        if (cluster === "a/dead") await new Promise(() => {});
        await delay(10);
        return cluster;
      },
      { concurrency: 2, timeoutMilliseconds: 150 },
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(outcomes[0]).toEqual({ cluster: "a/dead", ok: false, code: "timeout", message: "Timed out after 150 ms." });
    expect(outcomes.slice(1).every((outcome) => outcome.ok)).toBe(true);
  });

  it("tells onDone once how many clusters there were and which codes failed, never their names", async () => {
    const reports: unknown[] = [];
    await fanOut(
      ["a/forbidden", "a/fine", "a/dead"],
      async (cluster) => {
        if (cluster === "a/forbidden") throw new GatewayError("forbidden", "no");
        if (cluster === "a/dead") await new Promise(() => {});
        return cluster;
      },
      { concurrency: 3, timeoutMilliseconds: 50, onDone: (report) => reports.push(report) },
    );
    expect(reports).toEqual([
      { clusters: 3, failures: [{ code: "forbidden" }, { code: "timeout" }], durationMilliseconds: expect.any(Number) },
    ]);
  });

  it("reports each cluster's error in its place, in the caller's words", async () => {
    const outcomes = await fanOut(
      ["a/forbidden", "a/fine", "a/broken"],
      async (cluster) => {
        if (cluster === "a/forbidden") {
          throw new GatewayError("forbidden", "Forbidden: you may not list pods on cluster a/forbidden.");
        }
        if (cluster === "a/broken") throw new TypeError("cannot read properties of undefined (secret internals)");
        return 1;
      },
      { concurrency: 4, timeoutMilliseconds: 1000 },
    );
    expect(outcomes[0]).toMatchObject({
      ok: false,
      code: "forbidden",
      message: "Forbidden: you may not list pods on cluster a/forbidden.",
    });
    expect(outcomes[1]).toMatchObject({ ok: true, value: 1 });
    expect(outcomes[2]).toMatchObject({ ok: false, code: "internal" });
    expect(JSON.stringify(outcomes[2])).not.toContain("secret internals");
  });

  it("starts no cluster once the call is cancelled", async () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    const outcomes = await fanOut(
      ["a/one", "a/two"],
      async () => {
        calls += 1;
        return 1;
      },
      { concurrency: 2, timeoutMilliseconds: 1000, signal: controller.signal },
    );
    expect(calls).toBe(0);
    expect(outcomes.every((outcome) => !outcome.ok && outcome.message.includes("cancelled"))).toBe(true);
  });
});

describe("failureOf", () => {
  it("puts the code's label before a message that does not start with it", () => {
    expect(failureOf(new GatewayError("unavailable", "Cluster a/b cannot be reached.")).message).toBe(
      "Unavailable: Cluster a/b cannot be reached.",
    );
    expect(failureOf(new GatewayError("timeout", "Timed out after 2 s.")).message).toBe("Timed out after 2 s.");
  });
});

describe("formatTimeout", () => {
  it("says seconds, fractional seconds or milliseconds", () => {
    expect(formatTimeout(15_000)).toBe("15 s");
    expect(formatTimeout(1500)).toBe("1.5 s");
    expect(formatTimeout(250)).toBe("250 ms");
  });
});
