// The gateway's Prometheus-facing metrics, named and labelled as giantswarm/mcp-kubernetes names
// them (so its users' dashboards and alerts keep working), plus the gateway's own under
// `capi_mcp_`. Names are given whole, `_total` included: the Prometheus exporter appends `_total`
// only to a counter name that lacks it and never appends a unit, so what is created here is what
// is scraped.
//
// Cardinality is bounded by construction: every label value comes from a closed set (methods,
// route templates, status codes, tool names, operation classes, outcomes, error codes, auth
// modes) or, for `namespace` on pod operations, a namespace (as giantswarm labels it). A
// `cluster` label appears only with detailed labels on (METRICS_DETAILED_LABELS). Never a user
// name, email, token or object name.
import type { GatewayErrorCode } from "@capi-mcp/core";
import { type Attributes, type Meter, metrics } from "@opentelemetry/api";
import { instrumentationScope } from "./tool-telemetry.js";

/** giantswarm's duration buckets (seconds). */
export const giantswarmDurationBuckets = [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10];

export const gatewayMetricNames = {
  httpRequests: "http_requests_total",
  httpRequestDuration: "http_request_duration_seconds",
  kubernetesOperations: "mcp_kubernetes_operations_total",
  kubernetesOperationDuration: "mcp_kubernetes_operation_duration_seconds",
  podOperations: "kubernetes_pod_operations_total",
  /** Made by session-metrics.ts, which reads the session table. */
  activePortForwards: "active_port_forward_sessions",
  /** Made by client-pool-metrics.ts. */
  clientCacheHits: "mcp_kubernetes_client_cache_hits_total",
  clientCacheMisses: "mcp_kubernetes_client_cache_misses_total",
  clientCacheEvictions: "mcp_kubernetes_client_cache_evictions_total",
  clientCacheEntries: "mcp_kubernetes_client_cache_entries",
  downstreamAuth: "oauth_downstream_auth_total",
  impersonation: "mcp_kubernetes_impersonation_total",
  workloadAuth: "mcp_kubernetes_wc_auth_total",
  fanOutDuration: "capi_mcp_fanout_duration_seconds",
  fanOutClusterFailures: "capi_mcp_fanout_cluster_failures_total",
  discoveredClusters: "capi_mcp_discovered_clusters",
  /** Made by oauth-metrics.ts. */
  oauthEvents: "capi_mcp_oauth_events_total",
  buildInfo: "capi_mcp_build_info",
} as const;

/** How the gateway finds clusters (giantswarm's `discovery_mode`: `single` or `capi`). */
export type DiscoveryMode = "single" | "capi";

/** Which identity a workload call carries. */
export type AuthMode = "impersonation" | "sso-passthrough";

export interface ToolCallMeasurement {
  readonly tool: string;
  /** The tool's operation class (`read`, `create`, …, `session`): session tools touch no cluster. */
  readonly operationClass: string;
  readonly outcome: "ok" | "denied" | "error";
  readonly errorCode?: GatewayErrorCode | undefined;
  readonly cluster?: string | undefined;
  readonly namespace?: string | undefined;
  readonly durationSeconds: number;
}

export interface GatewayMetricsOptions {
  readonly meter?: Meter;
  readonly discoveryMode: DiscoveryMode;
  /** The identity workload calls carry, when the caller is a logged-in user; undefined for a local user. */
  readonly authMode: AuthMode | undefined;
  /** Whether a cluster is the management cluster (its scope), as opposed to a workload cluster. */
  readonly isManagementCluster: (cluster: string | undefined) => boolean;
  /** Adds a `cluster` label to per-cluster series (METRICS_DETAILED_LABELS). */
  readonly detailedLabels: boolean;
}

export interface GatewayMetrics {
  recordHttpRequest(request: { method: string; path: string; status: number; durationSeconds: number }): void;
  recordToolCall(call: ToolCallMeasurement): void;
  recordDownstreamAuth(result: "success" | "failure"): void;
  recordFanOut(report: {
    readonly clusters: number;
    readonly failures: readonly { readonly code: GatewayErrorCode }[];
    readonly durationSeconds: number;
  }): void;
  /** Read at each collection. */
  observeDiscoveredClusters(count: () => number): void;
  recordBuildInfo(info: { version: string; nodeVersion: string }): void;
}

/**
 * giantswarm's `operation` for a tool: the verb of its name (`k8s_list_resources` → `list`),
 * with the pod tools named as giantswarm names pod operations (`logs`, `exec`, `port-forward`).
 * One value per tool at most, so the set is the tool catalog's.
 */
export function kubernetesOperationOf(tool: string): string {
  const name = tool.replace(/^(k8s|capi)_/, "");
  if (name === "get_pod_logs") return "logs";
  if (name.startsWith("port_forward")) return "port-forward";
  if (name === "exec_pod") return "exec";
  if (name === "can_i") return "can-i";
  if (name === "get_api_resources") return "discovery";
  if (name.endsWith("cluster_health")) return "health";
  return name.split("_")[0] ?? name;
}

/** success, or why not, in giantswarm's result words where it has them. */
function authResultOf(call: ToolCallMeasurement): string {
  if (call.outcome === "ok") return "success";
  if (call.errorCode === "forbidden") return "denied";
  if (call.errorCode === "unauthenticated") return "token_expired";
  return "error";
}

export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const meter = options.meter ?? metrics.getMeter(instrumentationScope);
  const seconds = { unit: "s", advice: { explicitBucketBoundaries: giantswarmDurationBuckets } } as const;
  const httpRequests = meter.createCounter(gatewayMetricNames.httpRequests, {
    description: "HTTP requests on the MCP port, by method, route template and status",
  });
  const httpDuration = meter.createHistogram(gatewayMetricNames.httpRequestDuration, {
    description: "Duration of HTTP requests on the MCP port, by method, route template and status",
    ...seconds,
  });
  const operations = meter.createCounter(gatewayMetricNames.kubernetesOperations, {
    description:
      "Tool calls that ran against a Kubernetes API server, by cluster scope, discovery mode, operation and status",
  });
  const operationDuration = meter.createHistogram(gatewayMetricNames.kubernetesOperationDuration, {
    description: "Duration of tool calls that ran against a Kubernetes API server",
    ...seconds,
  });
  const podOperations = meter.createCounter(gatewayMetricNames.podOperations, {
    description: "Pod log reads and execs, by operation, namespace and status",
  });
  const downstreamAuth = meter.createCounter(gatewayMetricNames.downstreamAuth, {
    description: "Bearer tokens checked on the MCP endpoint, by result (success, failure)",
  });
  const impersonation = meter.createCounter(gatewayMetricNames.impersonation, {
    description: "Kubernetes operations run as an impersonated user, by result (success, denied, token_expired, error)",
  });
  const workloadAuth = meter.createCounter(gatewayMetricNames.workloadAuth, {
    description: "Kubernetes operations on workload clusters as the user, by auth mode and result",
  });
  const fanOutDuration = meter.createHistogram(gatewayMetricNames.fanOutDuration, {
    description: "Duration of fleet-wide calls across clusters",
    ...seconds,
  });
  const fanOutFailures = meter.createCounter(gatewayMetricNames.fanOutClusterFailures, {
    description: "Clusters that failed inside a fleet-wide call, by error code",
  });
  const clusterLabel = (cluster: string | undefined): Attributes =>
    options.detailedLabels && cluster !== undefined ? { cluster } : {};

  return {
    recordHttpRequest(request) {
      const attributes = { method: request.method, path: request.path, status: String(request.status) };
      httpRequests.add(1, attributes);
      httpDuration.record(request.durationSeconds, attributes);
    },
    recordToolCall(call) {
      // Session tools touch no cluster; a denied call never reached one.
      if (call.operationClass === "session" || call.outcome === "denied") return;
      const operation = kubernetesOperationOf(call.tool);
      const management = options.isManagementCluster(call.cluster);
      const status = call.outcome === "ok" ? "success" : "error";
      const attributes: Attributes = {
        cluster_scope: management ? "management" : "workload",
        discovery_mode: options.discoveryMode,
        operation,
        status,
        ...clusterLabel(call.cluster),
      };
      operations.add(1, attributes);
      operationDuration.record(call.durationSeconds, attributes);
      if (operation === "logs" || operation === "exec") {
        podOperations.add(1, {
          operation,
          ...(call.namespace === undefined ? {} : { namespace: call.namespace }),
          status,
          ...clusterLabel(call.cluster),
        });
      }
      if (options.authMode === undefined) return;
      const result = authResultOf(call);
      if (options.authMode === "impersonation") impersonation.add(1, { result, ...clusterLabel(call.cluster) });
      if (options.discoveryMode === "capi" && !management) {
        workloadAuth.add(1, { auth_mode: options.authMode, result, ...clusterLabel(call.cluster) });
      }
    },
    recordDownstreamAuth(result) {
      downstreamAuth.add(1, { result });
    },
    recordFanOut(report) {
      fanOutDuration.record(report.durationSeconds);
      const byCode = new Map<string, number>();
      for (const failure of report.failures) byCode.set(failure.code, (byCode.get(failure.code) ?? 0) + 1);
      for (const [code, count] of byCode) fanOutFailures.add(count, { error_code: code });
    },
    observeDiscoveredClusters(count) {
      meter
        .createObservableGauge(gatewayMetricNames.discoveredClusters, {
          description: "Workload clusters the gateway currently knows (Cluster API discovery)",
        })
        .addCallback((result) => result.observe(count()));
    },
    recordBuildInfo(info) {
      meter
        .createObservableGauge(gatewayMetricNames.buildInfo, {
          description: "Always 1; the labels say which build runs",
        })
        .addCallback((result) => result.observe(1, { version: info.version, node_version: info.nodeVersion }));
    },
  };
}
