import type { Meter } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { createSessionMetrics } from "./session-metrics.js";

describe("session metrics", () => {
  it("counts refusals and closures by reason, and observes open sessions and port-forward listeners", () => {
    const added: { value: number; attributes: unknown }[] = [];
    const callbacks = new Map<string, (result: { observe(value: number): void }) => void>();
    const meter = {
      createCounter: () => ({ add: (value: number, attributes: unknown) => added.push({ value, attributes }) }),
      createObservableGauge: (name: string) => ({
        addCallback: (callback: (result: { observe(value: number): void }) => void) => callbacks.set(name, callback),
      }),
    } as unknown as Meter;
    const sessionMetrics = createSessionMetrics({ meter, sessions: () => 12, portForwards: () => 3 });
    sessionMetrics.record({ type: "refused", reason: "principal-limit" });
    sessionMetrics.record({ type: "closed", reason: "client-gone" });
    sessionMetrics.record({ type: "opened" });
    expect(added).toEqual([
      { value: 1, attributes: { "capi_mcp.session.event": "refused", "capi_mcp.session.reason": "principal-limit" } },
      { value: 1, attributes: { "capi_mcp.session.event": "closed", "capi_mcp.session.reason": "client-gone" } },
      { value: 1, attributes: { "capi_mcp.session.event": "opened" } },
    ]);
    const observed: Record<string, number> = {};
    for (const [name, callback] of callbacks) callback({ observe: (value) => (observed[name] = value) });
    expect(observed).toEqual({ "capi_mcp.sessions.open": 12, active_port_forward_sessions: 3 });
  });
});
