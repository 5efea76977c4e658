import { type ClusterSummary, GatewayError, type KubeObject, type ToolContext } from "@capi-mcp/core";

// Names are resolved against the catalog's summaries, which hold only the clusters the caller
// may see: a bare name is never resolved to, nor do candidates ever mention, a hidden cluster.

const maximumCandidatesNamed = 20;

/** A summary that stands for a Cluster API `Cluster` (not `management`, not a kubeconfig context). */
export interface CapiSummary extends ClusterSummary {
  readonly clusterObject: KubeObject;
}

export function isCapiSummary(summary: ClusterSummary): summary is CapiSummary {
  return summary.clusterObject !== undefined;
}

/** The Cluster API clusters among the summaries, in name order (namespace/name). */
export function capiSummaries(summaries: readonly ClusterSummary[]): CapiSummary[] {
  return summaries.filter(isCapiSummary).sort((left, right) => compareNames(left.name, right.name));
}

/** Code-unit order: stable across locales, and what the continue tokens rely on. */
export function compareNames(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

export function capiNamespace(summary: CapiSummary): string | undefined {
  return (
    summary.clusterObject.metadata?.namespace ?? (summary.name.includes("/") ? summary.name.split("/")[0] : undefined)
  );
}

function bareName(summary: ClusterSummary): string | undefined {
  if (summary.clusterObject?.metadata?.name !== undefined) return summary.clusterObject.metadata.name;
  const slash = summary.name.lastIndexOf("/");
  return slash === -1 ? undefined : summary.name.slice(slash + 1);
}

function listNames(names: readonly string[]): string {
  const named = names.slice(0, maximumCandidatesNamed).join(", ");
  return names.length > maximumCandidatesNamed ? `${named} and ${names.length - maximumCandidatesNamed} more` : named;
}

/**
 * The visible cluster a name means: the one with exactly that name, else, for a bare name, the
 * only Cluster API cluster of that name in any namespace. Several such clusters are an
 * `ambiguous_cluster` error naming them; no match at all is `undefined`.
 */
export function findVisibleCluster(name: string, summaries: readonly ClusterSummary[]): ClusterSummary | undefined {
  const exact = summaries.find((summary) => summary.name === name);
  if (exact !== undefined || name.includes("/")) return exact;
  const matches = summaries
    .filter((summary) => isCapiSummary(summary) && bareName(summary) === name)
    .sort((left, right) => compareNames(left.name, right.name));
  if (matches.length > 1) {
    throw new GatewayError(
      "ambiguous_cluster",
      `The cluster name "${name}" is ambiguous: it matches ${listNames(matches.map((summary) => summary.name))}. Pass it as namespace/name.`,
    );
  }
  return matches[0];
}

export function unknownCluster(name: string): GatewayError {
  return new GatewayError(
    "cluster_not_found",
    `No cluster "${name}" is available to you: capi_list_clusters lists the Cluster API clusters you can see.`,
  );
}

/**
 * The Cluster API cluster a call is about: the one named, else the session's current cluster,
 * else the server's default. Unknown and hidden clusters fail alike; `management` and
 * kubeconfig contexts are refused with a pointer to the tools that take them.
 */
export async function resolveCapiCluster(name: string | undefined, context: ToolContext): Promise<CapiSummary> {
  const wanted = name ?? context.session.currentCluster ?? context.clusters.defaultCluster;
  if (wanted === undefined) {
    throw new GatewayError(
      "invalid_input",
      "No cluster selected: pass cluster as namespace/name (capi_list_clusters lists them).",
    );
  }
  const summary = findVisibleCluster(wanted, await context.clusters.list());
  if (summary === undefined) throw unknownCluster(wanted);
  if (!isCapiSummary(summary)) {
    throw new GatewayError(
      "invalid_input",
      `"${summary.name}" is not a Cluster API cluster (it is the management cluster or a kubeconfig context): pass a cluster from capi_list_clusters, or use k8s_get_cluster_health for this one.`,
    );
  }
  return summary;
}
