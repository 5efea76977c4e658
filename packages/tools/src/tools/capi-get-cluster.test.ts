import { describe, expect, it } from "vitest";
import { sampleFleet } from "../testing/fleet.js";
import { runTool } from "../testing/run-tool.js";
import { newSession, testContext } from "../testing/test-context.js";
import { capiGetClusterTool } from "./capi-get-cluster.js";

describe("capi_get_cluster", () => {
  it("shows the Cluster object as YAML without managedFields or last-applied, and names its kubeconfig secret", async () => {
    const result = await runTool(capiGetClusterTool, { cluster: "org-acme/dev" }, testContext(sampleFleet().catalog));
    expect(result.text).toMatch(/^apiVersion: cluster\.x-k8s\.io\/v1beta2\nkind: Cluster\nmetadata:\n {2}name: dev\n/);
    expect(result.text).toContain("version: v1.33.1");
    expect(result.text).not.toContain("managedFields");
    expect(result.text).not.toContain("last-applied-configuration");
    expect(result.text).toContain(
      'Kubeconfig secret: org-acme/dev-kubeconfig (key "value"; its contents are never shown).',
    );
    expect(result.structured).toMatchObject({ kubeconfigSecret: "dev-kubeconfig" });
    expect(result.target).toEqual({ cluster: "org-acme/dev", namespace: "org-acme", kind: "Cluster", name: "dev" });
  });

  it("reads no secret and makes no call on any cluster", async () => {
    const { catalog, clusters } = sampleFleet();
    await runTool(capiGetClusterTool, { cluster: "org-acme/dev" }, testContext(catalog));
    for (const cluster of clusters.values()) expect(cluster.calls).toEqual([]);
  });

  it("accepts a bare name that only one visible cluster has", async () => {
    const result = await runTool(capiGetClusterTool, { cluster: "slow" }, testContext(sampleFleet().catalog));
    expect(result.structured).toMatchObject({ cluster: "org-globex/slow" });
  });

  it("refuses an ambiguous bare name and lists the candidates", async () => {
    const call = runTool(capiGetClusterTool, { cluster: "prod" }, testContext(sampleFleet().catalog));
    await expect(call).rejects.toMatchObject({
      code: "ambiguous_cluster",
      message:
        'The cluster name "prod" is ambiguous: it matches org-acme/prod, org-globex/prod. Pass it as namespace/name.',
    });
  });

  it("answers an unknown cluster like a hidden one, and refuses the management cluster with a pointer", async () => {
    const context = testContext(sampleFleet().catalog);
    await expect(runTool(capiGetClusterTool, { cluster: "org-acme/staging" }, context)).rejects.toMatchObject({
      code: "cluster_not_found",
    });
    await expect(runTool(capiGetClusterTool, { cluster: "management" }, context)).rejects.toThrow(
      /not a Cluster API cluster.*k8s_get_cluster_health/,
    );
  });

  it("uses the session's current cluster when none is named", async () => {
    const session = newSession();
    session.currentCluster = "org-globex/prod";
    const result = await runTool(capiGetClusterTool, {}, testContext(sampleFleet().catalog, { session }));
    expect(result.text).toContain("apiVersion: cluster.x-k8s.io/v1beta1");
    expect(result.text).toContain("Kubeconfig secret: org-globex/prod-kubeconfig");
  });
});
