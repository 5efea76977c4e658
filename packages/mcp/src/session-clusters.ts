// Session state that names a cluster follows the catalog. A session's current cluster and its
// port-forwards name clusters; a cluster can leave the catalog while the session lasts (a Cluster
// API Cluster deleted, the caller's access to it revoked). Before each call, anything the session
// holds for such a cluster goes: the current cluster is cleared and its port-forwards stop. A call
// that would have used the current cluster is not run — falling back to the server's default
// would send it to a cluster the caller never chose — and says why and how to choose another.
import { type ClusterCatalog, GatewayError, type SessionState, type ToolDefinition } from "@capi-mcp/core";

export interface SessionClusterCheck {
  /** The current cluster the session just lost, if it did. */
  readonly lostCurrent: string | undefined;
  /** Port-forwards stopped because their cluster is gone. */
  readonly stoppedForwards: readonly string[];
}

/** Gone means the catalog says so; a cluster that is only unreachable stays (the call will say). */
async function isGone(catalog: ClusterCatalog, name: string): Promise<boolean> {
  try {
    await catalog.access(name);
    return false;
  } catch (error) {
    return error instanceof GatewayError && error.code === "cluster_not_found";
  }
}

/** Drops whatever the session holds for clusters the catalog no longer has. */
export async function checkSessionClusters(
  session: SessionState,
  catalog: ClusterCatalog,
): Promise<SessionClusterCheck> {
  const current = session.currentCluster;
  const forwards = session.portForwards.list();
  const named = new Set([...(current === undefined ? [] : [current]), ...forwards.map((entry) => entry.cluster)]);
  const gone = new Set<string>();
  await Promise.all(
    [...named].map(async (name) => {
      if (await isGone(catalog, name)) gone.add(name);
    }),
  );
  const lostCurrent = current !== undefined && gone.has(current) ? current : undefined;
  // Only if nothing switched it meanwhile: a concurrent k8s_switch_context wins.
  if (lostCurrent !== undefined && session.currentCluster === lostCurrent) session.currentCluster = undefined;
  const stopped = forwards.filter((entry) => gone.has(entry.cluster)).map((entry) => entry.id);
  await Promise.allSettled(stopped.map((id) => session.portForwards.stop(id)));
  return { lostCurrent, stoppedForwards: stopped };
}

function reliesOnCurrentCluster(tool: ToolDefinition, input: unknown): boolean {
  if (!("cluster" in tool.input.shape)) return false;
  const cluster = (input as { cluster?: unknown } | undefined)?.cluster;
  return cluster === undefined;
}

function lostClusterText(check: SessionClusterCheck): string {
  const forwards =
    check.stoppedForwards.length === 0 ? "" : ` Its port-forwards (${check.stoppedForwards.join(", ")}) were stopped.`;
  return `This session's current cluster ${check.lostCurrent} is no longer available: it left the catalog (a deleted Cluster, or one you may no longer use), so the session has no current cluster now.${forwards} List the clusters you can use with k8s_list_contexts, then choose one with k8s_switch_context or pass cluster to each call.`;
}

/**
 * The tool, run only after the session's clusters are checked against the catalog. Runs inside
 * the tool runner, so a refused call is guarded, audited and traced like any other.
 */
export function followingCatalog(tool: ToolDefinition, session: SessionState, catalog: ClusterCatalog): ToolDefinition {
  return {
    ...tool,
    async handler(input, context) {
      const check = await checkSessionClusters(session, catalog);
      if (check.lostCurrent !== undefined && reliesOnCurrentCluster(tool, input)) {
        throw new GatewayError("cluster_not_found", `${lostClusterText(check)} This call was not run.`);
      }
      const result = await tool.handler(input, context);
      const notes = [
        ...(check.lostCurrent === undefined ? [] : [`Note: ${lostClusterText(check)}`]),
        ...(check.lostCurrent === undefined && check.stoppedForwards.length > 0
          ? [
              `Note: port-forwards ${check.stoppedForwards.join(", ")} were stopped: their cluster is no longer available.`,
            ]
          : []),
      ];
      return notes.length === 0 ? result : { ...result, text: `${result.text}\n${notes.join("\n")}` };
    },
  };
}
