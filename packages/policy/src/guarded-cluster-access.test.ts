import type { ClusterAccess, KubeObject } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import type { GuardSettings } from "./guard-settings.js";
import { guardClusterAccess } from "./guarded-cluster-access.js";
import { lastAppliedConfigurationAnnotation } from "./secret-redaction.js";
import {
  createInMemoryClusterAccess,
  type InMemoryClusterAccess,
  testResources,
} from "./testing/in-memory-cluster-access.js";
import { testPaging } from "./testing/test-paging.js";

const defaults: GuardSettings = {
  nonDestructive: true,
  dryRun: false,
  allowOperations: [],
  deniedNamespaces: [],
  allowSecretValues: false,
};

const { pods, secrets, configMaps, deployments, namespaces, nodes, bundles } = testResources;

function secret(name: string, namespace: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      annotations: {
        [lastAppliedConfigurationAnnotation]: `{"data":{"password":"aHVudGVyMg=="},"kind":"Secret"}`,
        team: "web",
      },
    },
    type: "Opaque",
    data: { password: "aHVudGVyMg==", user: "YWRtaW4=" },
  };
}

function pod(name: string, namespace: string): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace }, spec: { containers: [] } };
}

function setUp(settings: Partial<GuardSettings> = {}): { upstream: InMemoryClusterAccess; guarded: ClusterAccess } {
  const upstream = createInMemoryClusterAccess();
  for (const namespace of ["default", "web", "kube-system", "team-a", "team-b"]) {
    upstream.seed(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  }
  upstream.seed(pods, pod("api-0", "web"));
  upstream.seed(pods, pod("api-1", "web"));
  upstream.seed(pods, pod("etcd-0", "kube-system"));
  upstream.seed(pods, pod("worker-0", "team-a"));
  upstream.seed(pods, pod("worker-1", "team-a"));
  upstream.seed(pods, pod("worker-2", "team-a"));
  upstream.seed(pods, pod("batch-0", "team-b"));
  upstream.seed(secrets, secret("database", "web"));
  upstream.seed(secrets, secret("bootstrap", "kube-system"));
  upstream.seed(deployments, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "api", namespace: "web" },
    spec: { replicas: 2 },
  });
  upstream.seed(nodes, { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" } });
  return { upstream, guarded: guardClusterAccess(upstream, { ...defaults, ...settings }, testPaging) };
}

function dryRunOf(upstream: InMemoryClusterAccess, method: string): unknown {
  const call = upstream.calls.find((recorded) => recorded.method === method);
  const options = call?.args.at(-1) as { dryRun?: unknown } | undefined;
  return options?.dryRun;
}

describe("dry-run mode on the guarded access", () => {
  const mutations = {
    create: (access: ClusterAccess) =>
      access.create(configMaps, { kind: "ConfigMap", metadata: { name: "new" } }, { dryRun: false, namespace: "web" }),
    apply: (access: ClusterAccess) =>
      access.apply(configMaps, { kind: "ConfigMap", metadata: { name: "new" } }, { dryRun: false, namespace: "web" }),
    patch: (access: ClusterAccess) =>
      access.patch(deployments, "api", "web", { spec: { replicas: 5 } }, "merge", { dryRun: false }),
    scale: (access: ClusterAccess) => access.scale(deployments, "api", "web", 5, { dryRun: false }),
    delete: (access: ClusterAccess) => access.delete(deployments, "api", "web", { dryRun: false }),
  } as const;

  it.each(Object.keys(mutations) as (keyof typeof mutations)[])(
    "turns dryRun false into true on %s",
    async (method) => {
      const { upstream, guarded } = setUp({ dryRun: true });
      await mutations[method](guarded);
      expect(dryRunOf(upstream, method)).toBe(true);
    },
  );

  it("leaves the stored objects unchanged after a dry-run delete", async () => {
    const { upstream, guarded } = setUp({ dryRun: true });
    await guarded.delete(deployments, "api", "web", { dryRun: false });
    expect(upstream.stored(deployments, "api", "web")).toBeDefined();
  });

  it("passes a mutation live, as the tool asked, when the operation is allowed outside dry-run mode", async () => {
    const { upstream, guarded } = setUp({ allowOperations: ["delete"] });
    await guarded.delete(deployments, "api", "web", { dryRun: false });
    expect(dryRunOf(upstream, "delete")).toBe(false);
    expect(upstream.stored(deployments, "api", "web")).toBeUndefined();
  });

  it("refuses exec and port-forward in dry-run mode before they reach the cluster", async () => {
    const { upstream, guarded } = setUp({ dryRun: true, nonDestructive: false, allowOperations: ["exec"] });
    await expect(
      guarded.exec({
        namespace: "web",
        pod: "api-0",
        command: ["cat", "/etc/hostname"],
        timeoutMilliseconds: 1000,
        maxOutputBytes: 1000,
      }),
    ).rejects.toMatchObject({ code: "denied_by_policy", message: expect.stringContaining("dry-run mode") });
    await expect(guarded.portForward({ namespace: "web", pod: "api-0", port: 8080 })).rejects.toMatchObject({
      code: "denied_by_policy",
    });
    expect(upstream.calls).toEqual([]);
  });
});

describe("operation rules on the guarded access", () => {
  it("refuses a mutation method in non-destructive mode even if a tool calls it directly", async () => {
    const { upstream, guarded } = setUp();
    await expect(guarded.scale(deployments, "api", "web", 0, { dryRun: false })).rejects.toMatchObject({
      code: "denied_by_policy",
      message: expect.stringContaining("--allow-operations scale"),
    });
    expect(upstream.calls).toEqual([]);
  });

  it("lets exec through when non-destructive mode allows it", async () => {
    const { upstream, guarded } = setUp({ allowOperations: ["exec"] });
    const result = await guarded.exec({
      namespace: "web",
      pod: "api-0",
      command: ["true"],
      timeoutMilliseconds: 1000,
      maxOutputBytes: 1000,
    });
    expect(result.exitCode).toBe(0);
    expect(upstream.calls.map((call) => call.method)).toEqual(["exec"]);
  });

  it("lets reads through in every mode", async () => {
    const { guarded } = setUp({ dryRun: true });
    expect((await guarded.get(pods, "api-0", "web")).metadata?.name).toBe("api-0");
    expect((await guarded.logs({ namespace: "web", pod: "api-0", limitBytes: 100 })).text).toBe("logs of api-0");
  });
});

describe("secret values on the guarded access", () => {
  it("replaces every data value of a Secret it gets with a size marker and keeps the keys", async () => {
    const { guarded } = setUp();
    const object = await guarded.get(secrets, "database", "web");
    expect(object.data).toEqual({ password: "<redacted: 7 bytes>", user: "<redacted: 5 bytes>" });
    expect(object.type).toBe("Opaque");
    expect(JSON.stringify(object)).not.toContain("aHVudGVyMg==");
  });

  it("removes the last-applied annotation and keeps the other annotations", async () => {
    const { guarded } = setUp();
    const object = await guarded.get(secrets, "database", "web");
    expect(object.metadata?.annotations).toEqual({ team: "web" });
  });

  it("redacts every item of a secret list, whose items carry no kind of their own", async () => {
    const { guarded } = setUp({ deniedNamespaces: [] });
    const list = await guarded.list(secrets, {});
    expect(list.items).toHaveLength(2);
    for (const item of list.items) {
      expect(item.kind).toBeUndefined();
      expect(item.data).toEqual({ password: "<redacted: 7 bytes>", user: "<redacted: 5 bytes>" });
    }
    expect(JSON.stringify(list)).not.toContain("aHVudGVyMg==");
  });

  it("redacts a Secret inside a List of mixed kinds", async () => {
    const { upstream, guarded } = setUp();
    upstream.seed(bundles, {
      apiVersion: "v1",
      kind: "List",
      metadata: { name: "everything", namespace: "web" },
      items: [pod("api-0", "web"), secret("database", "web"), { kind: "ConfigMap", data: { plain: "visible" } }],
    });
    const object = await guarded.get(bundles, "everything", "web");
    const items = object.items as KubeObject[];
    expect(items[1]?.data).toEqual({ password: "<redacted: 7 bytes>", user: "<redacted: 5 bytes>" });
    expect(items[2]?.data).toEqual({ plain: "visible" });
    expect(JSON.stringify(object)).not.toContain("aHVudGVyMg==");
  });

  it("redacts the Secret a create, apply, patch or delete returns", async () => {
    const { guarded } = setUp({ nonDestructive: false });
    const created = await guarded.create(
      secrets,
      { apiVersion: "v1", kind: "Secret", metadata: { name: "new" }, stringData: { token: "s3cr3t" } },
      { dryRun: false, namespace: "web" },
    );
    expect(created.stringData).toEqual({ token: "<redacted: 6 bytes>" });
    const applied = await guarded.apply(secrets, secret("applied", "web"), { dryRun: false, namespace: "web" });
    expect(applied.data).toEqual({ password: "<redacted: 7 bytes>", user: "<redacted: 5 bytes>" });
    const patched = await guarded.patch(secrets, "database", "web", { data: { extra: "eA==" } }, "merge", {
      dryRun: false,
    });
    expect(patched.data).toEqual({ extra: "<redacted: 1 bytes>" });
    const deleted = await guarded.delete(secrets, "applied", "web", { dryRun: false });
    expect(deleted.data).toEqual({ password: "<redacted: 7 bytes>", user: "<redacted: 5 bytes>" });
  });

  it("keeps secret values when allowSecretValues is set, still without the last-applied annotation", async () => {
    const { guarded } = setUp({ allowSecretValues: true });
    const object = await guarded.get(secrets, "database", "web");
    expect(object.data).toEqual({ password: "aHVudGVyMg==", user: "YWRtaW4=" });
    expect(object.metadata?.annotations).toEqual({ team: "web" });
  });

  it("removes the last-applied annotation from objects of every kind", async () => {
    const { upstream, guarded } = setUp();
    upstream.seed(configMaps, {
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "web", annotations: { [lastAppliedConfigurationAnnotation]: "{}" } },
      data: { mode: "fast" },
    });
    const object = await guarded.get(configMaps, "settings", "web");
    expect(object.metadata?.annotations).toEqual({});
    expect(object.data).toEqual({ mode: "fast" });
  });

  it("does not modify the objects the underlying access returned", async () => {
    const { upstream, guarded } = setUp();
    await guarded.get(secrets, "database", "web");
    expect(upstream.stored(secrets, "database", "web")?.data).toEqual({ password: "aHVudGVyMg==", user: "YWRtaW4=" });
  });
});

describe("namespace rules on the guarded access", () => {
  it("refuses a get in a denied namespace, naming the namespace and the rule", async () => {
    const { upstream, guarded } = setUp({ deniedNamespaces: ["kube-system"] });
    await expect(guarded.get(pods, "etcd-0", "kube-system")).rejects.toMatchObject({
      code: "denied_by_policy",
      message: 'Access denied: the namespace "kube-system" is closed by the gateway\'s --denied-namespaces rule.',
    });
    expect(upstream.calls).toEqual([]);
  });

  it("refuses a namespace outside the allow list, naming the namespaces that are open", async () => {
    const { guarded } = setUp({ allowedNamespaces: ["web", "team-a"] });
    await expect(guarded.list(pods, { namespace: "team-b" })).rejects.toMatchObject({
      code: "denied_by_policy",
      message:
        'Access denied: the namespace "team-b" is not in the gateway\'s --allowed-namespaces list (web, team-a).',
    });
  });

  it("lets the deny list win over the allow list", async () => {
    const { guarded } = setUp({ allowedNamespaces: ["web", "kube-system"], deniedNamespaces: ["kube-system"] });
    await expect(guarded.get(pods, "etcd-0", "kube-system")).rejects.toMatchObject({ code: "denied_by_policy" });
    expect((await guarded.get(pods, "api-0", "web")).metadata?.name).toBe("api-0");
  });

  it("checks every namespaced method: create, apply, patch, delete, scale, logs, exec, port-forward", async () => {
    const { upstream, guarded } = setUp({ nonDestructive: false, deniedNamespaces: ["kube-system"] });
    const object = { kind: "ConfigMap", metadata: { name: "x" } };
    const attempts: Promise<unknown>[] = [
      guarded.create(configMaps, object, { dryRun: false, namespace: "kube-system" }),
      guarded.create(configMaps, { ...object, metadata: { name: "x", namespace: "kube-system" } }, { dryRun: false }),
      guarded.apply(configMaps, object, { dryRun: false, namespace: "kube-system" }),
      guarded.patch(pods, "etcd-0", "kube-system", {}, "merge", { dryRun: false }),
      guarded.delete(pods, "etcd-0", "kube-system", { dryRun: false }),
      guarded.scale(deployments, "coredns", "kube-system", 0, { dryRun: false }),
      guarded.logs({ namespace: "kube-system", pod: "etcd-0", limitBytes: 10 }),
      guarded.exec({
        namespace: "kube-system",
        pod: "etcd-0",
        command: ["sh"],
        timeoutMilliseconds: 10,
        maxOutputBytes: 10,
      }),
      guarded.portForward({ namespace: "kube-system", pod: "etcd-0", port: 2379 }),
      guarded.canI({ verb: "get", group: "", resource: "secrets", namespace: "kube-system" }),
    ];
    for (const attempt of attempts) await expect(attempt).rejects.toMatchObject({ code: "denied_by_policy" });
    expect(upstream.calls).toEqual([]);
  });

  it("refuses a create whose object names a denied namespace even when the request names an open one", async () => {
    const { upstream, guarded } = setUp({ nonDestructive: false, deniedNamespaces: ["kube-system"] });
    await expect(
      guarded.create(
        configMaps,
        { kind: "ConfigMap", metadata: { name: "x", namespace: "kube-system" } },
        { dryRun: false, namespace: "web" },
      ),
    ).rejects.toMatchObject({ code: "denied_by_policy" });
    expect(upstream.calls).toEqual([]);
  });

  it("refuses a namespaced mutation that names no namespace while rules are active", async () => {
    const { upstream, guarded } = setUp({ nonDestructive: false, allowedNamespaces: ["web"] });
    await expect(
      guarded.create(configMaps, { kind: "ConfigMap", metadata: { name: "x" } }, { dryRun: false }),
    ).rejects.toMatchObject({ code: "denied_by_policy", message: expect.stringContaining("Name the namespace") });
    expect(upstream.calls).toEqual([]);
  });

  it("refuses an object a get without a namespace found in a denied namespace", async () => {
    const { guarded } = setUp({ deniedNamespaces: ["default"] });
    // The double resolves a missing namespace to "default", as a client's default would.
    const { upstream } = setUp();
    upstream.seed(pods, pod("stray", "default"));
    const guardedWithStray = guardClusterAccess(upstream, { ...defaults, deniedNamespaces: ["default"] }, testPaging);
    await expect(guardedWithStray.get(pods, "stray")).rejects.toMatchObject({ code: "denied_by_policy" });
    await expect(guarded.get(pods, "api-0", "web")).resolves.toBeDefined();
  });

  it("refuses an access question about a closed Namespace object and passes one about an open namespace", async () => {
    const { upstream, guarded } = setUp({ allowedNamespaces: ["web"] });
    await expect(
      guarded.canI({ verb: "delete", group: "", resource: "namespaces", name: "kube-system" }),
    ).rejects.toMatchObject({ code: "denied_by_policy" });
    expect(await guarded.canI({ verb: "list", group: "", resource: "pods", namespace: "web" })).toEqual({
      allowed: true,
    });
    expect(upstream.calls.map((call) => call.method)).toEqual(["canI"]);
  });

  it("lists in an open namespace without a note when nothing was hidden", async () => {
    const { guarded } = setUp({ allowedNamespaces: ["web"] });
    const list = await guarded.list(pods, { namespace: "web" });
    expect(list.items.map((item) => item.metadata?.name)).toEqual(["api-0", "api-1"]);
    expect(list.policyNote).toBeUndefined();
  });

  it("does not filter cluster-scoped resources", async () => {
    const { guarded } = setUp({ allowedNamespaces: ["web"] });
    const list = await guarded.list(nodes, {});
    expect(list.items.map((item) => item.metadata?.name)).toEqual(["node-1"]);
    expect(list.policyNote).toBeUndefined();
    expect((await guarded.get(nodes, "node-1")).metadata?.name).toBe("node-1");
  });

  it("filters Namespace objects by name and says how many it hid", async () => {
    const { guarded } = setUp({ deniedNamespaces: ["kube-system", "team-b"] });
    const list = await guarded.list(namespaces, {});
    expect(list.items.map((item) => item.metadata?.name)).toEqual(["default", "team-a", "web"]);
    expect(list.policyNote).toContain("2 namespaces hidden");
    await expect(guarded.get(namespaces, "kube-system")).rejects.toMatchObject({ code: "denied_by_policy" });
  });

  it("shows only allowed Namespace objects under an allow list", async () => {
    const { guarded } = setUp({ allowedNamespaces: ["web"] });
    const list = await guarded.list(namespaces, {});
    expect(list.items.map((item) => item.metadata?.name)).toEqual(["web"]);
    expect(list.policyNote).toContain("4 namespaces hidden");
  });

  it("filters a list across all namespaces under a deny list and says how many items it hid", async () => {
    const { upstream, guarded } = setUp({ deniedNamespaces: ["kube-system"] });
    const list = await guarded.list(pods, {});
    expect(upstream.calls).toHaveLength(1);
    expect(list.items.map((item) => item.metadata?.name)).toEqual([
      "worker-0",
      "worker-1",
      "worker-2",
      "batch-0",
      "api-0",
      "api-1",
    ]);
    expect(list.policyNote).toBe(
      "Items in namespaces closed by the gateway's --denied-namespaces rule (kube-system) are left out: " +
        "1 item hidden from this page.",
    );
  });

  it("hands out the server's continue token only sealed, and drops its remaining-item estimate when filtering a page", async () => {
    const { upstream, guarded } = setUp({ deniedNamespaces: ["kube-system"] });
    const list = await guarded.list(pods, { limit: 2 });
    expect(list.items.map((item) => item.metadata?.name)).toEqual(["worker-0"]);
    expect(list.metadata?.continue).toMatch(/^capi-mcp-continue\.v1\./);
    expect(list.metadata?.continue).not.toContain("offset");
    await guarded.list(pods, { limit: 2, continue: list.metadata?.continue ?? "" });
    expect(upstream.calls.at(-1)?.args[1]).toEqual({ limit: 2, continue: "offset-2" });
    expect(list.metadata?.resourceVersion).toBe("42");
    expect(list.metadata?.remainingItemCount).toBeUndefined();
    expect(list.policyNote).toContain("1 item hidden from this page");
  });

  it("merges one listing per allowed namespace for a list across all namespaces and says so", async () => {
    const { upstream, guarded } = setUp({ allowedNamespaces: ["web", "team-b"] });
    const list = await guarded.list(pods, { labelSelector: "app=x" });
    expect(list.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`)).toEqual([
      "web/api-0",
      "web/api-1",
      "team-b/batch-0",
    ]);
    expect(upstream.calls.map((call) => call.args[1])).toEqual([
      { labelSelector: "app=x", namespace: "web" },
      { labelSelector: "app=x", namespace: "team-b" },
    ]);
    expect(list.kind).toBe("PodList");
    expect(list.metadata?.continue).toBeUndefined();
    expect(list.policyNote).toBe(
      "Listed only the namespaces the gateway's namespace rules open (web, team-b), each queried separately and merged.",
    );
  });

  it("pages through a merged listing with limit and continue, item by item without loss or repeat", async () => {
    const { guarded } = setUp({
      allowedNamespaces: ["web", "team-a", "team-b", "kube-system"],
      deniedNamespaces: ["kube-system"],
    });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await guarded.list(pods, { limit: 2, ...(token === undefined ? {} : { continue: token }) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`));
      token = page.metadata?.continue;
      pages++;
    } while (token !== undefined && pages < 10);
    expect(seen).toEqual([
      "web/api-0",
      "web/api-1",
      "team-a/worker-0",
      "team-a/worker-1",
      "team-a/worker-2",
      "team-b/batch-0",
    ]);
  });

  it("refuses a continue token it did not write, or one that names a closed namespace", async () => {
    const { guarded } = setUp({ allowedNamespaces: ["web"] });
    await expect(guarded.list(pods, { continue: "offset-1" })).rejects.toMatchObject({ code: "invalid_input" });
    const crafted = `capi-mcp-namespaces.${Buffer.from(JSON.stringify({ namespace: "kube-system" })).toString("base64url")}`;
    await expect(guarded.list(pods, { continue: crafted })).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("redacts secrets listed across merged namespaces", async () => {
    const { guarded } = setUp({ allowedNamespaces: ["web"] });
    const list = await guarded.list(secrets, {});
    expect(list.items.map((item) => item.data)).toEqual([
      { password: "<redacted: 7 bytes>", user: "<redacted: 5 bytes>" },
    ]);
  });

  it("answers an empty list with a note when the allow list opens no namespace", async () => {
    const { upstream, guarded } = setUp({ allowedNamespaces: [] });
    const list = await guarded.list(pods, {});
    expect(list.items).toEqual([]);
    expect(list.policyNote).toContain("(none)");
    expect(upstream.calls).toEqual([]);
  });

  it("does nothing to namespaces when no rule is configured", async () => {
    const { upstream, guarded } = setUp();
    const list = await guarded.list(pods, {});
    expect(list.items).toHaveLength(7);
    expect(list.policyNote).toBeUndefined();
    expect(upstream.calls).toHaveLength(1);
  });
});
