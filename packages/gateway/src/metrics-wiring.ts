// Where the gateway's Prometheus metrics (giantswarm's names and ours) meet the pipeline: the
// tool runner's telemetry (one measurement per tool call), the HTTP app, the bearer-token check,
// fleet-wide calls, discovery and the build. The instruments live in @capi-mcp/telemetry; this
// file only says which configuration gives which labels.
import type { ToolDefinition, ToolSettings } from "@capi-mcp/core";
import { managementClusterName } from "@capi-mcp/federation";
import { createGatewayMetrics, type GatewayMetrics, type ToolTelemetry } from "@capi-mcp/telemetry";
import type { GatewayConfig } from "./config.js";

export interface GatewayInstruments {
  readonly metrics: GatewayMetrics;
  /** The same telemetry, whose calls also count toward the Kubernetes-operation metrics. */
  measureToolCalls(telemetry: ToolTelemetry): ToolTelemetry;
  readonly onFanOut: NonNullable<ToolSettings["onFanOut"]>;
}

export function createGatewayInstruments(
  config: GatewayConfig,
  tools: readonly Pick<ToolDefinition, "name" | "operation">[],
  version: string,
): GatewayInstruments {
  const operationOf = new Map(tools.map((tool) => [tool.name, tool.operation as string]));
  const metrics = createGatewayMetrics({
    discoveryMode: config.enableCapi ? "capi" : "single",
    // Logged-in users act on clusters as themselves; without OAuth the caller is the local user.
    authMode: config.enableOauth ? (config.enableCapi ? config.workloadAuth : config.kubeAuth) : undefined,
    // In Cluster API mode every cluster but the management cluster is a workload cluster; without
    // it, the kubeconfig's clusters are the gateway's own (giantswarm's single mode: management).
    isManagementCluster: (cluster) => !config.enableCapi || cluster === managementClusterName,
    detailedLabels: config.instrumentation.detailedLabels,
  });
  metrics.recordBuildInfo({ version, nodeVersion: process.version });
  return {
    metrics,
    measureToolCalls(telemetry) {
      return {
        startToolCall(start) {
          const call = telemetry.startToolCall(start);
          let measured = false;
          return {
            ...call,
            end(result) {
              const ended = call.end(result);
              if (!measured) {
                measured = true;
                metrics.recordToolCall({
                  tool: start.tool,
                  operationClass: operationOf.get(start.tool) ?? "session",
                  outcome: result.outcome,
                  errorCode: result.errorCode,
                  cluster: result.cluster ?? start.cluster,
                  namespace: result.namespace,
                  durationSeconds: ended.durationMilliseconds / 1000,
                });
              }
              return ended;
            },
          };
        },
      };
    },
    onFanOut: (report) =>
      metrics.recordFanOut({
        clusters: report.clusters,
        failures: report.failures,
        durationSeconds: report.durationMilliseconds / 1000,
      }),
  };
}
