import { describe, expect, it } from "vitest";
import { makeDeployment } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { deleteResourceTool } from "./delete-resource.js";

describe("k8s_delete_resource", () => {
  it("deletes the object with the options given and says what was deleted", async () => {
    const dev = new InMemoryCluster({ name: "dev", objects: [makeDeployment("web", "shop")] });
    const result = await runTool(
      deleteResourceTool,
      { resource: "deploy", name: "web", namespace: "shop", propagationPolicy: "Foreground", gracePeriodSeconds: 0 },
      testContext([dev]),
    );
    expect(result.text).toBe("Deleted deployments.apps/web in namespace shop.\nDependents: Foreground.");
    expect(dev.callsTo("delete")[0]?.arguments.slice(1)).toEqual([
      "web",
      "shop",
      { dryRun: false, propagationPolicy: "Foreground", gracePeriodSeconds: 0 },
    ]);
    expect(dev.find(await dev.resolve({ resource: "deploy" }), "web", "shop")).toBeUndefined();
    expect(result.target).toEqual({ cluster: "dev", namespace: "shop", kind: "Deployment", name: "web" });
  });

  it("keeps the object in dry-run mode and says it was a dry run", async () => {
    const dev = new InMemoryCluster({ name: "dev", objects: [makeDeployment("web", "shop")] });
    const result = await runTool(
      deleteResourceTool,
      { resource: "deploy", name: "web", namespace: "shop" },
      testContext([dev], { settings: { dryRun: true } }),
    );
    expect(result.text).toBe(
      "Dry run (server-side, nothing was changed):\nWould delete deployments.apps/web in namespace shop.",
    );
    expect(result.dryRun).toBe(true);
    expect(dev.find(await dev.resolve({ resource: "deploy" }), "web", "shop")).toBeDefined();
  });

  it("explains that finalizers still hold the object", async () => {
    const held = makeDeployment("web", "shop");
    held.metadata = { ...held.metadata, finalizers: ["example.com/cleanup"] };
    const dev = new InMemoryCluster({ name: "dev", objects: [held] });
    const result = await runTool(
      deleteResourceTool,
      { resource: "deploy", name: "web", namespace: "shop" },
      testContext([dev]),
    );
    expect(result.text).toContain("until these finalizers finish: example.com/cleanup");
  });

  it("lets NotFound reach the model", async () => {
    const dev = new InMemoryCluster({ name: "dev" });
    await expect(
      runTool(deleteResourceTool, { resource: "pods", name: "ghost" }, testContext([dev])),
    ).rejects.toMatchObject({ code: "not_found" });
  });
});
