import { type Meter, metrics } from "@opentelemetry/api";

export interface ClientPoolEvent {
  readonly type: "hit" | "miss" | "eviction";
  readonly reason?: string;
}

export interface ClientPoolMetrics {
  record(event: ClientPoolEvent): void;
}

/**
 * The per-user cluster client pool, under giantswarm's names: hits, misses, evictions by reason
 * (`mcp_kubernetes_client_cache_{hits,misses,evictions}_total`) and the entries pooled now
 * (`mcp_kubernetes_client_cache_entries`, read at collection). No cluster or user label: the pool
 * is keyed by (cluster, user), and either would grow the series with the fleet or the staff.
 */
export function createClientPoolMetrics(options: { meter?: Meter; entries: () => number }): ClientPoolMetrics {
  const meter = options.meter ?? metrics.getMeter("capi-mcp");
  const hits = meter.createCounter("mcp_kubernetes_client_cache_hits_total", {
    description: "Workload client lookups answered from the pool",
  });
  const misses = meter.createCounter("mcp_kubernetes_client_cache_misses_total", {
    description: "Workload client lookups that built a new client",
  });
  const evictions = meter.createCounter("mcp_kubernetes_client_cache_evictions_total", {
    description: "Workload clients dropped from the pool, by reason",
  });
  const entries = meter.createObservableGauge("mcp_kubernetes_client_cache_entries", {
    description: "Workload clients pooled now",
  });
  entries.addCallback((result) => result.observe(options.entries()));
  return {
    record(event) {
      if (event.type === "hit") hits.add(1);
      else if (event.type === "miss") misses.add(1);
      else evictions.add(1, { reason: event.reason ?? "unknown" });
    },
  };
}
