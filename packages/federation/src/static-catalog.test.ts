import type { ClusterAccess, ClusterSummary } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { createStaticCatalog } from "./static-catalog.js";

const clusters: ClusterSummary[] = [
  { name: "org-acme/dev", server: "https://127.0.0.1:1" },
  { name: "org-acme/prod", server: "https://127.0.0.1:2" },
];

function catalog() {
  const built: string[] = [];
  const instance = createStaticCatalog({
    clusters,
    defaultCluster: "org-acme/dev",
    connect: (cluster) => {
      built.push(cluster.name);
      return { cluster: cluster.name } as unknown as ClusterAccess;
    },
  });
  return { instance, built };
}

describe("a static cluster catalog", () => {
  it("lists its clusters and names the default", async () => {
    const { instance } = catalog();
    expect((await instance.list()).map((cluster) => cluster.name)).toEqual(["org-acme/dev", "org-acme/prod"]);
    expect(instance.defaultCluster).toBe("org-acme/dev");
  });

  it("builds one access per cluster and reuses it, even for concurrent first calls", async () => {
    const { instance, built } = catalog();
    const [first, second] = await Promise.all([instance.access("org-acme/prod"), instance.access("org-acme/prod")]);
    expect(first).toBe(second);
    expect(await instance.access("org-acme/prod")).toBe(first);
    expect(built).toEqual(["org-acme/prod"]);
    expect(instance.connected).toEqual(["org-acme/prod"]);
  });

  it("refuses an unknown cluster with cluster_not_found and a hint", async () => {
    const { instance, built } = catalog();
    await expect(instance.access("org-globex/prod")).rejects.toMatchObject({
      code: "cluster_not_found",
      message: expect.stringContaining("k8s_list_contexts"),
    });
    expect(built).toEqual([]);
  });

  it("refuses a default cluster that is not configured", () => {
    expect(() =>
      createStaticCatalog({ clusters, defaultCluster: "nope", connect: () => ({}) as ClusterAccess }),
    ).toThrow(/The default cluster "nope" is not among the configured clusters/);
  });
});
