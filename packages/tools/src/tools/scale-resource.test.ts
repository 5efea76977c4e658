import { describe, expect, it } from "vitest";
import { makeDeployment, makePod } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { scaleResourceTool } from "./scale-resource.js";

describe("k8s_scale_resource", () => {
  it("scales through the scale subresource and reports the current count", async () => {
    const dev = new InMemoryCluster({ name: "dev", objects: [makeDeployment("web", "shop", 3)] });
    const result = await runTool(
      scaleResourceTool,
      { resource: "deploy", name: "web", namespace: "shop", replicas: 5 },
      testContext([dev]),
    );
    expect(result.text).toBe(
      "Scaled deployments.apps/web in namespace shop to 5 replicas.\nIt currently runs 3; follow the rollout with k8s_describe_resource.",
    );
    expect(dev.callsTo("scale")[0]?.arguments).toEqual(["deployments", "web", "shop", 5, { dryRun: false }]);
    expect(dev.find(await dev.resolve({ resource: "deploy" }), "web", "shop")?.spec).toMatchObject({ replicas: 5 });
  });

  it("says it was a dry run in dry-run mode", async () => {
    const dev = new InMemoryCluster({ name: "dev", objects: [makeDeployment("web", "shop", 3)] });
    const result = await runTool(
      scaleResourceTool,
      { resource: "deploy", name: "web", namespace: "shop", replicas: 0 },
      testContext([dev], { settings: { dryRun: true } }),
    );
    expect(result.text.split("\n")[0]).toBe("Dry run (server-side, nothing was changed):");
    expect(result.text).toContain("Would scale deployments.apps/web in namespace shop to 0 replicas.");
    expect(dev.find(await dev.resolve({ resource: "deploy" }), "web", "shop")?.spec).toMatchObject({ replicas: 3 });
  });

  it("refuses a type without a scale subresource before calling the cluster", async () => {
    const dev = new InMemoryCluster({ name: "dev", objects: [makePod({ name: "p" })] });
    const call = runTool(scaleResourceTool, { resource: "pods", name: "p", replicas: 2 }, testContext([dev]));
    await expect(call).rejects.toMatchObject({
      code: "invalid_input",
      message: expect.stringContaining("no scale subresource"),
    });
    expect(dev.callsTo("scale")).toHaveLength(0);
  });

  it("refuses negative, fractional and absurd replica counts", () => {
    for (const replicas of [-1, 1.5, 1_000_001]) {
      expect(scaleResourceTool.input.safeParse({ resource: "deploy", name: "web", replicas }).success).toBe(false);
    }
  });
});
