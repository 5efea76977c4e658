// Per-user catalogs over Cluster API: which workload clusters a user may see (the management
// cluster's RBAC, asked through SubjectAccessReviews), and a pool of cluster clients that act as
// that user on each workload cluster, by impersonation or by passing their ID token through.
import {
  type ClusterAccess,
  type ClusterCatalog,
  type ClusterCondition,
  type ClusterSummary,
  formatClusterRef,
  GatewayError,
  type Principal,
  parseClusterRef,
  principalIdentityKey,
} from "@capi-mcp/core";
import { createClusterAccess, createKubeConnection, type KubeIdentity } from "@capi-mcp/kube";
import { KubeConfig } from "@kubernetes/client-node";
import { LRUCache } from "lru-cache";
import type { CapiChange, CapiCluster, CapiDirectory } from "./capi-contracts.js";
import {
  createManagementApi,
  type ManagementApi,
  type ResourceAttributes,
  type ReviewSubject,
} from "./capi-management-api.js";
import { createPooledAccess, type PooledAccess } from "./capi-pooled-access.js";
import { currentIdTokenOf, impersonatedIdentity } from "./principal-identity.js";
import { clusterNotFound } from "./static-catalog.js";
import type { WorkloadAuthMode } from "./user-catalog.js";
import { workloadCredentialSource } from "./workload-credentials.js";

/** The name that always means the management cluster itself. */
export const managementClusterName = "management";

export type CapiPoolEvictionReason =
  | "cluster-deleted"
  | "credentials-changed"
  | "unauthorized"
  | "expired"
  | "capacity";

export interface CapiPoolEvent {
  readonly type: "hit" | "miss" | "eviction";
  readonly reason?: CapiPoolEvictionReason;
}

export interface WorkloadLimits {
  readonly qps: number;
  readonly burst: number;
  readonly connectTimeoutMilliseconds: number;
  readonly requestTimeoutMilliseconds: number;
}

/** Everything needed to build one client for one cluster and one identity. */
export interface WorkloadConnectRequest {
  /** How users name the cluster: `namespace/name`, or `management`. */
  readonly clusterName: string;
  readonly kubeConfig: KubeConfig;
  readonly context?: string;
  /** Impersonation headers, or the user's bearer token; empty only for the local (stdio) user. */
  readonly identity: KubeIdentity;
  readonly limits: WorkloadLimits;
}

export interface WorkloadClient {
  readonly access: ClusterAccess;
  close(): Promise<void>;
}

export interface CapiCatalogOptions {
  readonly directory: CapiDirectory;
  /** The gateway's OWN credentials on the management cluster (its service account). */
  readonly management: { readonly kubeConfig: KubeConfig; readonly context?: string };
  readonly mode: WorkloadAuthMode;
  /**
   * SSO passthrough: read the CA from Secret `<name><suffix>`, key `tls.crt`. Only when set: by
   * default the CA comes from a ConfigMap and the catalogs never read a Secret in SSO mode.
   */
  readonly caSecretSuffix?: string;
  /** SSO passthrough: the CA ConfigMap is `<name><suffix>`, key `ca.crt` (default `-ca-public`). */
  readonly caConfigMapSuffix?: string;
  readonly pool?: { readonly maxEntries?: number; readonly ttlMilliseconds?: number };
  readonly workload?: Partial<WorkloadLimits>;
  /** How long one user's visibility of one cluster is remembered (default 30 s). */
  readonly visibilityCacheMilliseconds?: number;
  /** Upper bound on waiting for the directory's first list (default 15 s). */
  readonly directoryReadyTimeoutMilliseconds?: number;
  readonly defaultCluster?: string;
  /** Metrics hook: pool hits, misses and evictions by reason. */
  readonly onPoolEvent?: (event: CapiPoolEvent) => void;
  readonly now?: () => number;
  /** Replaces the management API client (tests); built from `management` otherwise. */
  readonly managementApi?: ManagementApi;
  /** Replaces how a cluster client is built (tests); `@capi-mcp/kube` otherwise. */
  readonly connect?: (request: WorkloadConnectRequest) => WorkloadClient;
}

export interface CapiCatalogs {
  /** The clusters as this principal may see and use them. */
  forPrincipal(principal: Principal): ClusterCatalog;
  /** stdio: the management kubeconfig's own identity, which also reads the workload kubeconfigs. */
  forLocalUser(): ClusterCatalog;
  /** Cluster clients now pooled. */
  readonly poolSize: number;
  close(): Promise<void>;
}

const defaultLimits: WorkloadLimits = {
  qps: 20,
  burst: 30,
  connectTimeoutMilliseconds: 5_000,
  requestTimeoutMilliseconds: 30_000,
};
const clusterGroup = "cluster.x-k8s.io";
const maximumConcurrentReviews = 16;

/** Who is asking: a logged-in principal, or the local stdio user (the kubeconfig's identity). */
type Requester =
  | { readonly kind: "principal"; readonly principal: Principal; readonly key: string; readonly subject: ReviewSubject }
  | { readonly kind: "local"; readonly key: string };

type Target =
  | { readonly kind: "management"; readonly name: string }
  | { readonly kind: "workload"; readonly name: string; readonly cluster: CapiCluster };

interface CallIdentity {
  /** The identity part of the pool key; in SSO mode it includes the token's fingerprint. */
  readonly key: string;
  readonly ttlMilliseconds: number;
  readonly idToken?: string;
}

interface PoolEntry {
  readonly key: string;
  readonly clusterName: string;
  readonly uid: string;
  /** The endpoint the client was built for (SSO): a moved control plane invalidates it. */
  readonly endpoint: string | undefined;
  readonly client: WorkloadClient;
  readonly pooled: PooledAccess;
  retired: boolean;
  closed: boolean;
}

function endpointUrl(cluster: CapiCluster): string | undefined {
  if (!cluster.endpoint) return undefined;
  const { host, port } = cluster.endpoint;
  return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function conditionsOf(cluster: CapiCluster): ClusterCondition[] | undefined {
  // The object as served: v1beta2 keeps its conditions in status.conditions, and so does
  // v1beta1 (where v1beta2's live under status.v1beta2), so one path fits whichever is served.
  const status = (cluster.object as { status?: { conditions?: unknown } }).status;
  if (!Array.isArray(status?.conditions)) return undefined;
  const conditions: ClusterCondition[] = [];
  for (const item of status.conditions as unknown[]) {
    if (typeof item !== "object" || item === null) continue;
    const record = item as Record<string, unknown>;
    if (typeof record.type !== "string" || typeof record.status !== "string") continue;
    conditions.push({
      type: record.type,
      status: record.status,
      ...(typeof record.reason === "string" ? { reason: record.reason } : {}),
      ...(typeof record.message === "string" ? { message: record.message } : {}),
      ...(typeof record.lastTransitionTime === "string" ? { lastTransitionTime: record.lastTransitionTime } : {}),
    });
  }
  return conditions;
}

function summaryOf(cluster: CapiCluster): ClusterSummary {
  const server = endpointUrl(cluster);
  const phase = (cluster.object as { status?: { phase?: unknown } }).status?.phase;
  const conditions = conditionsOf(cluster);
  return {
    name: formatClusterRef(cluster.ref),
    ...(server === undefined ? {} : { server }),
    labels: cluster.labels,
    ...(typeof phase === "string" ? { phase } : {}),
    ...(conditions === undefined ? {} : { conditions }),
    clusterObject: cluster.object,
  };
}

/** The cluster part of a kubeconfig context, without any user credentials: what SSO passthrough may use. */
function clusterOnlyKubeConfig(source: KubeConfig, context: string | undefined): KubeConfig {
  const contextName = context ?? source.getCurrentContext();
  const contextObject = source.getContextObject(contextName);
  const cluster = contextObject ? source.getCluster(contextObject.cluster) : null;
  if (!cluster) {
    throw new GatewayError("unavailable", "The management cluster's kubeconfig names no cluster for its context.");
  }
  const scoped = new KubeConfig();
  scoped.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "sso-passthrough" }],
    contexts: [{ name: "sso-passthrough", cluster: cluster.name, user: "sso-passthrough" }],
    currentContext: "sso-passthrough",
  });
  return scoped;
}

function kubeConfigForEndpoint(clusterName: string, server: string, caPem: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      { name: clusterName, server, caData: Buffer.from(caPem, "utf8").toString("base64"), skipTLSVerify: false },
    ],
    users: [{ name: "sso-passthrough" }],
    contexts: [{ name: "sso-passthrough", cluster: clusterName, user: "sso-passthrough" }],
    currentContext: "sso-passthrough",
  });
  return config;
}

function defaultConnect(request: WorkloadConnectRequest): WorkloadClient {
  const connection = createKubeConnection({
    kubeConfig: request.kubeConfig,
    ...(request.context === undefined ? {} : { context: request.context }),
    identity: request.identity,
    clusterName: request.clusterName,
    ...request.limits,
  });
  return {
    access: createClusterAccess(connection, { clusterName: request.clusterName }),
    close: () => connection.close(),
  };
}

/** At most `limit` tasks at once: a list over thousands of clusters must not flood the management API. */
function createLimiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

/**
 * Per-user Cluster API catalogs and their client pool.
 *
 * - Names: `namespace/name`; a bare name only when exactly one cluster the user may see has it;
 *   `management` is the management cluster. Unknown and forbidden clusters answer alike.
 * - Visibility: SubjectAccessReviews (get the Cluster; in impersonation mode also its
 *   kubeconfig secret), cached per user and cluster. `management` is always listed: the
 *   management API server checks every call against the user's own RBAC there.
 * - Pool: one client per (cluster + uid, mode, identity[, token fingerprint]); concurrent misses
 *   for one key share one build; entries go on deletion, credential change, 401 and expiry.
 */
export function createCapiCatalogs(options: CapiCatalogOptions): CapiCatalogs {
  const now = options.now ?? Date.now;
  const mode = options.mode;
  const directory = options.directory;
  // What each cluster's client is built from (the kubeconfig secret, or the CA in SSO mode).
  const credentialSource = workloadCredentialSource(mode, {
    ...(options.caSecretSuffix === undefined ? {} : { caSecretSuffix: options.caSecretSuffix }),
    ...(options.caConfigMapSuffix === undefined ? {} : { caConfigMapSuffix: options.caConfigMapSuffix }),
  });
  const limits: WorkloadLimits = { ...defaultLimits, ...options.workload };
  const poolTtl = options.pool?.ttlMilliseconds ?? 10 * 60_000;
  const visibilityTtl = options.visibilityCacheMilliseconds ?? 30_000;
  const readyTimeout = options.directoryReadyTimeoutMilliseconds ?? 15_000;
  const connect = options.connect ?? defaultConnect;
  const ownsManagementApi = options.managementApi === undefined;
  const management: ManagementApi =
    options.managementApi ??
    createManagementApi({
      kubeConfig: options.management.kubeConfig,
      ...(options.management.context === undefined ? {} : { context: options.management.context }),
    });
  const managementServer = (() => {
    const context = options.management.context ?? options.management.kubeConfig.getCurrentContext();
    const contextObject = options.management.kubeConfig.getContextObject(context);
    return contextObject ? options.management.kubeConfig.getCluster(contextObject.cluster)?.server : undefined;
  })();
  const emit = (event: CapiPoolEvent) => options.onPoolEvent?.(event);
  const review = createLimiter(maximumConcurrentReviews);

  let closed = false;
  /** Set just before an explicit delete, so the dispose callback knows why the entry went. */
  let pendingReason: CapiPoolEvictionReason | undefined;
  const closing = new Set<Promise<void>>();
  /** Pool keys per cluster name, to drop every client of a cluster at once. */
  const keysByCluster = new Map<string, Set<string>>();
  /** Bumped whenever a cluster's credentials or identity change; a build that spans a bump is discarded. */
  const generations = new Map<string, number>();
  const building = new Map<string, Promise<PoolEntry>>();

  function generationOf(clusterName: string): number {
    return generations.get(clusterName) ?? 0;
  }

  function closeClient(entry: PoolEntry): void {
    if (entry.closed) return;
    entry.closed = true;
    const done = entry.client
      .close()
      .catch(() => undefined)
      .finally(() => closing.delete(done));
    closing.add(done);
  }

  function retire(entry: PoolEntry): void {
    entry.retired = true;
    // Calls still running on the client finish first; the last one closes it (see onIdle).
    if (entry.pooled.active === 0) closeClient(entry);
  }

  const pool = new LRUCache<string, PoolEntry>({
    max: options.pool?.maxEntries ?? 1000,
    ttl: poolTtl,
    ttlAutopurge: false,
    updateAgeOnGet: false,
    // Read the clock on every check: lru-cache otherwise reuses one reading for a timer tick.
    ttlResolution: 0,
    perf: { now },
    dispose: (entry, key, reason) => {
      keysByCluster.get(entry.clusterName)?.delete(key);
      if (keysByCluster.get(entry.clusterName)?.size === 0) keysByCluster.delete(entry.clusterName);
      retire(entry);
      if (closed) return;
      const why: CapiPoolEvictionReason =
        reason === "evict" ? "capacity" : reason === "expire" ? "expired" : (pendingReason ?? "expired");
      emit({ type: "eviction", reason: why });
    },
  });
  // Expired clients hold sockets: sweep them even when nobody asks for them again.
  const sweeper = setInterval(() => pool.purgeStale(), Math.max(1_000, Math.min(poolTtl, 60_000)));
  sweeper.unref();

  function evict(key: string, reason: CapiPoolEvictionReason): void {
    pendingReason = reason;
    try {
      pool.delete(key);
    } finally {
      pendingReason = undefined;
    }
  }

  /** Drops every client of a cluster and anything cached about its credentials. */
  function invalidateCluster(clusterName: string, reason: CapiPoolEvictionReason): void {
    generations.set(clusterName, generationOf(clusterName) + 1);
    credentialCache.delete(clusterName);
    for (const key of [...(keysByCluster.get(clusterName) ?? [])]) evict(key, reason);
  }

  // The gateway's own reads of a cluster's kubeconfig or CA, shared by every user's client for
  // that cluster (they are the gateway's credentials, never a user's), dropped on any change.
  const credentialCache = new Map<
    string,
    { readonly uid: string; readonly generation: number; readonly at: number; readonly value: Promise<string> }
  >();

  async function fetchCredential(cluster: CapiCluster): Promise<string> {
    const clusterName = formatClusterRef(cluster.ref);
    const { from, suffix, key, what } = credentialSource;
    const namespace = cluster.ref.namespace;
    const name = `${cluster.ref.name}${suffix}`;
    const data =
      from === "secret"
        ? await management.readSecret(namespace, name)
        : await management.readConfigMap(namespace, name);
    const value = data?.[key];
    if (value === undefined || value.trim().length === 0) {
      throw new GatewayError(
        "unavailable",
        `Cluster ${clusterName} has no ${what} the gateway can use (${from} ${namespace}/${name}, key ${key}); the call was not made. An administrator must provide it.`,
        { detail: `missing ${from} ${namespace}/${name} key ${key}` },
      );
    }
    return value;
  }

  function credentialFor(cluster: CapiCluster): Promise<string> {
    const clusterName = formatClusterRef(cluster.ref);
    const generation = generationOf(clusterName);
    const cached = credentialCache.get(clusterName);
    if (cached && cached.uid === cluster.uid && cached.generation === generation && now() - cached.at < poolTtl) {
      return cached.value;
    }
    const value = fetchCredential(cluster);
    const entry = { uid: cluster.uid, generation, at: now(), value };
    credentialCache.set(clusterName, entry);
    value.catch(() => {
      // A failed read is not remembered: the next call asks again.
      if (credentialCache.get(clusterName) === entry) credentialCache.delete(clusterName);
    });
    return value;
  }

  // Visibility answers per (identity, cluster). A pending review is shared by concurrent callers.
  const visibility = new LRUCache<string, Promise<boolean>>({
    max: 50_000,
    ttl: visibilityTtl,
    ttlAutopurge: false,
    ttlResolution: 0,
    perf: { now },
  });

  function reviewsFor(cluster: CapiCluster, local: boolean): ResourceAttributes[] {
    const { namespace, name } = cluster.ref;
    const reviews: ResourceAttributes[] = [{ verb: "get", group: clusterGroup, resource: "clusters", namespace, name }];
    // Impersonation uses the cluster's kubeconfig secret on the user's behalf: only for users
    // who could read it themselves. SSO passthrough never reads it. The local user reads it
    // with their own credentials, so they must be allowed to as well.
    if (mode === "impersonation" || local) {
      reviews.push({ verb: "get", group: "", resource: "secrets", namespace, name: `${name}-kubeconfig` });
    }
    return reviews;
  }

  /** Caches one visibility answer per key; a failed review is not cached. */
  function cachedAnswer(key: string, ask: () => Promise<boolean>): Promise<boolean> {
    const cached = visibility.get(key);
    if (cached) return cached;
    const answer = ask();
    visibility.set(key, answer);
    answer.catch(() => {
      if (visibility.get(key) === answer) visibility.delete(key);
    });
    return answer;
  }

  async function allowed(subject: ReviewSubject | undefined, reviews: readonly ResourceAttributes[]): Promise<boolean> {
    for (const attributes of reviews) {
      if (!(await review(() => management.mayAccess(subject, attributes)))) return false;
    }
    return true;
  }

  /**
   * Whether the requester may get every Cluster (and, where needed, every kubeconfig secret) in
   * the namespace. RBAC rules limited by resourceNames never match a request without a name, so
   * this widens nothing: it only saves one review per cluster for the common namespace-wide grant.
   */
  function namespaceWide(requester: Requester, namespace: string): Promise<boolean> {
    const local = requester.kind === "local";
    const subject = requester.kind === "principal" ? requester.subject : undefined;
    const reviews: ResourceAttributes[] = [
      { verb: "get", group: clusterGroup, resource: "clusters", namespace, name: "" },
    ];
    if (mode === "impersonation" || local)
      reviews.push({ verb: "get", group: "", resource: "secrets", namespace, name: "" });
    return cachedAnswer(JSON.stringify([requester.key, namespace, "*"]), () => allowed(subject, reviews));
  }

  function isVisible(requester: Requester, cluster: CapiCluster): Promise<boolean> {
    const subject = requester.kind === "principal" ? requester.subject : undefined;
    return cachedAnswer(JSON.stringify([requester.key, cluster.ref.namespace, cluster.ref.name]), async () => {
      if (await namespaceWide(requester, cluster.ref.namespace)) return true;
      return allowed(subject, reviewsFor(cluster, requester.kind === "local"));
    });
  }

  async function directoryReady(): Promise<void> {
    if (closed) throw new GatewayError("unavailable", "The cluster catalog has been shut down.");
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        directory.ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new GatewayError(
                  "unavailable",
                  "The gateway has not loaded the Cluster API clusters from the management cluster yet; try again shortly.",
                ),
              ),
            readyTimeout,
          );
          timer.unref();
        }),
      ]);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async function visibleAmong(requester: Requester, clusters: readonly CapiCluster[]): Promise<CapiCluster[]> {
    const answers = await Promise.all(clusters.map((cluster) => isVisible(requester, cluster)));
    return clusters.filter((_, index) => answers[index] === true);
  }

  async function resolveTarget(requester: Requester, name: string): Promise<Target> {
    if (name === managementClusterName) return { kind: "management", name };
    await directoryReady();
    if (name.includes("/")) {
      const ref = parseClusterRef(name);
      const cluster = directory.get(ref);
      if (!cluster || !(await isVisible(requester, cluster))) throw clusterNotFound(name);
      return { kind: "workload", name: formatClusterRef(cluster.ref), cluster };
    }
    const candidates = directory.list().filter((cluster) => cluster.ref.name === name);
    const visible = await visibleAmong(requester, candidates);
    const [only, second] = visible;
    if (!only) throw clusterNotFound(name);
    if (second) {
      // Only clusters this user may see are named, so the answer reveals nothing new.
      const names = visible.map((cluster) => formatClusterRef(cluster.ref));
      throw new GatewayError(
        "ambiguous_cluster",
        `${name} is ambiguous: ${names.join(", ")}. Name the cluster as namespace/name.`,
      );
    }
    return { kind: "workload", name: formatClusterRef(only.ref), cluster: only };
  }

  async function callIdentity(requester: Requester): Promise<CallIdentity> {
    if (requester.kind === "local") return { key: "local", ttlMilliseconds: poolTtl };
    const identityKey = principalIdentityKey(requester.principal);
    if (mode === "impersonation") return { key: identityKey, ttlMilliseconds: poolTtl };
    const held = await currentIdTokenOf(requester.principal, now(), poolTtl);
    return { key: `${identityKey}|${held.fingerprint}`, ttlMilliseconds: held.ttlMilliseconds, idToken: held.idToken };
  }

  function parseKubeconfig(clusterName: string, text: string): KubeConfig {
    const config = new KubeConfig();
    try {
      config.loadFromString(text);
    } catch (error) {
      throw new GatewayError(
        "unavailable",
        `The kubeconfig stored for cluster ${clusterName} cannot be read; an administrator must fix it.`,
        { detail: `kubeconfig parse failure: ${error instanceof Error ? error.name : "unknown"}` },
      );
    }
    return config;
  }

  /** How to reach the target as the requester. Never mixes modes: each branch uses one credential. */
  async function connectRequest(
    requester: Requester,
    target: Target,
    identity: CallIdentity,
  ): Promise<WorkloadConnectRequest> {
    const base = { clusterName: target.name, limits };
    if (requester.kind === "local") {
      if (target.kind === "management") {
        return {
          ...base,
          kubeConfig: options.management.kubeConfig,
          ...(options.management.context === undefined ? {} : { context: options.management.context }),
          identity: {},
        };
      }
      if (mode === "sso-passthrough") {
        throw new GatewayError(
          "unauthenticated",
          `SSO passthrough needs a logged-in user's ID token, and this local session has none, so cluster ${target.name} cannot be reached. Use impersonation mode for local use, or connect over HTTP with a login.`,
        );
      }
      return { ...base, kubeConfig: parseKubeconfig(target.name, await credentialFor(target.cluster)), identity: {} };
    }
    if (mode === "impersonation") {
      const impersonate = impersonatedIdentity(requester.principal);
      if (target.kind === "management") {
        return {
          ...base,
          kubeConfig: options.management.kubeConfig,
          ...(options.management.context === undefined ? {} : { context: options.management.context }),
          identity: { impersonate },
        };
      }
      return {
        ...base,
        kubeConfig: parseKubeconfig(target.name, await credentialFor(target.cluster)),
        identity: { impersonate },
      };
    }
    const idToken = identity.idToken;
    if (idToken === undefined) {
      throw new GatewayError("unauthenticated", "Your login holds no identity-provider ID token. Log in again.");
    }
    if (target.kind === "management") {
      return {
        ...base,
        kubeConfig: clusterOnlyKubeConfig(options.management.kubeConfig, options.management.context),
        identity: { bearerToken: idToken },
      };
    }
    const server = endpointUrl(target.cluster);
    if (server === undefined) {
      throw new GatewayError(
        "unavailable",
        `Cluster ${target.name} has no spec.controlPlaneEndpoint yet, so it cannot be reached; the call was not made.`,
      );
    }
    const caPem = await credentialFor(target.cluster);
    return {
      ...base,
      kubeConfig: kubeConfigForEndpoint(target.name, server, caPem),
      identity: { bearerToken: idToken },
    };
  }

  async function build(key: string, requester: Requester, target: Target, identity: CallIdentity): Promise<PoolEntry> {
    const generation = generationOf(target.name);
    const request = await connectRequest(requester, target, identity);
    if (closed) throw new GatewayError("unavailable", "The cluster catalog has been shut down.");
    const client = connect(request);
    const entry: PoolEntry = {
      key,
      clusterName: target.name,
      uid: target.kind === "workload" ? target.cluster.uid : managementClusterName,
      endpoint: target.kind === "workload" ? endpointUrl(target.cluster) : undefined,
      client,
      pooled: createPooledAccess(client.access, {
        onUnauthenticated: () => {
          // Only this very client: a newer one under the same key was built after the 401.
          if (pool.peek(key) === entry) evict(key, "unauthorized");
        },
        onIdle: () => {
          if (entry.retired) closeClient(entry);
        },
      }),
      retired: false,
      closed: false,
    };
    if (generationOf(target.name) !== generation) {
      // The cluster was deleted or its credentials changed while this client was being built.
      closeClient(entry);
      throw new GatewayError(
        "unavailable",
        `Cluster ${target.name} changed while the gateway was connecting to it; try again.`,
      );
    }
    pool.set(key, entry, { ttl: identity.ttlMilliseconds });
    let keys = keysByCluster.get(target.name);
    if (!keys) {
      keys = new Set();
      keysByCluster.set(target.name, keys);
    }
    keys.add(key);
    return entry;
  }

  async function accessFor(requester: Requester, name: string): Promise<ClusterAccess> {
    if (closed) throw new GatewayError("unavailable", "The cluster catalog has been shut down.");
    const target = await resolveTarget(requester, name);
    const identity = await callIdentity(requester);
    const uid = target.kind === "workload" ? target.cluster.uid : managementClusterName;
    // The key holds the whole identity (and the token's fingerprint in SSO mode): callers that
    // share a key, and so a pending build, are the same user with the same credentials.
    const key = JSON.stringify([target.name, uid, mode, identity.key]);
    const pooled = pool.get(key);
    if (pooled) {
      emit({ type: "hit" });
      return pooled.pooled.access;
    }
    const pending = building.get(key);
    if (pending) {
      emit({ type: "hit" });
      return (await pending).pooled.access;
    }
    emit({ type: "miss" });
    const started = build(key, requester, target, identity).finally(() => building.delete(key));
    building.set(key, started);
    return (await started).pooled.access;
  }

  async function listFor(requester: Requester): Promise<ClusterSummary[]> {
    await directoryReady();
    const visible = await visibleAmong(requester, directory.list());
    return [
      { name: managementClusterName, ...(managementServer === undefined ? {} : { server: managementServer }) },
      ...visible.map(summaryOf),
    ];
  }

  function catalogFor(requester: Requester): ClusterCatalog {
    return {
      defaultCluster: options.defaultCluster,
      list: () => listFor(requester),
      access: (name) => accessFor(requester, name),
    };
  }

  function onChange(change: CapiChange): void {
    if (change.type === "deleted") {
      invalidateCluster(formatClusterRef(change.cluster.ref), "cluster-deleted");
      return;
    }
    if (change.type === "credentials-changed") {
      // Only a change to the kind of object this mode reads: a ConfigMap of the same name as a
      // kubeconfig secret must not drop clients, nor a Secret the SSO pool never read.
      const { from, suffix } = credentialSource;
      if ((change.from ?? from) !== from || !change.name.endsWith(suffix)) return;
      invalidateCluster(`${change.namespace}/${change.name.slice(0, -suffix.length)}`, "credentials-changed");
      return;
    }
    // Added or modified: clients built for an earlier Cluster of the same name (another uid)
    // belong to a cluster that is gone; a moved control plane makes SSO clients point elsewhere.
    const clusterName = formatClusterRef(change.cluster.ref);
    const endpoint = endpointUrl(change.cluster);
    const entries = [...(keysByCluster.get(clusterName) ?? [])].flatMap((key) => {
      const entry = pool.peek(key, { allowStale: true });
      return entry ? [entry] : [];
    });
    const cached = credentialCache.get(clusterName);
    if (entries.some((entry) => entry.uid !== change.cluster.uid) || (cached && cached.uid !== change.cluster.uid)) {
      invalidateCluster(clusterName, "cluster-deleted");
    } else if (mode === "sso-passthrough" && entries.some((entry) => entry.endpoint !== endpoint)) {
      invalidateCluster(clusterName, "credentials-changed");
    }
  }
  const unsubscribe = directory.onChange(onChange);

  return {
    forPrincipal(principal) {
      const identity = impersonatedIdentity(principal);
      // A SubjectAccessReview gets no implicit groups: add the one every authenticated request
      // (and every impersonated one) carries, so the review answers what the API server would.
      const groups = [...new Set([...identity.groups, "system:authenticated"])];
      return catalogFor({
        kind: "principal",
        principal,
        key: principalIdentityKey(principal),
        subject: { user: identity.user, groups, extra: identity.extra },
      });
    },
    forLocalUser() {
      return catalogFor({ kind: "local", key: "local" });
    },
    get poolSize() {
      return pool.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(sweeper);
      await Promise.allSettled([...building.values()]);
      pool.clear();
      await Promise.allSettled([...closing]);
      if (ownsManagementApi) await management.close();
    },
  };
}
