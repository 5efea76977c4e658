import {
  type AccessAnswer,
  type AccessQuestion,
  type ApiResource,
  apiVersionOf,
  type ClusterAccess,
  type ClusterHealth,
  type DeleteOptions,
  type ExecRequest,
  type ExecResult,
  GatewayError,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type LogRequest,
  type LogResult,
  type MutationOptions,
  type PatchType,
  type PortForwardHandle,
  type PortForwardRequest,
  type ResourceQuery,
} from "@capi-mcp/core";
import { asRecords, valueAt } from "../shaping/object-fields.js";
import { standardApiResources } from "./api-resources.js";
import { matchesFieldSelector, matchesLabelSelector } from "./selectors.js";

export interface RecordedCall {
  readonly method: string;
  readonly arguments: readonly unknown[];
}

export interface InMemoryClusterOptions {
  readonly name: string;
  readonly resources?: readonly ApiResource[];
  readonly objects?: readonly KubeObject[];
  /** Log text per `namespace/pod/container`; previous logs under `namespace/pod/container/previous`. */
  readonly logs?: Record<string, string>;
  readonly exec?: (request: ExecRequest) => ExecResult;
  readonly health?: ClusterHealth;
  readonly canI?: (question: AccessQuestion) => AccessAnswer;
  /** A note the guard would put on every list, to check tools pass it on. */
  readonly policyNote?: string;
  /** How long list and health take; "never" answers never (a dead API server). */
  readonly latencyMilliseconds?: number | "never";
  /** Thrown by list and health, after the latency (a forbidden or broken cluster). */
  readonly failure?: Error;
  /** Shared across clusters: counts list and health calls in flight, to check fan-out bounds. */
  readonly gauge?: ConcurrencyGauge;
}

/** Calls in flight across several doubles, and the most there ever were at once. */
export class ConcurrencyGauge {
  current = 0;
  maximum = 0;

  enter(): void {
    this.current += 1;
    this.maximum = Math.max(this.maximum, this.current);
  }

  leave(): void {
    this.current -= 1;
  }
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch; strategic merge is treated the same here (no list merge keys). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function jsonPointer(path: string): string[] {
  return path
    .split("/")
    .slice(1)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function jsonPatch(target: KubeObject, operations: unknown): KubeObject {
  const result = clone(target) as Record<string, unknown>;
  for (const operation of asRecords(operations)) {
    const segments = jsonPointer(String(operation.path));
    const last = segments.pop() ?? "";
    let parent: unknown = result;
    for (const segment of segments) parent = (parent as Record<string, unknown>)[segment];
    if (!isRecord(parent) && !Array.isArray(parent)) {
      throw new GatewayError("invalid_input", `The JSON patch path ${String(operation.path)} does not exist.`);
    }
    const container = parent as Record<string, unknown>;
    if (operation.op === "remove") delete container[last];
    else if (operation.op === "add" || operation.op === "replace") {
      if (Array.isArray(parent) && last === "-") parent.push(operation.value);
      else container[last] = operation.value;
    } else if (operation.op === "test") {
      if (JSON.stringify(container[last]) !== JSON.stringify(operation.value)) {
        throw new GatewayError("invalid_input", `The JSON patch test at ${String(operation.path)} failed.`);
      }
    }
  }
  return result as KubeObject;
}

/**
 * An API server in memory, behind the `ClusterAccess` contract: enough of discovery, CRUD,
 * selectors, pagination and pod operations for the tools' unit tests. Every call is recorded
 * in `calls` so tests can check what a tool asked for (dry run, options, selectors).
 */
export class InMemoryCluster implements ClusterAccess {
  readonly cluster: string;
  readonly calls: RecordedCall[] = [];
  readonly closedPortForwards: PortForwardHandle[] = [];
  private readonly resources: readonly ApiResource[];
  private readonly store = new Map<string, KubeObject>();
  private readonly options: InMemoryClusterOptions;
  private nextLocalPort = 41000;
  private nextUid = 1;

  constructor(options: InMemoryClusterOptions) {
    this.cluster = options.name;
    this.options = options;
    this.resources = options.resources ?? standardApiResources;
    for (const object of options.objects ?? []) this.put(this.resourceForObject(object), object);
  }

  private record(method: string, ...parameters: unknown[]): void {
    this.calls.push({ method, arguments: parameters });
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  private resourceForObject(object: KubeObject): ApiResource {
    const match = this.resources.find(
      (resource) => resource.kind === object.kind && apiVersionOf(resource) === object.apiVersion,
    );
    if (match === undefined) throw new Error(`test fixture of unknown type ${object.apiVersion} ${object.kind}`);
    return match;
  }

  private key(resource: ApiResource, name: string, namespace: string | undefined): string {
    return `${resource.group}/${resource.resource}/${resource.namespaced ? (namespace ?? "") : ""}/${name}`;
  }

  put(resource: ApiResource, object: KubeObject): KubeObject {
    const stored = clone(object);
    stored.metadata = { ...stored.metadata };
    stored.metadata.uid ??= `uid-${this.nextUid++}`;
    stored.metadata.resourceVersion ??= "1";
    stored.metadata.creationTimestamp ??= new Date().toISOString();
    if (!resource.namespaced) delete stored.metadata.namespace;
    this.store.set(this.key(resource, stored.metadata.name ?? "", stored.metadata.namespace), stored);
    return clone(stored);
  }

  find(resource: ApiResource, name: string, namespace?: string): KubeObject | undefined {
    const object = this.store.get(this.key(resource, name, namespace));
    return object === undefined ? undefined : clone(object);
  }

  async listApiResources(): Promise<readonly ApiResource[]> {
    this.record("listApiResources");
    return this.resources;
  }

  async resolve(query: ResourceQuery): Promise<ApiResource> {
    this.record("resolve", query);
    const text = query.resource.toLowerCase();
    const [head = "", ...groupParts] = text.split(".");
    const group = groupParts.join(".");
    const names = (resource: ApiResource): string[] => [
      resource.resource,
      resource.singular,
      resource.kind.toLowerCase(),
      ...resource.shortNames,
    ];
    const candidates = this.resources.filter((resource) => {
      if (query.apiVersion !== undefined && apiVersionOf(resource) !== query.apiVersion) return false;
      if (names(resource).includes(text)) return true;
      return groupParts.length > 0 && resource.group === group && names(resource).includes(head);
    });
    const [first] = candidates;
    if (first === undefined) {
      throw new GatewayError(
        "not_found",
        `The cluster has no resource type "${query.resource}"${query.apiVersion === undefined ? "" : ` in ${query.apiVersion}`}: check k8s_get_api_resources.`,
      );
    }
    return first;
  }

  private notFound(resource: ApiResource, name: string): GatewayError {
    return new GatewayError("not_found", `${resource.resource} "${name}" not found.`);
  }

  async get(resource: ApiResource, name: string, namespace?: string): Promise<KubeObject> {
    this.record("get", resource.resource, name, namespace);
    const object = this.find(resource, name, namespace);
    if (object === undefined) throw this.notFound(resource, name);
    return object;
  }

  /** The latency, failure and gauge of the options around one call. */
  private async answer<T>(work: () => T): Promise<T> {
    this.options.gauge?.enter();
    try {
      const latency = this.options.latencyMilliseconds;
      if (latency === "never") await new Promise<never>(() => {});
      else if (latency !== undefined && latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      if (this.options.failure !== undefined) throw this.options.failure;
      return work();
    } finally {
      this.options.gauge?.leave();
    }
  }

  async list(resource: ApiResource, options: ListOptions): Promise<KubeList> {
    this.record("list", resource.resource, options);
    return this.answer(() => this.listNow(resource, options));
  }

  private listNow(resource: ApiResource, options: ListOptions): KubeList {
    const prefix = `${resource.group}/${resource.resource}/`;
    const matching = [...this.store.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([, object]) => object)
      .filter(
        (object) =>
          !resource.namespaced || options.namespace === undefined || object.metadata?.namespace === options.namespace,
      )
      .filter((object) => matchesLabelSelector(object, options.labelSelector))
      .filter((object) => matchesFieldSelector(object, options.fieldSelector));
    const offset = options.continue === undefined ? 0 : Number(Buffer.from(options.continue, "base64url").toString());
    if (Number.isNaN(offset)) throw new GatewayError("invalid_input", "The continue token is not valid.");
    const end = options.limit === undefined ? matching.length : offset + options.limit;
    const items = matching.slice(offset, end).map(clone);
    const remaining = Math.max(0, matching.length - end);
    const list: KubeList = {
      apiVersion: apiVersionOf(resource),
      kind: `${resource.kind}List`,
      metadata:
        remaining > 0
          ? { continue: Buffer.from(String(end)).toString("base64url"), remainingItemCount: remaining }
          : {},
      items,
    };
    if (this.options.policyNote !== undefined) list.policyNote = this.options.policyNote;
    return list;
  }

  private stamp(resource: ApiResource, object: KubeObject, namespace: string | undefined): KubeObject {
    const stamped = clone(object);
    stamped.metadata = { ...stamped.metadata };
    if (resource.namespaced) stamped.metadata.namespace = stamped.metadata.namespace ?? namespace ?? "default";
    if (stamped.metadata.name === undefined && stamped.metadata.generateName !== undefined) {
      stamped.metadata.name = `${stamped.metadata.generateName}x7k2q`;
    }
    return stamped;
  }

  async create(
    resource: ApiResource,
    object: KubeObject,
    options: MutationOptions & { namespace?: string },
  ): Promise<KubeObject> {
    this.record("create", resource.resource, object, options);
    const stamped = this.stamp(resource, object, options.namespace);
    const name = stamped.metadata?.name ?? "";
    if (this.find(resource, name, stamped.metadata?.namespace) !== undefined) {
      throw new GatewayError("conflict", `${resource.resource} "${name}" already exists.`);
    }
    return options.dryRun ? stamped : this.put(resource, stamped);
  }

  async apply(
    resource: ApiResource,
    object: KubeObject,
    options: MutationOptions & { namespace?: string; force?: boolean },
  ): Promise<KubeObject> {
    this.record("apply", resource.resource, object, options);
    const stamped = this.stamp(resource, object, options.namespace);
    const existing = this.find(resource, stamped.metadata?.name ?? "", stamped.metadata?.namespace);
    const merged = mergePatch(existing ?? {}, stamped) as KubeObject;
    return options.dryRun ? merged : this.put(resource, merged);
  }

  async patch(
    resource: ApiResource,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    options: MutationOptions,
  ): Promise<KubeObject> {
    this.record("patch", resource.resource, name, namespace, patch, type, options);
    const existing = this.find(resource, name, namespace);
    if (existing === undefined) throw this.notFound(resource, name);
    const patched = type === "json" ? jsonPatch(existing, patch) : (mergePatch(existing, patch) as KubeObject);
    return options.dryRun ? patched : this.put(resource, patched);
  }

  async delete(
    resource: ApiResource,
    name: string,
    namespace: string | undefined,
    options: DeleteOptions,
  ): Promise<KubeObject> {
    this.record("delete", resource.resource, name, namespace, options);
    const existing = this.find(resource, name, namespace);
    if (existing === undefined) throw this.notFound(resource, name);
    if (!options.dryRun) this.store.delete(this.key(resource, name, namespace));
    return existing;
  }

  async scale(
    resource: ApiResource,
    name: string,
    namespace: string,
    replicas: number,
    options: MutationOptions,
  ): Promise<KubeObject> {
    this.record("scale", resource.resource, name, namespace, replicas, options);
    if (!resource.subresources.includes("scale")) {
      throw new GatewayError("not_found", `${resource.resource} has no scale subresource.`);
    }
    const existing = this.find(resource, name, namespace);
    if (existing === undefined) throw this.notFound(resource, name);
    if (!options.dryRun) {
      this.put(resource, { ...existing, spec: { ...(existing.spec as object), replicas } });
    }
    return {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name, namespace },
      spec: { replicas },
      status: { replicas: valueAt(existing, "status.replicas") ?? 0 },
    };
  }

  private podContainer(namespace: string, podName: string, container: string | undefined): string {
    const pod = this.store.get(`/pods/${namespace}/${podName}`);
    if (pod === undefined) throw new GatewayError("not_found", `pods "${podName}" not found.`);
    const containers = asRecords(valueAt(pod, "spec.containers")).map((entry) => String(entry.name));
    const chosen = container ?? containers[0] ?? "";
    if (!containers.includes(chosen)) {
      throw new GatewayError("invalid_input", `container ${chosen} is not valid for pod ${podName}.`);
    }
    return chosen;
  }

  async logs(request: LogRequest): Promise<LogResult> {
    this.record("logs", request);
    const container = this.podContainer(request.namespace, request.pod, request.container);
    const key = `${request.namespace}/${request.pod}/${container}${request.previous === true ? "/previous" : ""}`;
    const text = this.options.logs?.[key];
    if (text === undefined && request.previous === true) {
      throw new GatewayError(
        "invalid_input",
        `previous terminated container "${container}" in pod "${request.pod}" not found.`,
      );
    }
    let lines = (text ?? "").split("\n").filter((line, index, all) => line !== "" || index < all.length - 1);
    if (request.tailLines !== undefined) lines = lines.slice(-request.tailLines);
    const joined = lines.length === 0 ? "" : `${lines.join("\n")}\n`;
    const bytes = Buffer.from(joined);
    if (bytes.length > request.limitBytes) {
      return { text: bytes.subarray(0, request.limitBytes).toString(), truncated: true };
    }
    return { text: joined, truncated: false };
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    this.record("exec", request);
    this.podContainer(request.namespace, request.pod, request.container);
    if (this.options.exec !== undefined) return this.options.exec(request);
    return { stdout: `${request.command.join(" ")}\n`, stderr: "", exitCode: 0, truncated: false, timedOut: false };
  }

  async portForward(request: PortForwardRequest): Promise<PortForwardHandle> {
    this.record("portForward", request);
    this.podContainer(request.namespace, request.pod, undefined);
    const localPort =
      request.localPort === undefined || request.localPort === 0 ? this.nextLocalPort++ : request.localPort;
    const closed = this.closedPortForwards;
    const handle: PortForwardHandle = {
      namespace: request.namespace,
      pod: request.pod,
      remotePort: request.port,
      localAddress: "127.0.0.1",
      localPort,
      async close() {
        closed.push(handle);
      },
    };
    return handle;
  }

  async health(): Promise<ClusterHealth> {
    this.record("health");
    return this.answer(
      () =>
        this.options.health ?? {
          reachable: true,
          version: "v1.20.2",
          checks: [
            { name: "ping", ok: true },
            { name: "etcd", ok: true },
          ],
          nodes: { total: 3, ready: 3 },
        },
    );
  }

  async canI(question: AccessQuestion): Promise<AccessAnswer> {
    this.record("canI", question);
    return this.options.canI?.(question) ?? { allowed: true };
  }
}
