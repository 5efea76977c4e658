import { type Meter, metrics } from "@opentelemetry/api";

export interface ClientPoolEvent {
  readonly type: "hit" | "miss" | "eviction";
  readonly reason?: string;
}

export interface ClientPoolMetrics {
  record(event: ClientPoolEvent): void;
}

/**
 * Counters for the per-user cluster client pool: hits, misses, evictions by reason, and the
 * number of entries (read when metrics are collected).
 */
export function createClientPoolMetrics(options: { meter?: Meter; entries: () => number }): ClientPoolMetrics {
  const meter = options.meter ?? metrics.getMeter("capi-mcp");
  const events = meter.createCounter("capi_mcp.client_pool.events", {
    description: "Client pool lookups (hit, miss) and evictions, by reason",
  });
  const entries = meter.createObservableGauge("capi_mcp.client_pool.entries", {
    description: "Cluster clients currently pooled",
  });
  entries.addCallback((result) => result.observe(options.entries()));
  return {
    record(event) {
      events.add(1, {
        "capi_mcp.client_pool.event": event.type,
        ...(event.reason ? { "capi_mcp.client_pool.reason": event.reason } : {}),
      });
    },
  };
}
