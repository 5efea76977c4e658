// Cluster API discovery against the real management cluster, as the gateway's service account:
// least privilege is enough, clusters come and go without a restart, a rotated kubeconfig secret
// is reported, and reading the directory costs no API call.
import { randomBytes } from "node:crypto";
// The federation package does not export the directory yet; the lead adds it to its index.
import type { CapiChange, CapiDirectory } from "@capi-mcp/federation";
import { type CapiDirectoryLogEntry, createCapiDirectory } from "@capi-mcp/federation";
import {
  createInformer,
  createKubeConnection,
  type KubeConnection,
  type KubeHttpRequest,
  type KubeStreamRequest,
  WatchExpiredError,
  type WatchTransport,
  watchList,
} from "@capi-mcp/kube";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { clusterInfo, fleetInfo } from "../fleet/test-context.ts";
import { gatewayServiceAccount } from "../fleet/topology.ts";

let info: FleetInfo;
let connection: KubeConnection;
const calls: { path: string; accept: string | undefined; watch: boolean }[] = [];
let transport: WatchTransport;
const runId = randomBytes(4).toString("hex");
// Secrets readable by the gateway (a RoleBinding like the fleet's cluster namespaces have) …
const readable = `org-e2e-${runId}`;
// … and not (no binding at all).
const unreadable = `org-e2e-${runId}-x`;
const cleanup: string[] = [];

async function admin<T>(use: (client: Awaited<ReturnType<typeof fleetAdminClient>>) => Promise<T>): Promise<T> {
  const client = await fleetAdminClient(info, "management");
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

function clusterPath(namespace: string, name: string): string {
  return `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/clusters/${name}`;
}

async function createCluster(namespace: string, name: string): Promise<void> {
  await admin((client) =>
    client.apply(clusterPath(namespace, name), {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "Cluster",
      metadata: { name, namespace, labels: { "cluster.x-k8s.io/cluster-name": name, environment: "e2e" } },
      spec: { controlPlaneEndpoint: { host: "127.0.0.1", port: 6443 } },
    }),
  );
  cleanup.push(clusterPath(namespace, name));
}

async function putSecret(namespace: string, name: string, data: Record<string, string>, label?: string) {
  const path = `/api/v1/namespaces/${namespace}/secrets/${name}`;
  await admin((client) =>
    client.apply(path, {
      apiVersion: "v1",
      kind: "Secret",
      type: "cluster.x-k8s.io/secret",
      metadata: { name, namespace, ...(label ? { labels: { "cluster.x-k8s.io/cluster-name": label } } : {}) },
      data,
    }),
  );
  if (!cleanup.includes(path)) cleanup.push(path);
}

async function eventually(check: () => boolean, what: string, timeoutMilliseconds = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function base64(text: string): string {
  return Buffer.from(text).toString("base64");
}

beforeAll(async () => {
  info = await fleetInfo();
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(info.management.gatewayKubeconfig);
  connection = createKubeConnection({ kubeConfig });
  // Counts what the directory asks the API server, to prove reads are served from memory.
  transport = {
    request: (request: KubeHttpRequest) => {
      calls.push({ path: request.path, accept: request.accept, watch: false });
      return connection.request(request);
    },
    stream: (request: KubeStreamRequest) => {
      calls.push({ path: request.path, accept: request.accept, watch: true });
      return connection.stream(request);
    },
  };
  await admin(async (client) => {
    for (const namespace of [readable, unreadable]) {
      await client.apply(`/api/v1/namespaces/${namespace}`, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace },
      });
    }
    const binding = `/apis/rbac.authorization.k8s.io/v1/namespaces/${readable}/rolebindings/capi-mcp-gateway-cluster-secrets`;
    await client.apply(binding, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "capi-mcp-gateway-cluster-secrets", namespace: readable },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "capi-mcp-gateway-cluster-secrets" },
      subjects: [{ kind: "ServiceAccount", ...gatewayServiceAccount }],
    });
    cleanup.push(binding);
  });
});

afterAll(async () => {
  await admin(async (client) => {
    for (const path of cleanup.reverse()) await client.request("DELETE", path);
    for (const namespace of [readable, unreadable]) {
      await client.request("DELETE", `/api/v1/namespaces/${namespace}`);
      // The fleet runs no namespace controller: finish the deletion it would have finished.
      await client.request("PUT", `/api/v1/namespaces/${namespace}/finalize`, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace },
        spec: { finalizers: [] },
      });
    }
  });
  await connection?.close();
});

describe("Cluster API discovery on the fleet", () => {
  let directory: CapiDirectory;
  const changes: CapiChange[] = [];
  const logs: CapiDirectoryLogEntry[] = [];

  beforeAll(async () => {
    directory = createCapiDirectory({
      connection: transport,
      onLog: (entry) => logs.push(entry),
      watch: { backoff: { initialMilliseconds: 100, maximumMilliseconds: 1000 } },
    });
    directory.onChange((change) => changes.push(change));
    await directory.ready;
  });

  afterAll(async () => {
    await directory?.close();
  });

  it("sees the three fleet clusters in v1beta2, two of them named prod, with their endpoints", () => {
    const fleetClusters = directory
      .list()
      .filter((cluster) => ["org-acme", "org-globex"].includes(cluster.ref.namespace));
    expect(fleetClusters.map((cluster) => `${cluster.ref.namespace}/${cluster.ref.name}`)).toEqual([
      "org-acme/dev",
      "org-acme/prod",
      "org-globex/prod",
    ]);
    for (const cluster of fleetClusters) {
      expect(cluster.apiVersion).toBe("cluster.x-k8s.io/v1beta2");
      const server = new URL(
        clusterInfo(info, `${cluster.ref.namespace}/${cluster.ref.name}` as "org-acme/dev").server,
      );
      expect(cluster.endpoint).toEqual({ host: server.hostname, port: Number(server.port) });
      expect(cluster.object.metadata?.managedFields).toBeUndefined();
    }
    const acme = directory.get({ namespace: "org-acme", name: "prod" });
    const globex = directory.get({ namespace: "org-globex", name: "prod" });
    expect(acme?.uid).toBeTruthy();
    expect(globex?.uid).toBeTruthy();
    expect(acme?.uid).not.toBe(globex?.uid);
    expect(acme?.endpoint).not.toEqual(globex?.endpoint);
    expect(calls.some((call) => call.path === "/apis/cluster.x-k8s.io/v1beta2/clusters" && call.watch)).toBe(true);
  });

  it("runs as the gateway's service account, which may not read secrets cluster-wide", async () => {
    const refused = await connection
      .request({ method: "GET", path: "/api/v1/secrets" })
      .then(() => undefined)
      .catch((error: unknown) => (error as { status?: number }).status);
    expect(refused).toBe(403);
    const secretCalls = calls.filter((call) => call.path.endsWith("/secrets"));
    // Per namespace that holds clusters, never cluster-wide.
    const paths = new Set(secretCalls.map((call) => call.path));
    expect(paths).toContain("/api/v1/namespaces/org-acme/secrets");
    expect(paths).toContain("/api/v1/namespaces/org-globex/secrets");
    for (const path of paths) expect(path).toMatch(/^\/api\/v1\/namespaces\/[^/]+\/secrets$/);
    // Metadata only: no secret's data ever reaches the gateway through the directory.
    for (const call of secretCalls) expect(call.accept).toMatch(/as=PartialObjectMetadata/);
  });

  it("reports a Cluster created while it runs, and one deleted, without listing again", async () => {
    const name = `added-${runId}`;
    const listsBefore = calls.filter((call) => !call.watch).length;
    await createCluster(unreadable, name);
    await eventually(() => directory.get({ namespace: unreadable, name }) !== undefined, "the new cluster");
    const added = changes.find((change) => change.type === "added" && change.cluster.ref.name === name);
    expect(added?.type === "added" && added.cluster.apiVersion).toBe("cluster.x-k8s.io/v1beta2");
    expect(directory.list().some((cluster) => cluster.ref.namespace === unreadable && cluster.ref.name === name)).toBe(
      true,
    );
    // A namespace whose secrets the gateway may not read: the cluster is still discovered, and
    // the refusal is logged for operators.
    await eventually(
      () => logs.some((entry) => entry.level === "warn" && entry.namespace === unreadable),
      "the warning about unreadable secrets",
    );

    for (let call = 0; call < 200; call += 1) {
      directory.list();
      directory.get({ namespace: "org-acme", name: "prod" });
    }
    // Only the secret informer of the new namespace listed; no cluster was listed again.
    const listsSince = calls.filter((call) => !call.watch).slice(listsBefore);
    expect(listsSince.every((call) => call.path === `/api/v1/namespaces/${unreadable}/secrets`)).toBe(true);

    await admin((client) => client.expectOk("DELETE", clusterPath(unreadable, name)));
    await eventually(() => directory.get({ namespace: unreadable, name }) === undefined, "the deletion");
    expect(changes.some((change) => change.type === "deleted" && change.cluster.ref.name === name)).toBe(true);
  });

  it("reports a rotated kubeconfig secret as credentials-changed, and an unrelated secret not at all", async () => {
    const name = `rotated-${runId}`;
    await putSecret(readable, `${name}-kubeconfig`, { value: base64("first kubeconfig") }, name);
    await putSecret(readable, "unrelated", { token: base64("not a cluster credential") });
    await createCluster(readable, name);
    await eventually(() => directory.get({ namespace: readable, name }) !== undefined, "the cluster");
    // The namespace's secret watch is open once its list is done: changes from here are seen.
    await eventually(
      () => calls.some((call) => call.watch && call.path === `/api/v1/namespaces/${readable}/secrets`),
      "the secret watch",
    );

    await putSecret(readable, "unrelated", { token: base64("changed, still unrelated") });
    await putSecret(readable, `${name}-kubeconfig`, { value: base64("rotated kubeconfig") }, name);
    await eventually(
      () => changes.some((change) => change.type === "credentials-changed" && change.namespace === readable),
      "credentials-changed",
    );
    const credentialChanges = changes.filter(
      (change) => change.type === "credentials-changed" && change.namespace === readable,
    );
    expect(credentialChanges).toEqual([
      { type: "credentials-changed", namespace: readable, name: `${name}-kubeconfig`, from: "secret" },
    ]);
    expect(JSON.stringify(logs)).not.toMatch(new RegExp(`${base64("rotated kubeconfig")}|rotated kubeconfig`));
  });
});

describe("the watch primitive on the real API server", () => {
  it("reopens a stream the server ends on its timeout, from the last version, and misses nothing", async () => {
    const errors: Error[] = [];
    const informer = createInformer(transport, {
      path: `/apis/cluster.x-k8s.io/v1beta2/namespaces/${unreadable}/clusters`,
      timeoutSeconds: 1,
      onError: (error) => errors.push(error),
    });
    try {
      await informer.synced;
      const path = `/apis/cluster.x-k8s.io/v1beta2/namespaces/${unreadable}/clusters`;
      const opened = () => calls.filter((call) => call.watch && call.path === path).length;
      await eventually(() => opened() >= 3, "three watch streams");
      const name = `timeouts-${runId}`;
      await createCluster(unreadable, name);
      await eventually(() => informer.get(`${unreadable}/${name}`) !== undefined, "the cluster in the informer");
      expect(errors).toEqual([]);
      // Only the one list: every reopening resumed from a resource version.
      expect(calls.filter((call) => !call.watch && call.path === path)).toHaveLength(1);
    } finally {
      await informer.stop();
    }
  });

  it("reports a watch from a version the API server no longer remembers as expired (410)", async () => {
    const stop = new AbortController();
    const outcome = await watchList(connection, {
      path: "/apis/cluster.x-k8s.io/v1beta2/clusters",
      resourceVersion: "1",
      timeoutSeconds: 10,
      signal: stop.signal,
      onEvent: () => undefined,
      backoff: { initialMilliseconds: 100, maximumMilliseconds: 500 },
    }).catch((error: unknown) => error);
    stop.abort();
    expect(outcome).toBeInstanceOf(WatchExpiredError);
  });
});
