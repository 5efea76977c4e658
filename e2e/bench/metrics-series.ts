// The metrics series budget: how many Prometheus series the gateway can expose, measured by
// driving the gateway's own instrument factories through every label value they can take, for a
// fleet of N clusters, with METRICS_DETAILED_LABELS off (the default) and on. Used by
// federation.ts, which also counts the series a real gateway serving 2,000 clusters exposes.
import { gatewayErrorCodes } from "@capi-mcp/core";
import {
  createAuditMetrics,
  createClientPoolMetrics,
  createGatewayMetrics,
  createOAuthMetrics,
  createPrometheusMetrics,
  createSessionMetrics,
  createToolTelemetry,
} from "@capi-mcp/telemetry";
import { allTools } from "@capi-mcp/tools";

/** The stated budget with detailed labels off, whatever the number of clusters. */
export const seriesBudgetWithoutDetailedLabels = 12_000;
/** The stated budget with METRICS_DETAILED_LABELS on and 2,000 clusters (grows with the fleet). */
export const seriesBudgetWithDetailedLabels2000 = 50_000;

/** Series in a Prometheus text exposition (sample lines; a histogram counts each bucket). */
export function countSeries(exposition: string): number {
  return exposition.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#")).length;
}

export async function worstCaseSeries(clusters: number, detailedLabels: boolean): Promise<number> {
  const prometheus = createPrometheusMetrics({ serviceName: "bench", serviceVersion: "0.0.0" });
  const meter = prometheus.meter;
  try {
    const gateway = createGatewayMetrics({
      meter,
      discoveryMode: "capi",
      authMode: "impersonation",
      isManagementCluster: (cluster) => cluster === "management",
      detailedLabels,
    });
    const telemetry = createToolTelemetry({ meter });
    const names = ["management", ...Array.from({ length: clusters }, (_, index) => `org-bench/c-${index}`)];
    for (const tool of allTools) {
      for (const errorCode of [undefined, ...gatewayErrorCodes]) {
        const outcome = errorCode === undefined ? "ok" : errorCode === "denied_by_policy" ? "denied" : "error";
        telemetry.startToolCall({ tool: tool.name }).end({ outcome, errorCode });
        // Every cluster sees every tool succeed and fail (the per-cluster series exist only with detailed labels).
        const perCluster = errorCode === undefined || errorCode === "forbidden" ? names : ["management", names[1]];
        for (const cluster of perCluster) {
          gateway.recordToolCall({
            tool: tool.name,
            operationClass: tool.operation,
            outcome,
            errorCode,
            cluster,
            namespace: "web",
            durationSeconds: 0.05,
          });
        }
      }
    }
    const paths = ["/mcp", "/healthz", "/readyz", "/oauth/token", "/oauth/authorize", "/oauth/callback", "other"];
    for (const method of ["GET", "POST", "DELETE", "OTHER"]) {
      for (const path of paths) {
        for (const status of [200, 202, 400, 401, 403, 404, 405, 413, 429, 500, 503]) {
          gateway.recordHttpRequest({ method, path, status, durationSeconds: 0.01 });
        }
      }
    }
    gateway.recordDownstreamAuth("success");
    gateway.recordDownstreamAuth("failure");
    gateway.recordFanOut({ clusters, failures: gatewayErrorCodes.map((code) => ({ code })), durationSeconds: 3 });
    gateway.observeDiscoveredClusters(() => clusters);
    gateway.recordBuildInfo({ version: "0.0.0", nodeVersion: process.version });
    const pool = createClientPoolMetrics({ meter, entries: () => clusters });
    for (const reason of ["expired", "lru", "unauthorized", "rotated", "removed"]) {
      pool.record({ type: "eviction", reason });
    }
    pool.record({ type: "hit" });
    pool.record({ type: "miss" });
    createSessionMetrics({ meter, sessions: () => 1, portForwards: () => 1 }).record({ type: "opened" });
    const oauth = createOAuthMetrics({ meter });
    for (const event of ["code_reuse", "refresh_reuse", "pkce_failure", "rate_limited"] as const) {
      oauth.recordSecurityEvent(event);
    }
    const audit = createAuditMetrics(meter);
    audit.count("mutation");
    audit.count("read");
    return countSeries(await prometheus.scrape());
  } finally {
    await prometheus.shutdown();
  }
}
