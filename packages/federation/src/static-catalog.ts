import { type ClusterAccess, type ClusterCatalog, type ClusterSummary, GatewayError } from "@capi-mcp/core";

export interface StaticCatalogOptions {
  /** The clusters, e.g. a kubeconfig's contexts. */
  readonly clusters: readonly ClusterSummary[];
  readonly defaultCluster: string | undefined;
  /** Builds the access for one cluster; called once per cluster, then reused (one pool per cluster). */
  readonly connect: (cluster: ClusterSummary) => ClusterAccess;
}

export interface StaticCatalog extends ClusterCatalog {
  /** Every cluster whose access was built so far. */
  readonly connected: readonly string[];
}

/** An unknown cluster and one the caller may not use read the same, so names cannot be probed. */
export function clusterNotFound(name: string): GatewayError {
  return new GatewayError(
    "cluster_not_found",
    `No cluster named "${name}" is available to you. Call k8s_list_contexts to see the clusters you can use.`,
  );
}

/**
 * A fixed set of clusters (kubeconfig contexts, or the in-cluster API server). Each cluster's
 * access is built on first use and shared by every later call, so its connections are reused.
 */
export function createStaticCatalog(options: StaticCatalogOptions): StaticCatalog {
  const byName = new Map(options.clusters.map((cluster) => [cluster.name, cluster]));
  const accesses = new Map<string, ClusterAccess>();
  if (options.defaultCluster !== undefined && !byName.has(options.defaultCluster)) {
    throw new GatewayError(
      "invalid_input",
      `The default cluster "${options.defaultCluster}" is not among the configured clusters (${[...byName.keys()].join(", ") || "none"}).`,
    );
  }
  return {
    defaultCluster: options.defaultCluster,
    get connected() {
      return [...accesses.keys()];
    },
    async list() {
      return options.clusters;
    },
    async access(name) {
      const cluster = byName.get(name);
      if (!cluster) throw clusterNotFound(name);
      let access = accesses.get(name);
      if (!access) {
        // Synchronous build: concurrent first calls cannot create two clients for one cluster.
        access = options.connect(cluster);
        accesses.set(name, access);
      }
      return access;
    },
  };
}
