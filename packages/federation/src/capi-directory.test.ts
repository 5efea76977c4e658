import { GatewayError } from "@capi-mcp/core";
import { afterEach, describe, expect, it } from "vitest";
import type { CapiChange, CapiDirectory } from "./capi-contracts.js";
import { type CapiDirectoryLogEntry, type CapiDirectoryOptions, createCapiDirectory } from "./capi-directory.js";
import { cluster, createFakeManagementApi, eventually, secret } from "./testing/fake-management-api.js";

const fast = { timeoutSeconds: 60, backoff: { initialMilliseconds: 1, maximumMilliseconds: 4 } };
const open: CapiDirectory[] = [];

function directory(options: CapiDirectoryOptions): CapiDirectory {
  const created = createCapiDirectory({ watch: fast, ...options });
  open.push(created);
  return created;
}

afterEach(async () => {
  for (const created of open.splice(0)) await created.close();
});

function describeChange(change: CapiChange): string {
  return change.type === "credentials-changed"
    ? `credentials-changed ${change.namespace}/${change.name}`
    : `${change.type} ${change.cluster.ref.namespace}/${change.cluster.ref.name}`;
}

function seeded() {
  const api = createFakeManagementApi();
  api.put("clusters", cluster("org-globex", "prod"));
  api.put("clusters", cluster("org-acme", "prod"));
  api.put("clusters", cluster("org-acme", "dev"));
  return api;
}

describe("the Cluster API directory", () => {
  it("watches v1beta2 when served, and lists clusters in namespace/name order with their endpoint", async () => {
    const api = seeded();
    const clusters = directory({ connection: api });
    await clusters.ready;
    expect(clusters.list().map((item) => `${item.ref.namespace}/${item.ref.name}`)).toEqual([
      "org-acme/dev",
      "org-acme/prod",
      "org-globex/prod",
    ]);
    const prod = clusters.get({ namespace: "org-globex", name: "prod" });
    expect(prod?.apiVersion).toBe("cluster.x-k8s.io/v1beta2");
    expect(prod?.endpoint).toEqual({ host: "prod.org-globex.example", port: 6443 });
    expect(prod?.labels).toEqual({ "cluster.x-k8s.io/cluster-name": "prod" });
    expect(prod?.uid).toMatch(/^uid-/);
    expect(clusters.get({ namespace: "org-acme", name: "prod" })?.uid).not.toBe(prod?.uid);
    expect(api.requests.filter((request) => request.path.includes("/clusters")).map((request) => request.path)).toEqual(
      ["/apis/cluster.x-k8s.io/v1beta2/clusters", "/apis/cluster.x-k8s.io/v1beta2/clusters"],
    );
  });

  it("falls back to v1beta1 when that is all the API server serves", async () => {
    const api = seeded();
    api.servedVersions = ["v1beta1"];
    const clusters = directory({ connection: api });
    await clusters.ready;
    expect(clusters.list()[0]?.apiVersion).toBe("cluster.x-k8s.io/v1beta1");
    expect(api.requests.some((request) => request.path === "/apis/cluster.x-k8s.io/v1beta1/clusters")).toBe(true);
  });

  it("refuses to start, saying why, when Cluster API is not served or only in versions it does not know", async () => {
    const missing = createFakeManagementApi();
    missing.servedVersions = [];
    const error = await directory({ connection: missing }).ready.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toMatch(/does not serve the cluster\.x-k8s\.io API group/);

    const old = createFakeManagementApi();
    old.servedVersions = ["v1alpha3"];
    await expect(directory({ connection: old }).ready).rejects.toThrow(
      /only in v1alpha3; capi-mcp needs v1beta2 or v1beta1/,
    );
  });

  it("watches each configured namespace with its own informer, and the label selector", async () => {
    const api = seeded();
    api.put(
      "clusters",
      cluster("org-acme", "edge", { metadata: { name: "edge", namespace: "org-acme", labels: { tier: "edge" } } }),
    );
    api.put(
      "clusters",
      cluster("org-initech", "prod", {
        metadata: { name: "prod", namespace: "org-initech", labels: { tier: "edge" } },
      }),
    );
    const clusters = directory({ connection: api, namespaces: ["org-acme", "org-globex"], labelSelector: "tier=edge" });
    await clusters.ready;
    expect(clusters.list().map((item) => `${item.ref.namespace}/${item.ref.name}`)).toEqual(["org-acme/edge"]);
    const clusterPaths = api.requests.filter((request) => request.path.endsWith("/clusters") && !request.watch);
    expect(clusterPaths.map((request) => request.path).sort()).toEqual([
      "/apis/cluster.x-k8s.io/v1beta2/namespaces/org-acme/clusters",
      "/apis/cluster.x-k8s.io/v1beta2/namespaces/org-globex/clusters",
    ]);
  });

  it("reports clusters added, modified and deleted while it runs, without listing again", async () => {
    const api = seeded();
    const clusters = directory({ connection: api });
    await clusters.ready;
    const changes: string[] = [];
    clusters.onChange((change) => changes.push(describeChange(change)));
    const listsBefore = api.requests.filter((request) => !request.watch).length;
    api.put("clusters", cluster("org-acme", "staging"));
    api.put("clusters", cluster("org-acme", "staging", { status: { phase: "Provisioned" } }));
    api.remove("clusters", "org-acme", "staging");
    await eventually(() => changes.length === 3);
    expect(changes).toEqual(["added org-acme/staging", "modified org-acme/staging", "deleted org-acme/staging"]);
    for (let call = 0; call < 50; call += 1) clusters.list();
    expect(api.requests.filter((request) => !request.watch).length).toBe(listsBefore);
  });

  it("reports a rotated or deleted kubeconfig or CA secret as credentials-changed, but not an unrelated secret", async () => {
    const api = seeded();
    api.put("secrets", secret("org-acme", "prod-kubeconfig", "prod"));
    api.put("secrets", secret("org-acme", "prod-ca"));
    api.put("secrets", secret("org-acme", "unrelated"));
    const clusters = directory({ connection: api });
    await clusters.ready;
    const changes: string[] = [];
    clusters.onChange((change) => changes.push(describeChange(change)));
    api.put("secrets", secret("org-acme", "unrelated", undefined, "bmV3"));
    api.put("secrets", secret("org-acme", "prod-kubeconfig", "prod", "cm90YXRlZA=="));
    api.put("secrets", secret("org-acme", "prod-ca", undefined, "cm90YXRlZA=="));
    api.remove("secrets", "org-acme", "prod-kubeconfig");
    await eventually(() => changes.length === 3);
    expect(changes).toEqual([
      "credentials-changed org-acme/prod-kubeconfig",
      "credentials-changed org-acme/prod-ca",
      "credentials-changed org-acme/prod-kubeconfig",
    ]);
  });

  it("honours a custom CA secret suffix and watches CA config maps only when told to", async () => {
    const api = seeded();
    api.put("secrets", secret("org-acme", "dev-root"));
    api.put("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "dev-ca-bundle", namespace: "org-acme" },
    });
    const clusters = directory({ connection: api, caSecretSuffix: "-root", caConfigMapSuffix: "-ca-bundle" });
    await clusters.ready;
    const changes: string[] = [];
    clusters.onChange((change) => changes.push(describeChange(change)));
    api.put("secrets", secret("org-acme", "dev-root", undefined, "bmV3"));
    api.remove("configmaps", "org-acme", "dev-ca-bundle");
    await eventually(() => changes.length === 2);
    expect(changes).toEqual(["credentials-changed org-acme/dev-root", "credentials-changed org-acme/dev-ca-bundle"]);

    const withoutMaps = createFakeManagementApi();
    withoutMaps.put("clusters", cluster("org-acme", "dev"));
    await directory({ connection: withoutMaps }).ready;
    expect(withoutMaps.requests.some((request) => request.path.endsWith("/configmaps"))).toBe(false);
  });

  it("with the CA ConfigMap as the credential (SSO passthrough), never lists or watches a Secret", async () => {
    const api = seeded();
    api.put("secrets", secret("org-acme", "dev-ca"));
    api.put("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "dev-ca-public", namespace: "org-acme" },
    });
    const clusters = directory({ connection: api, credentials: { from: "configmap", suffix: "-ca-public" } });
    await clusters.ready;
    const changes: CapiChange[] = [];
    clusters.onChange((change) => changes.push(change));
    api.put("secrets", secret("org-acme", "dev-ca", undefined, "bmV3"));
    api.remove("configmaps", "org-acme", "dev-ca-public");
    await eventually(() => changes.length === 1);
    expect(changes).toEqual([
      { type: "credentials-changed", namespace: "org-acme", name: "dev-ca-public", from: "configmap" },
    ]);
    expect(api.requests.filter((request) => request.path.includes("/secrets"))).toEqual([]);
    expect(api.requests.some((request) => request.path === "/api/v1/namespaces/org-acme/configmaps")).toBe(true);
  });

  it("with the kubeconfig secret as the credential (impersonation), watches secrets only", async () => {
    const api = seeded();
    const clusters = directory({ connection: api, credentials: { from: "secret", suffix: "-kubeconfig" } });
    await clusters.ready;
    expect(api.requests.some((request) => request.path.includes("/configmaps"))).toBe(false);
    expect(api.requests.some((request) => request.path === "/api/v1/namespaces/org-acme/secrets")).toBe(true);
  });

  it("asks for secrets as metadata only and keeps no secret data", async () => {
    const api = seeded();
    api.put("secrets", secret("org-acme", "dev-kubeconfig", "dev", "c3VwZXItc2VjcmV0"));
    const logs: CapiDirectoryLogEntry[] = [];
    const clusters = directory({ connection: api, onLog: (entry) => logs.push(entry) });
    await clusters.ready;
    api.put("secrets", secret("org-acme", "dev-kubeconfig", "dev", "cm90YXRlZC1zZWNyZXQ="));
    await eventually(() => logs.some((entry) => entry.message.includes("dev-kubeconfig")));
    const secretRequests = api.requests.filter((request) => request.path.endsWith("/secrets"));
    expect(secretRequests.length).toBeGreaterThan(0);
    for (const request of secretRequests) expect(request.accept).toMatch(/as=PartialObjectMetadata/);
    expect(JSON.stringify(logs)).not.toMatch(/c3VwZXItc2VjcmV0|cm90YXRlZC1zZWNyZXQ=/);
  });

  it("watches secrets only in namespaces that hold clusters, starting and stopping with them", async () => {
    const api = createFakeManagementApi();
    api.put("clusters", cluster("org-acme", "dev"));
    const clusters = directory({ connection: api });
    await clusters.ready;
    const secretPaths = () => [
      ...new Set(api.requests.filter((request) => request.path.endsWith("/secrets")).map((request) => request.path)),
    ];
    expect(secretPaths()).toEqual(["/api/v1/namespaces/org-acme/secrets"]);
    expect(api.openWatches).toBe(2);
    api.put("clusters", cluster("org-new", "one"));
    await eventually(() => api.openWatches === 3);
    expect(secretPaths()).toContain("/api/v1/namespaces/org-new/secrets");
    api.remove("clusters", "org-new", "one");
    await eventually(() => api.openWatches === 2);
  });

  it("becomes ready even where it may not read secrets, and says so in the log", async () => {
    const api = seeded();
    api.forbiddenSecretNamespaces.add("org-globex");
    const logs: CapiDirectoryLogEntry[] = [];
    const clusters = directory({ connection: api, onLog: (entry) => logs.push(entry) });
    await clusters.ready;
    expect(clusters.list()).toHaveLength(3);
    expect(logs.some((entry) => entry.level === "warn" && entry.namespace === "org-globex")).toBe(true);
  });

  it("catches up after its watches are dropped, as after an API server restart", async () => {
    const api = seeded();
    const clusters = directory({ connection: api });
    await clusters.ready;
    api.dropWatches();
    api.put("clusters", cluster("org-acme", "while-down"));
    await eventually(() => clusters.get({ namespace: "org-acme", name: "while-down" }) !== undefined);
  });

  it("stops every watch on close", async () => {
    const api = seeded();
    const clusters = createCapiDirectory({ connection: api, watch: fast });
    await clusters.ready;
    expect(api.openWatches).toBe(3);
    await clusters.close();
    expect(api.openWatches).toBe(0);
  });
});
