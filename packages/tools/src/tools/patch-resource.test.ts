import { describe, expect, it } from "vitest";
import { makeDeployment } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { patchResourceTool } from "./patch-resource.js";

function cluster(): InMemoryCluster {
  return new InMemoryCluster({ name: "dev", objects: [makeDeployment("web", "shop")] });
}

describe("k8s_patch_resource", () => {
  it("sends a merge patch by default and answers with the patched object", async () => {
    const dev = cluster();
    const result = await runTool(
      patchResourceTool,
      { resource: "deployment", name: "web", namespace: "shop", patch: { spec: { replicas: 1 } } },
      testContext([dev]),
    );
    expect(result.text.split("\n")[0]).toBe("Patched deployments.apps/web in namespace shop (merge patch).");
    expect(result.text).toContain("replicas: 1");
    expect(dev.callsTo("patch")[0]?.arguments.slice(1)).toEqual([
      "web",
      "shop",
      { spec: { replicas: 1 } },
      "merge",
      { dryRun: false },
    ]);
  });

  it("accepts a JSON patch as a JSON string", async () => {
    const dev = cluster();
    await runTool(
      patchResourceTool,
      {
        resource: "deploy",
        name: "web",
        namespace: "shop",
        patchType: "json",
        patch: '[{"op":"replace","path":"/spec/replicas","value":7}]',
      },
      testContext([dev]),
    );
    expect(dev.callsTo("patch")[0]?.arguments[3]).toEqual([{ op: "replace", path: "/spec/replicas", value: 7 }]);
    expect(dev.find(await dev.resolve({ resource: "deploy" }), "web", "shop")?.spec).toMatchObject({ replicas: 7 });
  });

  it.each([
    ["a JSON patch that is not an array", { spec: {} }, "json", /non-empty array of operations/],
    ["a JSON patch operation without op", [{ path: "/spec" }], "json", /operation 0 needs op/],
    ["a merge patch that is an array", [{ op: "add", path: "/x" }], "merge", /use patchType json/],
    ["text that is not JSON", "{spec: }", "merge", /not valid JSON/],
  ])("refuses %s as invalid input", async (_label, patch, patchType, message) => {
    const dev = cluster();
    const call = runTool(
      patchResourceTool,
      { resource: "deploy", name: "web", namespace: "shop", patch, patchType },
      testContext([dev]),
    );
    await expect(call).rejects.toMatchObject({ code: "invalid_input", message: expect.stringMatching(message) });
    expect(dev.callsTo("patch")).toHaveLength(0);
  });

  it("runs as a dry run in dry-run mode and says so first", async () => {
    const dev = cluster();
    const result = await runTool(
      patchResourceTool,
      { resource: "deploy", name: "web", namespace: "shop", patch: { spec: { replicas: 0 } }, patchType: "strategic" },
      testContext([dev], { settings: { dryRun: true } }),
    );
    expect(result.text.split("\n").slice(0, 2)).toEqual([
      "Dry run (server-side, nothing was changed):",
      "Would patch deployments.apps/web in namespace shop (strategic patch).",
    ]);
    expect(dev.callsTo("patch")[0]?.arguments[5]).toEqual({ dryRun: true });
    expect(dev.find(await dev.resolve({ resource: "deploy" }), "web", "shop")?.spec).toMatchObject({ replicas: 3 });
  });
});
