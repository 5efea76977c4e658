import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { renderTable } from "../shaping/table.js";
import { plural } from "../support/answer.js";

export const listContextsTool = defineTool({
  name: "k8s_list_contexts",
  title: "List clusters",
  description:
    "Lists the clusters (kubeconfig contexts or federated clusters) you can use; * marks this session's current one. Pass a name as cluster to any tool.",
  operation: "session",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  async handler(_input, context) {
    const clusters = await context.clusters.list();
    const current = context.session.currentCluster ?? context.clusters.defaultCluster;
    const structured = {
      current: current ?? null,
      clusters: clusters.map((cluster) => ({ ...cluster, current: cluster.name === current })),
    };
    if (clusters.length === 0) {
      return { text: "No clusters are available to you.", structured };
    }
    const showNamespace = clusters.some((cluster) => cluster.namespace !== undefined);
    const table = renderTable(
      ["CURRENT", "NAME", "SERVER", ...(showNamespace ? ["NAMESPACE"] : [])],
      clusters.map((cluster) => [
        cluster.name === current ? "*" : null,
        cluster.name,
        cluster.server,
        ...(showNamespace ? [cluster.namespace] : []),
      ]),
    );
    const currentLine =
      current === undefined
        ? "No current cluster: pass cluster to each tool or call k8s_switch_context."
        : `Current: ${current}${context.session.currentCluster === undefined ? " (the server's default)" : " (switched in this session)"}.`;
    return { text: `${table}\n${plural(clusters.length, "cluster")}. ${currentLine}`, structured };
  },
});
