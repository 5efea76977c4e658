// Where clusters come from, for the caller at hand: a kubeconfig's contexts, or the workload
// clusters of a Cluster API management cluster; as the kubeconfig's own identity (stdio, local
// HTTP) or as a logged-in user (impersonation or SSO passthrough, never one falling back).
import type { ClusterCatalog, ClusterSummary, Principal } from "@capi-mcp/core";
import {
  createCapiCatalogs,
  createCapiDirectory,
  createStaticCatalog,
  createUserCatalogs,
  managementClusterName,
  workloadCredentialSource,
} from "@capi-mcp/federation";
import { createClusterAccess, createKubeConnection, type KubeConnection } from "@capi-mcp/kube";
import { createClientPoolMetrics } from "@capi-mcp/telemetry";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { GatewayConfig } from "./config.js";

export interface ClusterSources {
  /** The default cluster for calls that name none. */
  readonly defaultCluster: string | undefined;
  /** For callers without an OAuth principal: the kubeconfig's own identity. */
  readonly local: ClusterCatalog;
  /** For a logged-in user: every call as that user. */
  forPrincipal(principal: Principal): ClusterCatalog;
  readiness(): Promise<{ ready: boolean; detail: Record<string, unknown> }>;
  /** Workload clusters Cluster API discovery knows now (for the metrics); absent without it. */
  readonly discoveredClusters?: () => number;
  close(): Promise<void>;
}

function contextSummaries(kubeConfig: KubeConfig): ClusterSummary[] {
  return kubeConfig.getContexts().map((context) => {
    const cluster = kubeConfig.getCluster(context.cluster);
    return {
      name: context.name,
      ...(cluster?.server ? { server: cluster.server } : {}),
      ...(context.user ? { user: context.user } : {}),
      ...(context.namespace ? { namespace: context.namespace } : {}),
    };
  });
}

async function healthOf(catalog: ClusterCatalog, cluster: string | undefined) {
  if (!cluster) return { ready: false, detail: { error: "no cluster configured" } };
  try {
    const health = await (await catalog.access(cluster)).health();
    return {
      ready: health.reachable,
      detail: {
        cluster,
        ...(health.version ? { version: health.version } : {}),
        ...(health.error ? { error: health.error } : {}),
      },
    };
  } catch (error) {
    return { ready: false, detail: { cluster, error: error instanceof Error ? error.message : "unknown error" } };
  }
}

function kubeconfigSources(config: GatewayConfig, kubeConfig: KubeConfig): ClusterSources {
  const clusters = contextSummaries(kubeConfig);
  const defaultCluster = config.context ?? kubeConfig.getCurrentContext() ?? clusters[0]?.name;
  const local = createStaticCatalog({
    clusters,
    defaultCluster,
    connect: (cluster) =>
      createClusterAccess(
        createKubeConnection({ kubeConfig, context: cluster.name, qps: config.qpsLimit, burst: config.burstLimit }),
        { clusterName: cluster.name },
      ),
  });
  const users = createUserCatalogs({
    clusters,
    defaultCluster,
    mode: config.kubeAuth,
    maxEntries: config.clientCacheMaxEntries,
    ttlMilliseconds: config.clientCacheTtl,
    connect: (cluster, identity) =>
      createClusterAccess(
        createKubeConnection({
          kubeConfig,
          context: cluster.name,
          qps: config.qpsLimit,
          burst: config.burstLimit,
          identity:
            identity.mode === "impersonation"
              ? { impersonate: { user: identity.user, groups: identity.groups, extra: identity.extra } }
              : { bearerToken: identity.idToken },
        }),
        { clusterName: cluster.name },
      ),
  });
  return {
    defaultCluster,
    local,
    forPrincipal: (principal) => users.forPrincipal(principal),
    readiness: () => healthOf(local, defaultCluster),
    close: async () => undefined,
  };
}

function capiSources(config: GatewayConfig, kubeConfig: KubeConfig, logger: Logger): ClusterSources {
  const context = config.context ?? kubeConfig.getCurrentContext();
  const caSuffixes = {
    ...(config.caSecretSuffix === undefined ? {} : { caSecretSuffix: config.caSecretSuffix }),
    ...(config.caConfigmapSuffix === undefined ? {} : { caConfigMapSuffix: config.caConfigmapSuffix }),
  };
  // One answer for the directory (what it watches) and the catalogs (what they read): in SSO
  // passthrough with the CA ConfigMap, the gateway never reads, lists or watches a Secret.
  const credentials = workloadCredentialSource(config.workloadAuth, caSuffixes);
  // The gateway's own identity on the management cluster: it watches Cluster objects and the
  // credential objects beside them, and asks the API server who may see what.
  const management: KubeConnection = createKubeConnection({
    kubeConfig,
    ...(context ? { context } : {}),
    qps: config.qpsLimit,
    burst: config.burstLimit,
  });
  const directory = createCapiDirectory({
    connection: management,
    ...(config.capiNamespaces ? { namespaces: config.capiNamespaces } : {}),
    ...(config.capiClusterSelector ? { labelSelector: config.capiClusterSelector } : {}),
    credentials: { from: credentials.from, suffix: credentials.suffix },
    resyncMilliseconds: 10 * 60_000,
    onLog: (entry) => logger[entry.level]({ component: "capi-directory" }, entry.message),
  });
  let catalogs: ReturnType<typeof createCapiCatalogs> | undefined;
  const poolMetrics = createClientPoolMetrics({ entries: () => catalogs?.poolSize ?? 0 });
  catalogs = createCapiCatalogs({
    directory,
    management: { kubeConfig, ...(context ? { context } : {}) },
    mode: config.workloadAuth,
    ...caSuffixes,
    pool: { maxEntries: config.clientCacheMaxEntries, ttlMilliseconds: config.clientCacheTtl },
    workload: {
      qps: config.workloadQpsLimit,
      burst: config.workloadBurstLimit,
      requestTimeoutMilliseconds: config.workloadTimeout,
    },
    onPoolEvent: (event) => poolMetrics.record(event),
  });
  const capi = catalogs;
  return {
    defaultCluster: undefined,
    local: capi.forLocalUser(),
    forPrincipal: (principal) => capi.forPrincipal(principal),
    discoveredClusters: () => directory.list().length,
    async readiness() {
      const loaded = await Promise.race([
        directory.ready.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
      ]);
      if (!loaded) return { ready: false, detail: { error: "Cluster API discovery has not loaded yet" } };
      return {
        ready: true,
        detail: {
          cluster: managementClusterName,
          workloadClusters: directory.list().length,
          pooledClients: capi.poolSize,
        },
      };
    },
    async close() {
      await capi.close();
      await directory.close();
      await management.close();
    },
  };
}

export function createClusterSources(config: GatewayConfig, kubeConfig: KubeConfig, logger: Logger): ClusterSources {
  return config.enableCapi ? capiSources(config, kubeConfig, logger) : kubeconfigSources(config, kubeConfig);
}
