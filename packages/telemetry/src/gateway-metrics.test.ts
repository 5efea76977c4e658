import { describe, expect, it } from "vitest";
import { createGatewayMetrics, type GatewayMetricsOptions, kubernetesOperationOf } from "./gateway-metrics.js";
import { createPrometheusMetrics } from "./prometheus-metrics.js";

async function scrapeAfter(
  options: Omit<GatewayMetricsOptions, "meter">,
  record: (metrics: ReturnType<typeof createGatewayMetrics>) => void,
): Promise<string> {
  const prometheus = createPrometheusMetrics({ serviceName: "test", serviceVersion: "0" });
  try {
    record(createGatewayMetrics({ ...options, meter: prometheus.meter }));
    return await prometheus.scrape();
  } finally {
    await prometheus.shutdown();
  }
}

/** Every series name in the exposition (without labels). */
function seriesNames(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => line.replace(/[{ ].*$/, "")),
  );
}

const capi: Omit<GatewayMetricsOptions, "meter"> = {
  discoveryMode: "capi",
  authMode: "impersonation",
  isManagementCluster: (cluster) => cluster === "management",
  detailedLabels: false,
};

describe("the gateway's metrics", () => {
  it("are exposed under exactly giantswarm's names and the gateway's own", async () => {
    const text = await scrapeAfter(capi, (metrics) => {
      metrics.recordHttpRequest({ method: "POST", path: "/mcp", status: 200, durationSeconds: 0.02 });
      metrics.recordToolCall({
        tool: "k8s_get_pod_logs",
        operationClass: "read",
        outcome: "ok",
        cluster: "org-acme/prod",
        namespace: "shop",
        durationSeconds: 0.3,
      });
      metrics.recordDownstreamAuth("failure");
      metrics.recordFanOut({ clusters: 3, failures: [{ code: "timeout" }, { code: "timeout" }], durationSeconds: 1.2 });
      metrics.observeDiscoveredClusters(() => 2000);
      metrics.recordBuildInfo({ version: "1.2.3", nodeVersion: "v24.9.0" });
    });
    const names = seriesNames(text);
    for (const name of [
      "http_requests_total",
      "http_request_duration_seconds_bucket",
      "http_request_duration_seconds_count",
      "http_request_duration_seconds_sum",
      "mcp_kubernetes_operations_total",
      "mcp_kubernetes_operation_duration_seconds_bucket",
      "kubernetes_pod_operations_total",
      "oauth_downstream_auth_total",
      "mcp_kubernetes_impersonation_total",
      "mcp_kubernetes_wc_auth_total",
      "capi_mcp_fanout_duration_seconds_count",
      "capi_mcp_fanout_cluster_failures_total",
      "capi_mcp_discovered_clusters",
      "capi_mcp_build_info",
    ]) {
      expect(names, name).toContain(name);
    }
    expect(text).toContain('http_requests_total{method="POST",path="/mcp",status="200"} 1');
    expect(text).toContain(
      'mcp_kubernetes_operations_total{cluster_scope="workload",discovery_mode="capi",operation="logs",status="success"} 1',
    );
    expect(text).toContain('kubernetes_pod_operations_total{operation="logs",namespace="shop",status="success"} 1');
    expect(text).toContain('mcp_kubernetes_impersonation_total{result="success"} 1');
    expect(text).toContain('mcp_kubernetes_wc_auth_total{auth_mode="impersonation",result="success"} 1');
    expect(text).toContain('oauth_downstream_auth_total{result="failure"} 1');
    expect(text).toContain('capi_mcp_fanout_cluster_failures_total{error_code="timeout"} 2');
    expect(text).toContain("capi_mcp_discovered_clusters 2000");
    expect(text).toContain('capi_mcp_build_info{version="1.2.3",node_version="v24.9.0"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{method="POST",path="/mcp",status="200",le="0.1"} 1');
    // No name gained a second suffix (`_total_total`, `_seconds_seconds`).
    expect(text).not.toMatch(/_total_total|_seconds_seconds/);
  });

  it("labels a series with its cluster only when detailed labels are on", async () => {
    const call = {
      tool: "k8s_list_resources",
      operationClass: "read",
      outcome: "error",
      errorCode: "forbidden",
      cluster: "org-acme/prod",
      durationSeconds: 0.1,
    } as const;
    const plain = await scrapeAfter(capi, (metrics) => metrics.recordToolCall(call));
    expect(plain).not.toContain("org-acme/prod");
    expect(plain).toContain('mcp_kubernetes_impersonation_total{result="denied"} 1');
    const detailed = await scrapeAfter({ ...capi, detailedLabels: true }, (metrics) => metrics.recordToolCall(call));
    expect(detailed).toContain(
      'mcp_kubernetes_operations_total{cluster_scope="workload",discovery_mode="capi",operation="list",status="error",cluster="org-acme/prod"} 1',
    );
  });

  it("counts no Kubernetes operation for session tools or denied calls, and none of the auth series for a local user", async () => {
    const text = await scrapeAfter({ ...capi, discoveryMode: "single", authMode: undefined }, (metrics) => {
      metrics.recordToolCall({
        tool: "k8s_list_contexts",
        operationClass: "session",
        outcome: "ok",
        durationSeconds: 0,
      });
      metrics.recordToolCall({
        tool: "k8s_delete_resource",
        operationClass: "delete",
        outcome: "denied",
        errorCode: "denied_by_policy",
        durationSeconds: 0,
      });
      metrics.recordToolCall({ tool: "k8s_get_resource", operationClass: "read", outcome: "ok", durationSeconds: 0 });
    });
    expect(text).toContain(
      'mcp_kubernetes_operations_total{cluster_scope="workload",discovery_mode="single",operation="get",status="success"} 1',
    );
    expect(text).not.toContain('operation="delete"');
    expect(text).not.toContain("mcp_kubernetes_impersonation_total{");
    expect(text).not.toContain("mcp_kubernetes_wc_auth_total{");
  });

  it("names each tool's operation by its verb, the pod tools as giantswarm does", () => {
    expect(kubernetesOperationOf("k8s_list_resources")).toBe("list");
    expect(kubernetesOperationOf("k8s_get_pod_logs")).toBe("logs");
    expect(kubernetesOperationOf("k8s_exec_pod")).toBe("exec");
    expect(kubernetesOperationOf("k8s_port_forward_service")).toBe("port-forward");
    expect(kubernetesOperationOf("capi_cluster_health")).toBe("health");
    expect(kubernetesOperationOf("k8s_apply_resource")).toBe("apply");
  });
});
