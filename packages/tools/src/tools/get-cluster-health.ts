import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { accessCluster } from "../support/cluster.js";
import { clusterField } from "../support/input-fields.js";

export const getClusterHealthTool = defineTool({
  name: "k8s_get_cluster_health",
  title: "Check cluster health",
  description:
    "Reports whether the API server is reachable and ready, its version, failing readiness checks and node readiness.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ cluster: clusterField }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const health = await access.health();
    const failing = health.checks.filter((check) => !check.ok);
    const lines: string[] = [];
    if (!health.reachable) {
      lines.push(`Cluster ${access.cluster}: UNREACHABLE${health.error === undefined ? "" : ` (${health.error})`}.`);
    } else {
      const state = failing.length === 0 ? "healthy" : "DEGRADED";
      lines.push(
        `Cluster ${access.cluster}: ${state}${health.version === undefined ? "" : `, Kubernetes ${health.version}`}.`,
      );
      if (health.checks.length > 0) {
        // Passing checks are only counted: their names add length, not information.
        lines.push(
          failing.length === 0
            ? `Readiness checks: all ${health.checks.length} pass.`
            : `Readiness checks: ${failing.length} of ${health.checks.length} failing: ${failing.map((check) => check.name).join(", ")}.`,
        );
      }
      if (health.error !== undefined) lines.push(`Note: ${health.error}`);
    }
    if (health.nodes !== undefined) {
      const notReady = health.nodes.total - health.nodes.ready;
      lines.push(
        `Nodes: ${health.nodes.ready} of ${health.nodes.total} ready${notReady > 0 ? ` (${notReady} not ready: k8s_list_resources nodes shows which)` : ""}.`,
      );
    }
    return {
      text: lines.join("\n"),
      structured: {
        reachable: health.reachable,
        version: health.version ?? null,
        failingChecks: failing.map((check) => check.name),
        checkCount: health.checks.length,
        nodes: health.nodes ?? null,
      },
      target: { cluster: access.cluster },
    };
  },
});
