// packages/kube against real API servers: resource names resolved through discovery, reads with
// selectors and pagination, and every mutation with and without server-side dry run, checked
// with a direct read that does not go through the code under test.
import { randomBytes } from "node:crypto";
import type { ClusterAccess, KubeObject } from "@capi-mcp/core";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { createAccessFactory, failureOf, fleetInfo, kubeConfigFor } from "../fleet/test-context.ts";

let info: FleetInfo;
const clusters = createAccessFactory();
const accessTo = clusters.accessTo;
const run = randomBytes(4).toString("hex");
const prefix = `kube-e2e-${run}`;

let dev: ClusterAccess;
let management: ClusterAccess;
let directCore: k8s.CoreV1Api;
let directApps: k8s.AppsV1Api;

beforeAll(async () => {
  info = await fleetInfo();
  dev = await accessTo("org-acme/dev");
  management = await accessTo("management");
  const adminConfig = await kubeConfigFor(info, "org-acme/dev");
  directCore = adminConfig.makeApiClient(k8s.CoreV1Api);
  directApps = adminConfig.makeApiClient(k8s.AppsV1Api);
});

afterAll(async () => {
  const configMaps = await directCore.listNamespacedConfigMap({ namespace: "web", labelSelector: `kube-e2e=${run}` });
  for (const item of configMaps.items) {
    await directCore.deleteNamespacedConfigMap({ namespace: "web", name: item.metadata?.name ?? "" }).catch(() => {});
  }
  await directApps.deleteNamespacedDeployment({ namespace: "web", name: `${prefix}-scale` }).catch(() => {});
  await clusters.closeAll();
});

function configMap(name: string, data: Record<string, string> = { key: "value" }): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { "kube-e2e": run } }, data };
}

async function directConfigMap(name: string) {
  return directCore.readNamespacedConfigMap({ namespace: "web", name }).catch((error: { code?: number }) => {
    if (error.code === 404) return undefined;
    throw error;
  });
}

describe("resource names, resolved through the cluster's discovery", () => {
  it("resolves kinds, plurals, singulars, short names and resource.group on a workload cluster", async () => {
    const expectations: [string, string, string][] = [
      ["deploy", "apps/v1", "deployments"],
      ["Deployment", "apps/v1", "deployments"],
      ["deployments.apps", "apps/v1", "deployments"],
      ["po", "v1", "pods"],
      ["pod", "v1", "pods"],
      ["cm", "v1", "configmaps"],
      ["svc", "v1", "services"],
      ["ns", "v1", "namespaces"],
      ["events", "v1", "events"],
      ["rs", "apps/v1", "replicasets"],
    ];
    for (const [name, apiVersion, plural] of expectations) {
      const resource = await dev.resolve({ resource: name });
      expect(`${resource.group ? `${resource.group}/` : ""}${resource.version} ${resource.resource}`).toBe(
        `${apiVersion} ${plural}`,
      );
    }
    const deployments = await dev.resolve({ resource: "deploy" });
    expect(deployments.subresources).toEqual(expect.arrayContaining(["scale", "status"]));
    const pods = await dev.resolve({ resource: "po" });
    expect(pods.subresources).toEqual(expect.arrayContaining(["exec", "log", "portforward"]));
    expect((await dev.listApiResources()).some((resource) => resource.resource.includes("/"))).toBe(false);
  });

  it("resolves the Cluster API CRD on the management cluster in its preferred version, or a pinned one", async () => {
    for (const name of ["cl", "Cluster", "clusters", "clusters.cluster.x-k8s.io"]) {
      const resource = await management.resolve({ resource: name });
      expect([resource.group, resource.version, resource.resource, resource.namespaced]).toEqual([
        "cluster.x-k8s.io",
        "v1beta2",
        "clusters",
        true,
      ]);
    }
    const pinned = await management.resolve({ resource: "cl", apiVersion: "cluster.x-k8s.io/v1beta1" });
    expect(pinned.version).toBe("v1beta1");
    const cluster = await management.get(pinned, "dev", "org-acme");
    expect(cluster.apiVersion).toBe("cluster.x-k8s.io/v1beta1");
  });

  it("refuses an unknown resource type with invalid_input pointing to k8s_get_api_resources", async () => {
    const error = await failureOf(dev.resolve({ resource: "gizmos" }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("org-acme/dev");
    expect(error.message).toContain("k8s_get_api_resources");
    expect((await failureOf(dev.resolve({ resource: "deploy", apiVersion: "apps/v1beta1" }))).message).toContain(
      "apps/v1",
    );
  });

  it("finds a CRD installed after discovery was cached, by refreshing once on the miss", async () => {
    const group = `${run}.kube-e2e.example.com`;
    const crdName = `gadgets.${group}`;
    const admin = (await kubeConfigFor(info, "management")).makeApiClient(k8s.ApiextensionsV1Api);
    await management.listApiResources();
    await admin.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: "Namespaced",
          names: { kind: "Gadget", plural: "gadgets", singular: "gadget", shortNames: [`gd${run}`] },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    try {
      let resolved: string | undefined;
      for (let attempt = 0; attempt < 30 && resolved === undefined; attempt += 1) {
        // Discovery of a new CRD lags its creation slightly; a miss refreshes at most once a second.
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        resolved = await management.resolve({ resource: `gd${run}` }).then(
          (resource) => `${resource.group}/${resource.version}/${resource.resource}`,
          () => undefined,
        );
      }
      expect(resolved).toBe(`${group}/v1/gadgets`);
    } finally {
      await admin.deleteCustomResourceDefinition({ name: crdName });
    }
  });
});

describe("reads", () => {
  it("gets one object, and says clearly when it does not exist", async () => {
    const deployments = await dev.resolve({ resource: "deploy" });
    const frontend = await dev.get(deployments, "frontend", "web");
    expect(frontend.metadata?.name).toBe("frontend");
    const error = await failureOf(dev.get(deployments, "missing", "web"));
    expect(error.code).toBe("not_found");
    expect(error.message).toBe('deployments "missing" not found in namespace "web" on cluster org-acme/dev.');
  });

  it("refuses to get a namespaced object without a namespace", async () => {
    const pods = await dev.resolve({ resource: "pods" });
    expect((await failureOf(dev.get(pods, "frontend-5d8f7c9b6-k2x4p"))).code).toBe("invalid_input");
  });

  it("lists in one namespace or all, with label and field selectors", async () => {
    const pods = await dev.resolve({ resource: "pods" });
    expect((await dev.list(pods, { namespace: "web" })).items).toHaveLength(2);
    expect((await dev.list(pods, {})).items).toHaveLength(3);
    const byLabel = await dev.list(pods, { labelSelector: "app=ledger" });
    expect(byLabel.items.map((item) => item.metadata?.name)).toEqual(["ledger-7f6b5c4d3-w8n2r"]);
    const configMaps = await dev.resolve({ resource: "cm" });
    const byField = await dev.list(configMaps, { namespace: "web", fieldSelector: "metadata.name=frontend-config" });
    expect(byField.items.map((item) => item.metadata?.name)).toEqual(["frontend-config"]);
  });

  it("pages with limit and continue, visiting every object once", async () => {
    const configMaps = await dev.resolve({ resource: "cm" });
    for (const index of [1, 2, 3, 4, 5]) {
      await dev.create(configMaps, configMap(`${prefix}-page-${index}`), { dryRun: false, namespace: "web" });
    }
    const all = await dev.list(configMaps, { namespace: "web", labelSelector: `kube-e2e=${run}` });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await dev.list(configMaps, {
        namespace: "web",
        labelSelector: `kube-e2e=${run}`,
        limit: 2,
        ...(token ? { continue: token } : {}),
      });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.metadata?.name ?? ""));
      token = page.metadata?.continue || undefined;
      pages += 1;
    } while (token);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(all.items.map((item) => item.metadata?.name ?? "").sort());
    expect(new Set(seen).size).toBe(5);
  });
});

describe("mutations, with and without server-side dry run", () => {
  it("creates, and a dry-run create leaves nothing behind", async () => {
    const configMaps = await dev.resolve({ resource: "configmap" });
    const dryName = `${prefix}-dry-create`;
    const dry = await dev.create(configMaps, configMap(dryName), { dryRun: true, namespace: "web" });
    expect(dry.metadata?.name).toBe(dryName);
    expect(await directConfigMap(dryName)).toBeUndefined();

    const name = `${prefix}-create`;
    // The namespace may come from the object instead of the call.
    const created = await dev.create(
      configMaps,
      { ...configMap(name), metadata: { name, namespace: "web", labels: { "kube-e2e": run } } },
      { dryRun: false },
    );
    expect(created.metadata?.uid).toBeTruthy();
    expect((await directConfigMap(name))?.data).toEqual({ key: "value" });

    const again = await failureOf(dev.create(configMaps, configMap(name), { dryRun: false, namespace: "web" }));
    expect(again.code).toBe("conflict");
    expect(again.message).toContain("already exists");
  });

  it("refuses a namespaced create without any namespace, or with two that disagree", async () => {
    const configMaps = await dev.resolve({ resource: "cm" });
    expect((await failureOf(dev.create(configMaps, configMap(`${prefix}-nons`), { dryRun: true }))).code).toBe(
      "invalid_input",
    );
    const disagreeing = { ...configMap(`${prefix}-two`), metadata: { name: `${prefix}-two`, namespace: "payments" } };
    expect((await failureOf(dev.create(configMaps, disagreeing, { dryRun: true, namespace: "web" }))).code).toBe(
      "invalid_input",
    );
  });

  it("reports an Invalid object with its field causes", async () => {
    const configMaps = await dev.resolve({ resource: "cm" });
    const error = await failureOf(
      dev.create(configMaps, configMap("Not_A_Valid_Name"), { dryRun: true, namespace: "web" }),
    );
    expect(error.code).toBe("invalid_object");
    expect(error.causes.some((cause) => cause.field === "metadata.name")).toBe(true);
  });

  it("applies server-side as field manager capi-mcp; a dry-run apply changes nothing", async () => {
    const configMaps = await dev.resolve({ resource: "cm" });
    const name = `${prefix}-apply`;
    await dev.apply(configMaps, configMap(name, { mode: "first" }), { dryRun: false, namespace: "web" });
    const stored = await directConfigMap(name);
    expect(stored?.data).toEqual({ mode: "first" });
    expect(stored?.metadata?.managedFields?.map((field) => field.manager)).toContain("capi-mcp");
    expect(stored?.metadata?.managedFields?.find((field) => field.manager === "capi-mcp")?.operation).toBe("Apply");

    const dry = await dev.apply(configMaps, configMap(name, { mode: "second" }), { dryRun: true, namespace: "web" });
    expect(dry.data).toEqual({ mode: "second" });
    expect((await directConfigMap(name))?.data).toEqual({ mode: "first" });

    await dev.apply(configMaps, configMap(name, { mode: "second" }), { dryRun: false, namespace: "web" });
    expect((await directConfigMap(name))?.data).toEqual({ mode: "second" });
  });

  it("reports an apply conflict with another field manager, and force takes the field over", async () => {
    const configMaps = await dev.resolve({ resource: "cm" });
    const name = `${prefix}-owned`;
    await directCore.createNamespacedConfigMap({
      namespace: "web",
      fieldManager: "someone-else",
      body: { metadata: { name, labels: { "kube-e2e": run } }, data: { owner: "someone-else" } },
    });
    // A create's fields belong to its manager with operation Update; apply must force to take them.
    const conflict = await failureOf(
      dev.apply(configMaps, configMap(name, { owner: "capi-mcp" }), { dryRun: false, namespace: "web" }),
    );
    expect(conflict.code).toBe("conflict");
    expect(conflict.message).toContain("force");
    await dev.apply(configMaps, configMap(name, { owner: "capi-mcp" }), {
      dryRun: false,
      namespace: "web",
      force: true,
    });
    expect((await directConfigMap(name))?.data).toEqual({ owner: "capi-mcp" });
  });

  it("patches with merge, strategic merge and JSON patch; dry runs leave the object as it was", async () => {
    const configMaps = await dev.resolve({ resource: "cm" });
    const name = `${prefix}-patch`;
    await dev.create(configMaps, configMap(name, { a: "1" }), { dryRun: false, namespace: "web" });

    const cases: [Parameters<ClusterAccess["patch"]>[4], unknown, Record<string, string>][] = [
      ["merge", { data: { b: "2" } }, { a: "1", b: "2" }],
      ["strategic", { data: { c: "3" } }, { a: "1", b: "2", c: "3" }],
      ["json", [{ op: "remove", path: "/data/a" }], { b: "2", c: "3" }],
    ];
    for (const [type, patch, expected] of cases) {
      const before = (await directConfigMap(name))?.data;
      const dry = await dev.patch(configMaps, name, "web", patch, type, { dryRun: true });
      expect(dry.data).toEqual(expected);
      expect((await directConfigMap(name))?.data).toEqual(before);
      const applied = await dev.patch(configMaps, name, "web", patch, type, { dryRun: false });
      expect(applied.data).toEqual(expected);
      expect((await directConfigMap(name))?.data).toEqual(expected);
    }
  });

  it("refuses a strategic merge patch on a custom resource clearly, suggesting a merge patch", async () => {
    const clusters = await management.resolve({ resource: "clusters.cluster.x-k8s.io" });
    const error = await failureOf(
      management.patch(clusters, "dev", "org-acme", { metadata: { labels: { probe: "x" } } }, "strategic", {
        dryRun: true,
      }),
    );
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(/merge patch/);
    const merged = await management.patch(
      clusters,
      "dev",
      "org-acme",
      { metadata: { labels: { probe: "x" } } },
      "merge",
      {
        dryRun: true,
      },
    );
    expect(merged.metadata?.labels?.probe).toBe("x");
  });

  it("deletes, returning the deleted object; a dry-run delete leaves it in place", async () => {
    const configMaps = await dev.resolve({ resource: "cm" });
    const name = `${prefix}-delete`;
    const created = await dev.create(configMaps, configMap(name), { dryRun: false, namespace: "web" });
    const dry = await dev.delete(configMaps, name, "web", { dryRun: true });
    expect(dry.metadata?.name).toBe(name);
    expect(await directConfigMap(name)).toBeDefined();
    const deleted = await dev.delete(configMaps, name, "web", {
      dryRun: false,
      propagationPolicy: "Background",
      gracePeriodSeconds: 0,
    });
    expect(deleted.metadata?.name).toBe(name);
    expect(deleted.metadata?.uid).toBe(created.metadata?.uid);
    expect(await directConfigMap(name)).toBeUndefined();
    expect((await failureOf(dev.delete(configMaps, name, "web", { dryRun: false }))).code).toBe("not_found");
  });

  it("scales through the scale subresource; a dry-run scale leaves the replicas as they were", async () => {
    const deployments = await dev.resolve({ resource: "deploy" });
    const name = `${prefix}-scale`;
    await dev.create(
      deployments,
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, labels: { "kube-e2e": run } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: "app", image: "nginx:1.25" }] },
          },
        },
      },
      { dryRun: false, namespace: "web" },
    );
    const dry = await dev.scale(deployments, name, "web", 4, { dryRun: true });
    expect(dry.kind).toBe("Scale");
    expect((dry.spec as { replicas: number }).replicas).toBe(4);
    expect((await directApps.readNamespacedDeployment({ namespace: "web", name })).spec?.replicas).toBe(1);
    const scaled = await dev.scale(deployments, name, "web", 3, { dryRun: false });
    expect((scaled.spec as { replicas: number }).replicas).toBe(3);
    expect((await directApps.readNamespacedDeployment({ namespace: "web", name })).spec?.replicas).toBe(3);
  });

  it("refuses to scale a resource without a scale subresource", async () => {
    const clusters = await management.resolve({ resource: "cl" });
    const error = await failureOf(management.scale(clusters, "dev", "org-acme", 2, { dryRun: true }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("scale subresource");
  });
});
