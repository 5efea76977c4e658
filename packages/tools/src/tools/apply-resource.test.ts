import { describe, expect, it } from "vitest";
import { makeDeployment } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { applyResourceTool } from "./apply-resource.js";

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 5
`;

describe("k8s_apply_resource", () => {
  it("applies server-side through ClusterAccess.apply, without force by default", async () => {
    const cluster = new InMemoryCluster({ name: "dev", objects: [makeDeployment("web", "shop")] });
    const result = await runTool(applyResourceTool, { manifest }, testContext([cluster]));
    expect(result.text.split("\n")[0]).toBe("Applied deployments.apps/web in namespace shop.");
    expect(result.text).toContain("replicas: 5");
    expect(result.text).not.toContain("managedFields");
    const [call] = cluster.callsTo("apply");
    expect(call?.arguments[2]).toEqual({ dryRun: false, namespace: "shop", force: false });
    expect(cluster.callsTo("create")).toHaveLength(0);
  });

  it("passes force and says the fields were taken over", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    const result = await runTool(applyResourceTool, { manifest, force: true }, testContext([cluster]));
    expect(result.text).toContain("(forced: conflicting fields taken over)");
    expect(cluster.callsTo("apply")[0]?.arguments[2]).toMatchObject({ force: true });
  });

  it("runs as a dry run in dry-run mode and says so first", async () => {
    const cluster = new InMemoryCluster({ name: "dev", objects: [makeDeployment("web", "shop")] });
    const result = await runTool(
      applyResourceTool,
      { manifest },
      testContext([cluster], { settings: { dryRun: true } }),
    );
    expect(result.text.split("\n").slice(0, 2)).toEqual([
      "Dry run (server-side, nothing was changed):",
      "Would apply deployments.apps/web in namespace shop.",
    ]);
    expect(result.dryRun).toBe(true);
    expect(cluster.find(await cluster.resolve({ resource: "deploy" }), "web", "shop")?.spec).toMatchObject({
      replicas: 3,
    });
  });

  it("needs a name: server-side apply cannot generate one", async () => {
    const call = runTool(
      applyResourceTool,
      { manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { generateName: "x-" } } },
      testContext([new InMemoryCluster({ name: "dev" })]),
    );
    await expect(call).rejects.toMatchObject({
      code: "invalid_input",
      message: expect.stringContaining("metadata.name"),
    });
  });

  it("tells the model when the manifest's type is unknown to the cluster", async () => {
    const call = runTool(
      applyResourceTool,
      { manifest: { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } } },
      testContext([new InMemoryCluster({ name: "dev" })]),
    );
    await expect(call).rejects.toMatchObject({ code: "not_found" });
  });
});
