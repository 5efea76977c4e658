import { describe, expect, it } from "vitest";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { canITool } from "./can-i.js";
import { getApiResourcesTool } from "./get-api-resources.js";
import { getClusterHealthTool } from "./get-cluster-health.js";

describe("k8s_get_api_resources", () => {
  it("lists resource types as a table sorted by group and name", async () => {
    const result = await runTool(getApiResourcesTool, {}, testContext([new InMemoryCluster({ name: "dev" })]));
    const lines = result.text.split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]);
    expect(lines[1]?.split(/\s+/)).toEqual(["componentstatuses", "cs", "v1", "false", "ComponentStatus"]);
    expect(result.text).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(result.text).toContain("14 resource types.");
  });

  it("filters by group, scope and verbs", async () => {
    const context = testContext([new InMemoryCluster({ name: "dev" })]);
    const apps = await runTool(getApiResourcesTool, { apiGroup: "apps" }, context);
    expect(apps.text).toContain("4 resource types.");
    const core = await runTool(getApiResourcesTool, { apiGroup: "core", namespaced: false }, context);
    expect(
      core.text
        .split("\n")
        .slice(1, -1)
        .map((line) => line.split(/\s+/)[0]),
    ).toEqual(["componentstatuses", "namespaces", "nodes"]);
    const creatable = await runTool(getApiResourcesTool, { apiGroup: "", verbs: ["create", "list"] }, context);
    expect(creatable.text).not.toContain("componentstatuses");
    const none = await runTool(getApiResourcesTool, { apiGroup: "nothing.example.com" }, context);
    expect(none.text).toBe("No resource types match these filters.");
  });
});

describe("k8s_get_cluster_health", () => {
  it("reports a healthy cluster briefly", async () => {
    const result = await runTool(getClusterHealthTool, {}, testContext([new InMemoryCluster({ name: "dev" })]));
    expect(result.text).toBe(
      "Cluster dev: healthy, Kubernetes v1.20.2.\nReadiness checks: all 2 pass.\nNodes: 3 of 3 ready.",
    );
  });

  it("names failing checks and not-ready nodes", async () => {
    const cluster = new InMemoryCluster({
      name: "dev",
      health: {
        reachable: true,
        version: "v1.20.2",
        checks: [
          { name: "ping", ok: true },
          { name: "etcd", ok: false },
        ],
        nodes: { total: 3, ready: 1 },
      },
    });
    const result = await runTool(getClusterHealthTool, {}, testContext([cluster]));
    expect(result.text).toContain("Cluster dev: DEGRADED");
    expect(result.text).toContain("Readiness checks: 1 of 2 failing: etcd.");
    expect(result.text).toContain("Nodes: 1 of 3 ready (2 not ready");
    expect(result.structured).toMatchObject({ failingChecks: ["etcd"] });
  });

  it("reports an unreachable cluster as an answer, not an error", async () => {
    const cluster = new InMemoryCluster({
      name: "dev",
      health: { reachable: false, checks: [], error: "connection refused" },
    });
    const result = await runTool(getClusterHealthTool, {}, testContext([cluster]));
    expect(result.text).toBe("Cluster dev: UNREACHABLE (connection refused).");
  });
});

describe("k8s_can_i", () => {
  it("resolves the resource to its group and plural and answers yes or no with the reason", async () => {
    const cluster = new InMemoryCluster({
      name: "dev",
      canI: (question) =>
        question.verb === "delete" ? { allowed: false, reason: "no RBAC rule allows it" } : { allowed: true },
    });
    const yes = await runTool(
      canITool,
      { verb: "list", resource: "deploy", namespace: "shop" },
      testContext([cluster]),
    );
    expect(cluster.callsTo("canI")[0]?.arguments[0]).toEqual({
      verb: "list",
      group: "apps",
      resource: "deployments",
      subresource: undefined,
      namespace: "shop",
      name: undefined,
    });
    expect(yes.text).toBe("yes: you may list deployments.apps in namespace shop on cluster dev.");
    const no = await runTool(canITool, { verb: "delete", resource: "pods", name: "web-1" }, testContext([cluster]));
    expect(no.text).toBe(
      'no: you may not delete pods "web-1" in all namespaces on cluster dev. Reason: no RBAC rule allows it',
    );
    expect(no.structured).toMatchObject({ allowed: false });
  });

  it("asks about subresources and drops the namespace for cluster-scoped types", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    await runTool(
      canITool,
      { verb: "create", resource: "pods", subresource: "exec", namespace: "shop" },
      testContext([cluster]),
    );
    await runTool(canITool, { verb: "get", resource: "nodes", namespace: "shop" }, testContext([cluster]));
    const questions = cluster.callsTo("canI").map((call) => call.arguments[0]);
    expect(questions[0]).toMatchObject({ resource: "pods", subresource: "exec", namespace: "shop" });
    expect(questions[1]).toMatchObject({ resource: "nodes", namespace: undefined });
  });

  it("accepts * for every resource without resolving it", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    const result = await runTool(canITool, { verb: "*", resource: "*" }, testContext([cluster]));
    expect(cluster.callsTo("resolve")).toHaveLength(0);
    expect(cluster.callsTo("canI")[0]?.arguments[0]).toMatchObject({ verb: "*", group: "*", resource: "*" });
    expect(result.text.startsWith("yes:")).toBe(true);
  });
});
