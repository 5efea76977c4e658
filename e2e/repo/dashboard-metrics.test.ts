// The chart's Grafana dashboards query only metrics the gateway exports: every metric name in
// every panel's PromQL is checked against an exposition made by the gateway's own instrument
// factories, each instrument recorded once, scraped through the Prometheus exporter.
import {
  createAuditMetrics,
  createClientPoolMetrics,
  createGatewayMetrics,
  createOAuthMetrics,
  createPrometheusMetrics,
  createSessionMetrics,
  createToolTelemetry,
} from "@capi-mcp/telemetry";
import { describe, expect, it } from "vitest";
import { dashboardFiles, dashboardQueries, metricNamesIn, seriesNamesIn } from "../chart/dashboards.ts";

async function exportedSeriesNames(): Promise<Set<string>> {
  const prometheus = createPrometheusMetrics({ serviceName: "dashboard-test", serviceVersion: "0.0.0" });
  const meter = prometheus.meter;
  try {
    const gateway = createGatewayMetrics({
      meter,
      discoveryMode: "capi",
      authMode: "impersonation",
      isManagementCluster: () => false,
      detailedLabels: false,
    });
    gateway.recordHttpRequest({ method: "POST", path: "/mcp", status: 200, durationSeconds: 0.01 });
    gateway.recordToolCall({
      tool: "k8s_get_pod_logs",
      operationClass: "read",
      outcome: "ok",
      namespace: "web",
      durationSeconds: 0.1,
    });
    gateway.recordDownstreamAuth("success");
    gateway.recordFanOut({ clusters: 2, failures: [{ code: "timeout" }], durationSeconds: 1 });
    gateway.observeDiscoveredClusters(() => 2);
    gateway.recordBuildInfo({ version: "0.0.0", nodeVersion: process.version });
    const pool = createClientPoolMetrics({ meter, entries: () => 1 });
    for (const type of ["hit", "miss", "eviction"] as const) pool.record({ type, reason: "expired" });
    createSessionMetrics({ meter, sessions: () => 1, portForwards: () => 1 }).record({ type: "opened" });
    const oauth = createOAuthMetrics({ meter });
    oauth.recordSecurityEvent("code_reuse");
    oauth.recordDecryptionFailure("malformed");
    oauth.recordRegistrationRefused("capacity");
    createAuditMetrics(meter).count("mutation");
    createToolTelemetry({ meter }).startToolCall({ tool: "k8s_list_resources" }).end({ outcome: "ok" });
    const text = await prometheus.scrape();
    return seriesNamesIn(text);
  } finally {
    await prometheus.shutdown();
  }
}

describe("the chart's Grafana dashboards", () => {
  const files = dashboardFiles();

  it("exist, as JSON with a uid and panels", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const { file, dashboard } of files) {
      expect(dashboard.uid, file).toMatch(/^[a-z0-9-]+$/);
      expect(dashboard.panels?.length, file).toBeGreaterThan(0);
    }
  });

  it("query only metrics the gateway exports", async () => {
    const exported = await exportedSeriesNames();
    expect(exported).toContain("http_requests_total");
    let checked = 0;
    for (const { file, panel, expr, names } of dashboardQueries()) {
      expect(names.length, `${file} "${panel}": ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(exported.has(name), `${file} "${panel}" queries ${name}, which the gateway does not export`).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it("reads metric names out of PromQL, not label names, functions or strings", () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, path) (rate(http_request_duration_seconds_bucket{job=~"$job", path="x_total"}[$__rate_interval])))',
      ),
    ).toEqual(["http_request_duration_seconds_bucket"]);
    expect(metricNamesIn("sum(a_total) / sum(b_total) > 0.2")).toEqual(["a_total", "b_total"]);
  });
});
