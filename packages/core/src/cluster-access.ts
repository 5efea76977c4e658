import type { KubeList, KubeObject } from "./kube-object.js";

/** One resource type as discovery describes it. */
export interface ApiResource {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name, as in URLs (`deployments`). */
  readonly resource: string;
  readonly kind: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly categories: readonly string[];
  /** Subresources discovery lists for it (`status`, `scale`, `log`, `exec`, …). */
  readonly subresources: readonly string[];
}

/** `group/version`, or `version` for the core group, as in an object's apiVersion. */
export function apiVersionOf(resource: Pick<ApiResource, "group" | "version">): string {
  return resource.group === "" ? resource.version : `${resource.group}/${resource.version}`;
}

/** What a user names: a kind, plural, singular, short name or `resource.group`, optionally pinned to an apiVersion. */
export interface ResourceQuery {
  readonly resource: string;
  readonly apiVersion?: string;
}

export interface ListOptions {
  /** A namespace, or undefined for all namespaces (namespaced resources) / cluster scope. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
}

export interface MutationOptions {
  /** Server-side dry run (`dryRun=All`): validated and admitted, never persisted. */
  readonly dryRun: boolean;
}

export type PatchType = "merge" | "strategic" | "json";

export interface DeleteOptions extends MutationOptions {
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan";
  readonly gracePeriodSeconds?: number;
}

export interface LogRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container?: string;
  readonly previous?: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  readonly timestamps?: boolean;
  /** Upper bound on bytes returned; the answer says when it was cut. */
  readonly limitBytes: number;
}

export interface LogResult {
  readonly text: string;
  readonly truncated: boolean;
}

export interface ExecRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container?: string;
  readonly command: readonly string[];
  readonly stdin?: string;
  readonly timeoutMilliseconds: number;
  /** Upper bound on stdout plus stderr bytes kept. */
  readonly maxOutputBytes: number;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The process's exit code; undefined when it never reported one (timeout, stream error). */
  readonly exitCode: number | undefined;
  readonly truncated: boolean;
  readonly timedOut: boolean;
  /** The runtime's own failure message, when the command could not run. */
  readonly failure?: string;
}

export interface PortForwardRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly port: number;
  /** Local port on 127.0.0.1; 0 or undefined picks a free one. */
  readonly localPort?: number;
}

export interface PortForwardHandle {
  readonly namespace: string;
  readonly pod: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Connections being forwarded right now: a forward in use is not idle. */
  readonly activeConnections?: () => number;
  close(): Promise<void>;
}

export interface ClusterHealth {
  readonly reachable: boolean;
  readonly version?: string;
  /** Readiness checks as the API server reports them (`/readyz?verbose`). */
  readonly checks: readonly { name: string; ok: boolean }[];
  readonly nodes?: { total: number; ready: number };
  readonly error?: string;
}

export interface AccessQuestion {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

export interface AccessAnswer {
  readonly allowed: boolean;
  readonly denied?: boolean;
  readonly reason?: string;
}

/**
 * Everything a tool may do on one cluster, as one user. Implemented by `kube`; wrapped once by
 * `policy` (modes, namespace rules, secret redaction) before any tool sees it. Failures are
 * `GatewayError`s written for the caller.
 */
export interface ClusterAccess {
  /** The cluster's name as users write it (a kubeconfig context, or namespace/name). */
  readonly cluster: string;
  listApiResources(): Promise<readonly ApiResource[]>;
  resolve(query: ResourceQuery): Promise<ApiResource>;
  get(resource: ApiResource, name: string, namespace?: string): Promise<KubeObject>;
  list(resource: ApiResource, options: ListOptions): Promise<KubeList>;
  create(
    resource: ApiResource,
    object: KubeObject,
    options: MutationOptions & { namespace?: string },
  ): Promise<KubeObject>;
  /** Server-side apply with field manager `capi-mcp`. */
  apply(
    resource: ApiResource,
    object: KubeObject,
    options: MutationOptions & { namespace?: string; force?: boolean },
  ): Promise<KubeObject>;
  patch(
    resource: ApiResource,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    options: MutationOptions,
  ): Promise<KubeObject>;
  delete(
    resource: ApiResource,
    name: string,
    namespace: string | undefined,
    options: DeleteOptions,
  ): Promise<KubeObject>;
  /** Sets `spec.replicas` through the scale subresource; returns the resulting Scale. */
  scale(
    resource: ApiResource,
    name: string,
    namespace: string,
    replicas: number,
    options: MutationOptions,
  ): Promise<KubeObject>;
  logs(request: LogRequest): Promise<LogResult>;
  exec(request: ExecRequest): Promise<ExecResult>;
  portForward(request: PortForwardRequest): Promise<PortForwardHandle>;
  health(): Promise<ClusterHealth>;
  /** SelfSubjectAccessReview as the calling user. */
  canI(question: AccessQuestion): Promise<AccessAnswer>;
}

export interface ClusterCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface ClusterSummary {
  /** How users name it: a kubeconfig context, `management`, or `namespace/name` for Cluster API. */
  readonly name: string;
  readonly server?: string;
  readonly user?: string;
  /** A kubeconfig context's default namespace. */
  readonly namespace?: string;
  /** Cluster API: the Cluster object's labels (what cluster selectors match). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Cluster API: `status.phase`. */
  readonly phase?: string;
  /** Cluster API: the status conditions (v1beta2, or v1beta1's when that is what is served). */
  readonly conditions?: readonly ClusterCondition[];
  /** Cluster API: the Cluster object as the management cluster serves it. */
  readonly clusterObject?: KubeObject;
}

/** Where clusters come from (kubeconfig contexts, in-cluster, Cluster API). */
export interface ClusterCatalog {
  /** The cluster used when a call names none and the session has not switched. */
  readonly defaultCluster: string | undefined;
  /** The clusters this caller may see. */
  list(): Promise<readonly ClusterSummary[]>;
  /** Access to one cluster; an unknown and a forbidden cluster fail alike (`cluster_not_found`). */
  access(name: string): Promise<ClusterAccess>;
}
