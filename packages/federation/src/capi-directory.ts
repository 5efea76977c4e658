// Cluster API discovery: informers on the management cluster keep the `Cluster` objects in
// memory, so listing clusters never lists them on the API server. The credential objects the
// pool is built from (kubeconfig secrets, or CA config maps in SSO passthrough) in the namespaces
// that hold clusters are watched too, as metadata only, so the client pool can drop clients whose
// credentials changed; their data never reaches this process.
import { setTimeout as sleep } from "node:timers/promises";
import { type ClusterRef, GatewayError, type KubeObject } from "@capi-mcp/core";
import {
  type BackoffOptions,
  backoffDelay,
  createInformer,
  type Informer,
  type InformerChange,
  type InformerErrorContext,
  type WatchTransport,
} from "@capi-mcp/kube";
import type { CapiChange, CapiCluster, CapiDirectory } from "./capi-contracts.js";

export type CapiDirectoryLogLevel = "debug" | "info" | "warn" | "error";

export interface CapiDirectoryLogEntry {
  readonly level: CapiDirectoryLogLevel;
  /** Written for operators; never carries secret data, a token or a header. */
  readonly message: string;
  readonly namespace?: string;
}

export interface CapiDirectoryOptions {
  /**
   * The gateway's own identity on the management cluster (a `KubeConnection`). It needs
   * get/list/watch on `clusters.cluster.x-k8s.io` (cluster-wide, or in each configured
   * namespace) and list/watch on the kind of object `credentials` names (secrets or config maps)
   * only in the namespaces that hold clusters. The directory does not close it.
   */
  readonly connection: WatchTransport;
  /** Watch only these namespaces (one informer each); default: all namespaces. */
  readonly namespaces?: readonly string[];
  /** Only clusters matching this label selector. */
  readonly labelSelector?: string;
  /**
   * The one kind of object beside each Cluster that the catalogs read (see
   * `workloadCredentialSource`): only that kind is listed and watched, as metadata, so a change
   * drops the clients built from it. With `from: "configmap"` the directory never lists or
   * watches a Secret. Without it: secrets `<name>-kubeconfig` and `<name><caSecretSuffix>`, and
   * config maps `<name><caConfigMapSuffix>` when that is set (the directory on its own, in tests).
   */
  readonly credentials?: { readonly from: "secret" | "configmap"; readonly suffix: string };
  /** Without `credentials`: the CA secret of cluster `<name>` is `<name><suffix>` (default `-ca`). */
  readonly caSecretSuffix?: string;
  /** Without `credentials`: when set, the CA config map `<name><suffix>` of each cluster is watched too. */
  readonly caConfigMapSuffix?: string;
  /** List everything again this often and report drift (default: never; expiries still relist). */
  readonly resyncMilliseconds?: number;
  readonly onLog?: (entry: CapiDirectoryLogEntry) => void;
  /** Watch tuning (tests): the server's stream timeout, the idle watchdog, reconnect backoff. */
  readonly watch?: {
    readonly timeoutSeconds?: number;
    readonly idleTimeoutMilliseconds?: number;
    readonly backoff?: BackoffOptions;
  };
}

export const capiGroup = "cluster.x-k8s.io";
/** Newest first: the first one the API server serves is used. */
export const supportedCapiVersions = ["v1beta2", "v1beta1"] as const;
const clusterNameLabel = "cluster.x-k8s.io/cluster-name";
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

function refKey(ref: ClusterRef): string {
  return `${ref.namespace}/${ref.name}`;
}

function compareRefs(left: ClusterRef, right: ClusterRef): number {
  if (left.namespace !== right.namespace) return left.namespace < right.namespace ? -1 : 1;
  if (left.name !== right.name) return left.name < right.name ? -1 : 1;
  return 0;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Drops what no reader needs and what costs memory per cluster: managed fields and the
 * last-applied annotation (a second copy of the object).
 */
function trimCluster(object: KubeObject): KubeObject {
  const metadata = object.metadata;
  if (!metadata) return object;
  const { managedFields: _managedFields, ...rest } = metadata;
  const annotations = metadata.annotations;
  if (annotations && lastAppliedAnnotation in annotations) {
    const { [lastAppliedAnnotation]: _lastApplied, ...kept } = annotations;
    return { ...object, metadata: { ...rest, annotations: kept } };
  }
  return { ...object, metadata: rest };
}

/** Secrets and config maps are kept as identity only: never data, annotations or managed fields. */
function identityOnly(object: KubeObject): KubeObject {
  const metadata = object.metadata ?? {};
  return {
    metadata: {
      ...(metadata.name === undefined ? {} : { name: metadata.name }),
      ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
      ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
      ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
      ...(metadata.labels === undefined ? {} : { labels: { ...metadata.labels } }),
    },
  };
}

function endpointOf(object: KubeObject): CapiCluster["endpoint"] {
  const spec = object.spec as { controlPlaneEndpoint?: { host?: unknown; port?: unknown } } | undefined;
  const host = spec?.controlPlaneEndpoint?.host;
  const port = spec?.controlPlaneEndpoint?.port;
  if (typeof host !== "string" || host === "") return undefined;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** The directory's view of one `Cluster` object; undefined for an object without name or namespace. */
export function capiClusterFrom(object: KubeObject, servedVersion: string): CapiCluster | undefined {
  const metadata = object.metadata;
  if (!metadata?.name || !metadata.namespace) return undefined;
  const endpoint = endpointOf(object);
  return {
    ref: { namespace: metadata.namespace, name: metadata.name },
    uid: metadata.uid ?? "",
    resourceVersion: metadata.resourceVersion ?? "",
    labels: { ...(metadata.labels ?? {}) },
    object,
    apiVersion: object.apiVersion ?? `${capiGroup}/${servedVersion}`,
    ...(endpoint ? { endpoint } : {}),
  };
}

interface NamespaceWatch {
  readonly informers: readonly Informer[];
  /** Settles once each informer has listed once or failed once. */
  readonly settled: Promise<void>;
}

/**
 * Keeps the management cluster's Cluster API `Cluster` objects in memory, current through
 * informers (list, watch, reconnect with backoff, relist after expiry, optional resync).
 *
 * `ready` resolves after the first full list (and after the credential watches it started have
 * listed once or failed once). It rejects when the management cluster does not serve Cluster API
 * (`/apis/cluster.x-k8s.io` missing, or neither v1beta2 nor v1beta1 served) or refuses the
 * gateway's credentials for discovery; transient failures are retried.
 */
export function createCapiDirectory(options: CapiDirectoryOptions): CapiDirectory {
  const { connection } = options;
  const credentials = options.credentials;
  const secretSuffixes: readonly string[] = credentials
    ? credentials.from === "secret"
      ? [credentials.suffix]
      : []
    : ["-kubeconfig", options.caSecretSuffix ?? "-ca"];
  const configMapSuffixes: readonly string[] = credentials
    ? credentials.from === "configmap"
      ? [credentials.suffix]
      : []
    : options.caConfigMapSuffix === undefined
      ? []
      : [options.caConfigMapSuffix];
  const log = (level: CapiDirectoryLogLevel, message: string, namespace?: string) =>
    options.onLog?.({ level, message, ...(namespace === undefined ? {} : { namespace }) });
  const closing = new AbortController();
  const clusters = new Map<string, CapiCluster>();
  const clustersPerNamespace = new Map<string, number>();
  const namespaceWatches = new Map<string, NamespaceWatch>();
  const listeners = new Set<(change: CapiChange) => void>();
  const clusterInformers: Informer[] = [];
  const stopping = new Set<Promise<void>>();
  let sorted: readonly CapiCluster[] | undefined;

  const watchTuning = {
    ...(options.watch?.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.watch.timeoutSeconds }),
    ...(options.watch?.idleTimeoutMilliseconds === undefined
      ? {}
      : { idleTimeoutMilliseconds: options.watch.idleTimeoutMilliseconds }),
    ...(options.watch?.backoff === undefined ? {} : { backoff: options.watch.backoff }),
    ...(options.resyncMilliseconds === undefined ? {} : { resyncMilliseconds: options.resyncMilliseconds }),
  };

  function emit(change: CapiChange): void {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        log("error", `a Cluster API change subscriber failed: ${errorText(error)}`);
      }
    }
  }

  function informerErrorLogger(what: string, namespace?: string) {
    let warnedForbidden = false;
    return (error: Error, context: InformerErrorContext) => {
      const retry = context.retryInMilliseconds === undefined ? "" : `; retrying in ${context.retryInMilliseconds} ms`;
      // An expired watch is routine (the informer lists again); anything else deserves a warning.
      // A refusal (RBAC without list/watch) is said once, then kept to debug while it retries.
      const forbidden = (error as { status?: unknown }).status === 403;
      const level: CapiDirectoryLogLevel =
        error.name === "WatchExpiredError" || (forbidden && warnedForbidden) ? "debug" : "warn";
      if (forbidden) warnedForbidden = true;
      log(level, `${what} ${context.phase} failed: ${errorText(error)}${retry}`, namespace);
    };
  }

  function namesAClusterWith(suffixes: readonly string[], namespace: string, object: KubeObject): boolean {
    const name = object.metadata?.name ?? "";
    return suffixes.some(
      (suffix) => name.endsWith(suffix) && clusters.has(refKey({ namespace, name: name.slice(0, -suffix.length) })),
    );
  }

  function isCredentialSecret(namespace: string, object: KubeObject): boolean {
    if (object.metadata?.labels?.[clusterNameLabel] !== undefined) return true;
    return namesAClusterWith(secretSuffixes, namespace, object);
  }

  function isCaConfigMap(namespace: string, object: KubeObject): boolean {
    return namesAClusterWith(configMapSuffixes, namespace, object);
  }

  function credentialListener(
    namespace: string,
    from: "secret" | "configmap",
    relevant: (namespace: string, object: KubeObject) => boolean,
  ) {
    return (change: InformerChange) => {
      // Only a change or a removal can make a cached client's credentials wrong.
      if (change.type === "added") return;
      if (!relevant(namespace, change.object) && !(change.previous && relevant(namespace, change.previous))) return;
      const name = change.object.metadata?.name ?? "";
      log("info", `credentials ${namespace}/${name} ${change.type}`, namespace);
      emit({ type: "credentials-changed", namespace, name, from });
    };
  }

  function startNamespaceWatch(namespace: string): void {
    const encoded = encodeURIComponent(namespace);
    const kinds: {
      resource: string;
      from: "secret" | "configmap";
      relevant: (namespace: string, object: KubeObject) => boolean;
    }[] = [
      ...(secretSuffixes.length === 0
        ? []
        : [{ resource: "secrets", from: "secret" as const, relevant: isCredentialSecret }]),
      ...(configMapSuffixes.length === 0
        ? []
        : [{ resource: "configmaps", from: "configmap" as const, relevant: isCaConfigMap }]),
    ];
    const settledEach: Promise<void>[] = [];
    const informers = kinds.map(({ resource, from, relevant }) => {
      const { promise: settled, resolve: settle } = Promise.withResolvers<void>();
      settledEach.push(settled);
      const logError = informerErrorLogger(`watching ${resource} in ${namespace}`, namespace);
      const informer = createInformer(connection, {
        path: `/api/v1/namespaces/${encoded}/${resource}`,
        metadataOnly: true,
        transform: identityOnly,
        ...watchTuning,
        onError: (error, context) => {
          logError(error, context);
          settle();
        },
      });
      informer.onChange(credentialListener(namespace, from, relevant));
      informer.synced.then(settle, settle);
      return informer;
    });
    namespaceWatches.set(namespace, { informers, settled: Promise.all(settledEach).then(() => undefined) });
    log("debug", `watching cluster credentials in ${namespace}`, namespace);
  }

  function stopNamespaceWatch(namespace: string): void {
    const watch = namespaceWatches.get(namespace);
    if (!watch) return;
    namespaceWatches.delete(namespace);
    for (const informer of watch.informers) {
      const stopped = informer.stop();
      stopping.add(stopped);
      void stopped.finally(() => stopping.delete(stopped));
    }
    log("debug", `no clusters left in ${namespace}; stopped watching its credentials`, namespace);
  }

  function countNamespace(namespace: string, delta: 1 | -1): void {
    const count = (clustersPerNamespace.get(namespace) ?? 0) + delta;
    if (count <= 0) {
      clustersPerNamespace.delete(namespace);
      stopNamespaceWatch(namespace);
    } else {
      clustersPerNamespace.set(namespace, count);
      if (count === 1 && delta === 1 && !closing.signal.aborted) startNamespaceWatch(namespace);
    }
  }

  function onClusterChange(change: InformerChange, version: string): void {
    const cluster = capiClusterFrom(change.object, version);
    if (!cluster) return;
    const key = refKey(cluster.ref);
    sorted = undefined;
    if (change.type === "deleted") {
      if (!clusters.delete(key)) return;
      countNamespace(cluster.ref.namespace, -1);
    } else {
      const known = clusters.has(key);
      clusters.set(key, cluster);
      if (!known) countNamespace(cluster.ref.namespace, 1);
    }
    emit({ type: change.type, cluster });
  }

  async function discoverVersion(): Promise<string> {
    for (let attempt = 0; ; attempt += 1) {
      let answer: { versions?: { version?: unknown }[] };
      try {
        const response = await connection.request({
          method: "GET",
          path: `/apis/${capiGroup}`,
          signal: closing.signal,
        });
        answer = JSON.parse(response.body.toString("utf8")) as typeof answer;
      } catch (error) {
        if (closing.signal.aborted) throw new GatewayError("unavailable", "The Cluster API directory was closed.");
        const status = (error as { status?: unknown }).status;
        if (status === 404) {
          throw new GatewayError(
            "unavailable",
            `The management cluster does not serve the ${capiGroup} API group: is Cluster API installed there?`,
            { cause: error },
          );
        }
        if (status === 401 || status === 403) {
          throw new GatewayError(
            "unavailable",
            `The management cluster refused the gateway's credentials for API discovery (HTTP ${status}).`,
            { cause: error },
          );
        }
        const delay = backoffDelay(attempt, options.watch?.backoff);
        log("warn", `Cluster API discovery failed: ${errorText(error)}; retrying in ${delay} ms`);
        try {
          await sleep(delay, undefined, { signal: closing.signal });
        } catch {
          throw new GatewayError("unavailable", "The Cluster API directory was closed.");
        }
        continue;
      }
      const served = new Set(
        (answer.versions ?? []).map((entry) => entry.version).filter((version) => typeof version === "string"),
      );
      const chosen = supportedCapiVersions.find((version) => served.has(version));
      if (!chosen) {
        throw new GatewayError(
          "unavailable",
          `The management cluster serves ${capiGroup} only in ${[...served].join(", ") || "no version"}; capi-mcp needs ${supportedCapiVersions.join(" or ")}.`,
        );
      }
      return chosen;
    }
  }

  async function start(): Promise<void> {
    const version = await discoverVersion();
    if (closing.signal.aborted) throw new GatewayError("unavailable", "The Cluster API directory was closed.");
    log(
      "info",
      `watching ${capiGroup}/${version} clusters${options.namespaces ? ` in ${options.namespaces.join(", ")}` : " in all namespaces"}`,
    );
    const base = `/apis/${capiGroup}/${version}`;
    const paths =
      options.namespaces === undefined
        ? [`${base}/clusters`]
        : [...new Set(options.namespaces)].map(
            (namespace) => `${base}/namespaces/${encodeURIComponent(namespace)}/clusters`,
          );
    for (const path of paths) {
      const informer = createInformer(connection, {
        path,
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
        transform: trimCluster,
        ...watchTuning,
        onError: informerErrorLogger(`watching clusters (${path})`),
      });
      informer.onChange((change) => onClusterChange(change, version));
      clusterInformers.push(informer);
    }
    await Promise.all(clusterInformers.map((informer) => informer.synced));
    // The credential watches the first list started: wait for their first list too, so a rotation
    // just after `ready` is seen; one that fails (forbidden) does not hold the directory up.
    await Promise.all([...namespaceWatches.values()].map((watch) => watch.settled));
    log("info", `Cluster API directory ready: ${clusters.size} clusters`);
  }

  const ready = start();
  // `ready` is the caller's to await; a directory closed or refused before anyone does is no crash.
  ready.catch(() => undefined);

  return {
    ready,
    list() {
      // Sorted once per change, not per call: readers call this on every tool call.
      sorted ??= [...clusters.values()].sort((left, right) => compareRefs(left.ref, right.ref));
      return sorted;
    },
    get(ref) {
      return clusters.get(refKey(ref));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      closing.abort();
      listeners.clear();
      const informers = [...clusterInformers, ...[...namespaceWatches.values()].flatMap((watch) => watch.informers)];
      namespaceWatches.clear();
      await Promise.all([...informers.map((informer) => informer.stop()), ...stopping]);
    },
  };
}
