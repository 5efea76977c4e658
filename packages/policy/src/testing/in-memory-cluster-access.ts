// A small in-memory ClusterAccess for the guard's unit tests. Not exported from the package:
// tests import it by path. It behaves like the API server where the guard depends on it
// (dry runs are not persisted, list items carry no kind, pagination by limit and continue).
import {
  type ApiResource,
  type ClusterAccess,
  GatewayError,
  type KubeList,
  type KubeObject,
  type ListOptions,
} from "@capi-mcp/core";

function apiResource(resource: string, kind: string, namespaced: boolean, group = "", version = "v1"): ApiResource {
  return {
    group,
    version,
    resource,
    kind,
    singular: kind.toLowerCase(),
    shortNames: [],
    namespaced,
    verbs: ["get", "list", "create", "update", "patch", "delete"],
    categories: [],
    subresources: [],
  };
}

export const testResources = {
  pods: apiResource("pods", "Pod", true),
  secrets: apiResource("secrets", "Secret", true),
  configMaps: apiResource("configmaps", "ConfigMap", true),
  deployments: apiResource("deployments", "Deployment", true, "apps"),
  namespaces: apiResource("namespaces", "Namespace", false),
  nodes: apiResource("nodes", "Node", false),
  /** A made-up namespaced resource whose objects are Lists, to prove nested redaction. */
  bundles: apiResource("bundles", "Bundle", true, "example.com", "v1alpha1"),
} as const;

export interface RecordedCall {
  readonly method: string;
  readonly args: readonly unknown[];
}

export interface InMemoryClusterAccess extends ClusterAccess {
  /** Every call, in order, with the arguments the guard passed on. */
  readonly calls: RecordedCall[];
  seed(resource: ApiResource, object: KubeObject): void;
  stored(resource: ApiResource, name: string, namespace?: string): KubeObject | undefined;
}

function key(resource: ApiResource, name: string, namespace: string | undefined): string {
  return `${resource.group}/${resource.resource}/${resource.namespaced ? (namespace ?? "") : ""}/${name}`;
}

function nameOf(object: KubeObject): string {
  const name = object.metadata?.name;
  if (name === undefined) throw new Error("test objects need metadata.name");
  return name;
}

export function createInMemoryClusterAccess(cluster = "test-cluster"): InMemoryClusterAccess {
  const objects = new Map<string, { resource: ApiResource; object: KubeObject }>();
  const calls: RecordedCall[] = [];

  function record(method: string, ...args: unknown[]): void {
    calls.push({ method, args: structuredClone(args) });
  }

  function seed(resource: ApiResource, object: KubeObject): void {
    objects.set(key(resource, nameOf(object), object.metadata?.namespace), {
      resource,
      object: structuredClone(object),
    });
  }

  function find(resource: ApiResource, name: string, namespace: string | undefined): KubeObject {
    const entry = objects.get(key(resource, name, namespace ?? "default"));
    if (entry === undefined) throw new GatewayError("not_found", `${resource.resource} "${name}" not found.`);
    return structuredClone(entry.object);
  }

  function store(resource: ApiResource, object: KubeObject, namespace: string | undefined): KubeObject {
    return structuredClone({
      ...object,
      metadata: { ...object.metadata, ...(resource.namespaced ? { namespace: namespace ?? "default" } : {}) },
    });
  }

  return {
    cluster,
    calls,
    seed,
    stored(resource, name, namespace) {
      const entry = objects.get(key(resource, name, namespace));
      return entry === undefined ? undefined : structuredClone(entry.object);
    },
    async listApiResources() {
      return Object.values(testResources);
    },
    async resolve(query) {
      const found = Object.values(testResources).find(
        (resource) => resource.resource === query.resource || resource.kind === query.resource,
      );
      if (found === undefined) throw new GatewayError("not_found", `No resource type "${query.resource}".`);
      return found;
    },
    async get(resource, name, namespace) {
      record("get", resource.resource, name, namespace);
      return find(resource, name, namespace);
    },
    async list(resource, options: ListOptions): Promise<KubeList> {
      record("list", resource.resource, options);
      const matching = [...objects.values()]
        .filter((entry) => entry.resource === resource)
        .filter((entry) => options.namespace === undefined || entry.object.metadata?.namespace === options.namespace)
        .map((entry) => entry.object)
        .sort((left, right) =>
          `${left.metadata?.namespace}/${left.metadata?.name}`.localeCompare(
            `${right.metadata?.namespace}/${right.metadata?.name}`,
          ),
        );
      const start = options.continue === undefined ? 0 : Number(options.continue.replace("offset-", ""));
      if (!Number.isInteger(start)) throw new GatewayError("invalid_input", "bad continue token");
      const end = options.limit === undefined ? matching.length : start + options.limit;
      const page = matching.slice(start, end);
      return {
        apiVersion: resource.group === "" ? resource.version : `${resource.group}/${resource.version}`,
        kind: `${resource.kind}List`,
        metadata: {
          resourceVersion: "42",
          ...(end < matching.length ? { continue: `offset-${end}`, remainingItemCount: matching.length - end } : {}),
        },
        // Like the API server, items of a typed list carry no kind or apiVersion of their own.
        items: page.map((object) => {
          const { kind: _kind, apiVersion: _apiVersion, ...item } = structuredClone(object);
          return item;
        }),
      };
    },
    async create(resource, object, options) {
      record("create", resource.resource, object, options);
      const stored = store(resource, object, options.namespace ?? object.metadata?.namespace);
      if (!options.dryRun) seed(resource, stored);
      return structuredClone(stored);
    },
    async apply(resource, object, options) {
      record("apply", resource.resource, object, options);
      const stored = store(resource, object, options.namespace ?? object.metadata?.namespace);
      if (!options.dryRun) seed(resource, stored);
      return structuredClone(stored);
    },
    async patch(resource, name, namespace, patch, type, options) {
      record("patch", resource.resource, name, namespace, patch, type, options);
      const current = find(resource, name, namespace);
      const patched: KubeObject = { ...current, ...(patch as Record<string, unknown>) };
      if (!options.dryRun) seed(resource, patched);
      return structuredClone(patched);
    },
    async delete(resource, name, namespace, options) {
      record("delete", resource.resource, name, namespace, options);
      const current = find(resource, name, namespace);
      if (!options.dryRun) objects.delete(key(resource, name, namespace ?? "default"));
      return current;
    },
    async scale(resource, name, namespace, replicas, options) {
      record("scale", resource.resource, name, namespace, replicas, options);
      find(resource, name, namespace);
      return {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        metadata: { name, namespace },
        spec: { replicas },
      };
    },
    async logs(request) {
      record("logs", request);
      return { text: `logs of ${request.pod}`, truncated: false };
    },
    async exec(request) {
      record("exec", request);
      return { stdout: "ok\n", stderr: "", exitCode: 0, truncated: false, timedOut: false };
    },
    async portForward(request) {
      record("portForward", request);
      return {
        namespace: request.namespace,
        pod: request.pod,
        remotePort: request.port,
        localAddress: "127.0.0.1",
        localPort: 40000,
        close: async () => {},
      };
    },
    async health() {
      return { reachable: true, version: "v1.20.2", checks: [] };
    },
    async canI(question) {
      record("canI", question);
      return { allowed: true };
    },
  };
}
