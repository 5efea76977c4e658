import { describe, expect, it } from "vitest";
import { createClientPoolMetrics } from "./client-pool-metrics.js";
import { createPrometheusMetrics } from "./prometheus-metrics.js";

describe("client pool metrics", () => {
  it("are scraped under giantswarm's names: hits, misses, evictions by reason, entries", async () => {
    const prometheus = createPrometheusMetrics({ serviceName: "test", serviceVersion: "0" });
    const poolMetrics = createClientPoolMetrics({ meter: prometheus.meter, entries: () => 7 });
    poolMetrics.record({ type: "miss" });
    poolMetrics.record({ type: "hit" });
    poolMetrics.record({ type: "hit" });
    poolMetrics.record({ type: "eviction", reason: "unauthorized" });
    const text = await prometheus.scrape();
    await prometheus.shutdown();
    expect(text).toContain("\nmcp_kubernetes_client_cache_hits_total 2\n");
    expect(text).toContain("\nmcp_kubernetes_client_cache_misses_total 1\n");
    expect(text).toContain('\nmcp_kubernetes_client_cache_evictions_total{reason="unauthorized"} 1\n');
    expect(text).toContain("\nmcp_kubernetes_client_cache_entries 7\n");
    expect(text).toContain("# TYPE mcp_kubernetes_client_cache_hits_total counter");
  });
});
