// An in-memory management API server for the directory's unit tests: Cluster API clusters,
// secrets and config maps, listed and watched with real resource versions, history replay and
// metadata-only answers. The fleet e2e tests cover the real API server.
import type { KubeObject } from "@capi-mcp/core";
import type {
  KubeHttpRequest,
  KubeHttpResponse,
  KubeStreamRequest,
  KubeStreamResponse,
  WatchTransport,
} from "@capi-mcp/kube";

type Resource = "clusters" | "secrets" | "configmaps";

interface Entry {
  readonly resource: Resource;
  readonly object: KubeObject;
}

interface HistoryEntry extends Entry {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly version: number;
}

interface Scope {
  readonly resource: Resource;
  readonly namespace: string | undefined;
  readonly capiVersion: string | undefined;
}

interface OpenWatch {
  readonly scope: Scope;
  readonly labelSelector: string | undefined;
  readonly metadataOnly: boolean;
  push(line: string): void;
  end(): void;
}

export interface FakeManagementApi extends WatchTransport {
  /** Cluster API versions served; empty: the group is not served (404). */
  servedVersions: string[];
  /** Namespaces where listing secrets is forbidden (403). */
  readonly forbiddenSecretNamespaces: Set<string>;
  readonly requests: { readonly path: string; readonly accept: string | undefined; readonly watch: boolean }[];
  put(resource: Resource, object: KubeObject): KubeObject;
  remove(resource: Resource, namespace: string, name: string): void;
  /** Drops every open watch, as an API server restart would. */
  dropWatches(): void;
  readonly openWatches: number;
}

function httpError(status: number, reason: string): Error {
  return Object.assign(new Error(`the API server answered ${status}`), {
    name: "KubeHttpError",
    status,
    body: JSON.stringify({ kind: "Status", code: status, reason }),
  });
}

function parsePath(path: string): Scope | undefined {
  const match = /^\/(?:api\/v1|apis\/cluster\.x-k8s\.io\/([^/]+))(?:\/namespaces\/([^/]+))?\/([a-z]+)$/.exec(path);
  if (!match) return undefined;
  const resource = match[3] as Resource;
  if (!["clusters", "secrets", "configmaps"].includes(resource)) return undefined;
  return { resource, namespace: match[2], capiVersion: match[1] };
}

function matchesSelector(object: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [key = "", value] = term.split("=");
    const actual = object.metadata?.labels?.[key];
    return value === undefined ? actual !== undefined : actual === value;
  });
}

function inScope(entry: Entry, scope: Scope): boolean {
  return (
    entry.resource === scope.resource && (!scope.namespace || entry.object.metadata?.namespace === scope.namespace)
  );
}

function present(object: KubeObject, scope: Scope, metadataOnly: boolean): KubeObject {
  if (metadataOnly) return { apiVersion: "meta.k8s.io/v1", kind: "PartialObjectMetadata", metadata: object.metadata };
  return scope.capiVersion ? { ...object, apiVersion: `cluster.x-k8s.io/${scope.capiVersion}` } : object;
}

export function createFakeManagementApi(): FakeManagementApi {
  const objects = new Map<string, Entry>();
  const history: HistoryEntry[] = [];
  const watches = new Set<OpenWatch>();
  let version = 100;
  let uid = 0;
  const key = (resource: Resource, namespace: string, name: string) => `${resource}/${namespace}/${name}`;

  function publish(entry: HistoryEntry): void {
    history.push(entry);
    for (const watch of watches) {
      if (!inScope(entry, watch.scope) || !matchesSelector(entry.object, watch.labelSelector)) continue;
      watch.push(
        `${JSON.stringify({ type: entry.type, object: present(entry.object, watch.scope, watch.metadataOnly) })}\n`,
      );
    }
  }

  function check(scope: Scope | undefined, path: string): Scope {
    if (!scope) throw httpError(404, "NotFound");
    if (scope.resource === "clusters" && !api.servedVersions.includes(scope.capiVersion ?? "")) {
      throw httpError(404, "NotFound");
    }
    if (scope.resource === "secrets" && scope.namespace && api.forbiddenSecretNamespaces.has(scope.namespace)) {
      throw httpError(403, `Forbidden ${path}`);
    }
    return scope;
  }

  const api: FakeManagementApi = {
    servedVersions: ["v1beta1", "v1beta2"],
    forbiddenSecretNamespaces: new Set(),
    requests: [],
    get openWatches() {
      return watches.size;
    },
    put(resource, object) {
      const namespace = object.metadata?.namespace ?? "";
      const name = object.metadata?.name ?? "";
      const existing = objects.get(key(resource, namespace, name));
      version += 1;
      if (!existing) uid += 1;
      const stored: KubeObject = {
        ...object,
        metadata: {
          ...object.metadata,
          uid: existing?.object.metadata?.uid ?? `uid-${uid}`,
          resourceVersion: String(version),
        },
      };
      objects.set(key(resource, namespace, name), { resource, object: stored });
      publish({ type: existing ? "MODIFIED" : "ADDED", resource, object: stored, version });
      return stored;
    },
    remove(resource, namespace, name) {
      const existing = objects.get(key(resource, namespace, name));
      if (!existing) return;
      objects.delete(key(resource, namespace, name));
      version += 1;
      const object = {
        ...existing.object,
        metadata: { ...existing.object.metadata, resourceVersion: String(version) },
      };
      publish({ type: "DELETED", resource, object, version });
    },
    dropWatches() {
      for (const watch of [...watches]) watch.end();
    },
    async request(request: KubeHttpRequest): Promise<KubeHttpResponse> {
      api.requests.push({ path: request.path, accept: request.accept, watch: false });
      const answer = (body: unknown): KubeHttpResponse => ({
        status: 200,
        contentType: "application/json",
        body: Buffer.from(JSON.stringify(body)),
        truncated: false,
      });
      if (request.path === "/apis/cluster.x-k8s.io") {
        if (api.servedVersions.length === 0) throw httpError(404, "NotFound");
        return answer({
          kind: "APIGroup",
          name: "cluster.x-k8s.io",
          versions: api.servedVersions.map((served) => ({
            groupVersion: `cluster.x-k8s.io/${served}`,
            version: served,
          })),
        });
      }
      const scope = check(parsePath(request.path), request.path);
      const metadataOnly = request.accept?.includes("as=PartialObjectMetadataList") ?? false;
      const labelSelector = request.query?.get("labelSelector") ?? undefined;
      const items = [...objects.values()]
        .filter((entry) => inScope(entry, scope) && matchesSelector(entry.object, labelSelector))
        .map((entry) => present(entry.object, scope, metadataOnly));
      return answer({ metadata: { resourceVersion: String(version) }, items });
    },
    async stream(request: KubeStreamRequest): Promise<KubeStreamResponse> {
      api.requests.push({ path: request.path, accept: request.accept, watch: true });
      const scope = check(parsePath(request.path), request.path);
      const queue: (string | null)[] = [];
      let wake: (() => void) | undefined;
      const labelSelector = request.query?.get("labelSelector") ?? undefined;
      const watch: OpenWatch = {
        scope,
        labelSelector,
        metadataOnly: request.accept?.includes("as=PartialObjectMetadata") ?? false,
        push(line) {
          queue.push(line);
          wake?.();
        },
        end() {
          watches.delete(watch);
          queue.push(null);
          wake?.();
        },
      };
      const from = Number(request.query?.get("resourceVersion") ?? version);
      for (const entry of history) {
        if (entry.version > from && inScope(entry, scope) && matchesSelector(entry.object, labelSelector)) {
          watch.push(
            `${JSON.stringify({ type: entry.type, object: present(entry.object, scope, watch.metadataOnly) })}\n`,
          );
        }
      }
      watches.add(watch);
      request.signal?.addEventListener("abort", () => watch.end(), { once: true });
      async function* body(): AsyncGenerator<Uint8Array> {
        while (true) {
          while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          const line = queue.shift();
          if (line === null || line === undefined) return;
          yield Buffer.from(line);
        }
      }
      return { contentType: "application/json", body: body(), close: () => watch.end() };
    },
  };
  return api;
}

export function cluster(namespace: string, name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Cluster",
    metadata: { name, namespace, labels: { "cluster.x-k8s.io/cluster-name": name } },
    spec: { controlPlaneEndpoint: { host: `${name}.${namespace}.example`, port: 6443 } },
    ...extra,
  };
}

export function secret(namespace: string, name: string, clusterName?: string, data = "c2VjcmV0LXZhbHVl"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      ...(clusterName ? { labels: { "cluster.x-k8s.io/cluster-name": clusterName } } : {}),
    },
    data: { value: data },
  };
}

export async function eventually(check: () => boolean, timeoutMilliseconds = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("the condition did not hold in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
