import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { byteLength } from "../shaping/budget.js";
import { makePod } from "../testing/fixtures.js";
import { runTool } from "../testing/run-tool.js";
import { sampleCluster } from "../testing/sample-cluster.js";
import { testContext } from "../testing/test-context.js";
import { getResourceTool } from "./get-resource.js";

describe("k8s_get_resource", () => {
  it("returns the object as YAML without managedFields or the last-applied annotation", async () => {
    const cluster = sampleCluster();
    const result = await runTool(
      getResourceTool,
      { resource: "deploy", name: "web", namespace: "shop" },
      testContext([cluster]),
    );
    expect(result.text).not.toContain("managedFields");
    expect(result.text).not.toContain("last-applied-configuration");
    const object = parse(result.text);
    expect(object.kind).toBe("Deployment");
    expect(object.metadata.annotations).toEqual({ "deployment.kubernetes.io/revision": "4" });
    expect(result.target).toEqual({ cluster: "dev", namespace: "shop", kind: "Deployment", name: "web" });
  });

  it("uses the namespace default for namespaced types and none for cluster-scoped types", async () => {
    const cluster = sampleCluster([makePod({ name: "lonely" })]);
    await runTool(getResourceTool, { resource: "pod", name: "lonely" }, testContext([cluster]));
    await runTool(getResourceTool, { resource: "nodes", name: "worker-1", namespace: "shop" }, testContext([cluster]));
    expect(cluster.callsTo("get").map((call) => call.arguments)).toEqual([
      ["pods", "lonely", "default"],
      ["nodes", "worker-1", undefined],
    ]);
  });

  it("lets a Kubernetes NotFound reach the model unchanged", async () => {
    const call = runTool(
      getResourceTool,
      { resource: "pods", name: "ghost", namespace: "shop" },
      testContext([sampleCluster()]),
    );
    await expect(call).rejects.toMatchObject({ code: "not_found" });
  });

  it("rejects a name that would be a path", () => {
    expect(() => getResourceTool.input.parse({ resource: "pods", name: "a/../b" })).toThrow();
  });

  it("asks the model to pick a cluster when there is no current or default one", async () => {
    const context = testContext([sampleCluster()], { defaultCluster: undefined });
    const call = runTool(getResourceTool, { resource: "pods", name: "web-1" }, context);
    await expect(call).rejects.toBeInstanceOf(GatewayError);
    await expect(call).rejects.toMatchObject({
      code: "invalid_input",
      message: expect.stringContaining("k8s_list_contexts"),
    });
  });

  it("cuts an object larger than the output budget and says so", async () => {
    const big = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "big", namespace: "shop" },
      data: Object.fromEntries(Array.from({ length: 400 }, (_, index) => [`key-${index}`, "v".repeat(80)])),
    };
    const result = await runTool(
      getResourceTool,
      { resource: "cm", name: "big", namespace: "shop" },
      testContext([sampleCluster([big])], { settings: { outputBudgetBytes: 4000 } }),
    );
    expect(byteLength(result.text)).toBeLessThanOrEqual(4000);
    expect(result.text).toMatch(/\[Truncated: .* left out\. Use k8s_describe_resource/);
  });
});
