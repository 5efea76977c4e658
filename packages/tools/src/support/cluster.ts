import { type ClusterAccess, GatewayError, type ToolContext } from "@capi-mcp/core";

/**
 * The cluster a call acts on: the one it names, else the session's current one, else the
 * server's default. Access goes through the catalog only, which hands out clients already
 * wrapped by the guard.
 */
export async function accessCluster(cluster: string | undefined, context: ToolContext): Promise<ClusterAccess> {
  const name = cluster ?? context.session.currentCluster ?? context.clusters.defaultCluster;
  if (name === undefined) {
    throw new GatewayError(
      "invalid_input",
      "No cluster selected: pass `cluster`, or pick one with k8s_switch_context (k8s_list_contexts lists the clusters you can use).",
    );
  }
  return context.clusters.access(name);
}
