import type { Meter } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { createClientPoolMetrics } from "./client-pool-metrics.js";

describe("client pool metrics", () => {
  it("counts events by type and reason, and observes the number of entries", () => {
    const added: { value: number; attributes: unknown }[] = [];
    let observe: ((result: { observe(value: number): void }) => void) | undefined;
    const meter = {
      createCounter: () => ({ add: (value: number, attributes: unknown) => added.push({ value, attributes }) }),
      createObservableGauge: () => ({ addCallback: (callback: typeof observe) => (observe = callback) }),
    } as unknown as Meter;
    const poolMetrics = createClientPoolMetrics({ meter, entries: () => 7 });
    poolMetrics.record({ type: "miss" });
    poolMetrics.record({ type: "eviction", reason: "unauthorized" });
    expect(added).toEqual([
      { value: 1, attributes: { "capi_mcp.client_pool.event": "miss" } },
      {
        value: 1,
        attributes: { "capi_mcp.client_pool.event": "eviction", "capi_mcp.client_pool.reason": "unauthorized" },
      },
    ]);
    const observed: number[] = [];
    observe?.({ observe: (value) => observed.push(value) });
    expect(observed).toEqual([7]);
  });
});
