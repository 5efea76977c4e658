import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { createResourceTool } from "./create-resource.js";

const configMapYaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
`;

describe("k8s_create_resource", () => {
  it("creates an object from YAML text in the given namespace and answers with it", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    const result = await runTool(
      createResourceTool,
      { manifest: configMapYaml, namespace: "shop" },
      testContext([cluster]),
    );
    expect(result.text.split("\n")[0]).toBe("Created configmaps/settings in namespace shop.");
    expect(parse(result.text.split("\n").slice(1).join("\n")).data).toEqual({ mode: "fast" });
    expect(result.dryRun).toBe(false);
    expect(result.target).toEqual({ cluster: "dev", namespace: "shop", kind: "ConfigMap", name: "settings" });
    const [call] = cluster.callsTo("create");
    expect(call?.arguments[2]).toEqual({ dryRun: false, namespace: "shop" });
    expect(cluster.find(await cluster.resolve({ resource: "cm" }), "settings", "shop")).toBeDefined();
  });

  it("accepts a JSON object and JSON text alike", async () => {
    const manifest = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "api", namespace: "shop" },
      spec: {},
    };
    const cluster = new InMemoryCluster({ name: "dev" });
    await runTool(createResourceTool, { manifest }, testContext([cluster]));
    const second = { ...manifest, metadata: { name: "api-2", namespace: "shop" } };
    await runTool(createResourceTool, { manifest: JSON.stringify(second) }, testContext([cluster]));
    expect(cluster.callsTo("create").map((call) => call.arguments[0])).toEqual(["deployments", "deployments"]);
    expect(cluster.callsTo("resolve")[0]?.arguments[0]).toEqual({ resource: "Deployment", apiVersion: "apps/v1" });
  });

  it("says it was a dry run, first, when the server runs in dry-run mode, and changes nothing", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    const result = await runTool(
      createResourceTool,
      { manifest: configMapYaml },
      testContext([cluster], { settings: { dryRun: true } }),
    );
    const [first, second] = result.text.split("\n");
    expect(first).toBe("Dry run (server-side, nothing was changed):");
    expect(second).toBe("Would create configmaps/settings in namespace default.");
    expect(result.dryRun).toBe(true);
    expect(cluster.callsTo("create")[0]?.arguments[2]).toMatchObject({ dryRun: true });
    expect(cluster.find(await cluster.resolve({ resource: "cm" }), "settings", "default")).toBeUndefined();
  });

  it.each([
    ["bad YAML", "apiVersion: v1\nkind: [ConfigMap\n", /not valid YAML or JSON \(line \d+, column \d+\)/],
    [
      "two documents",
      `${configMapYaml}---\n${configMapYaml}`,
      /holds 2 YAML documents; this tool takes exactly one object/,
    ],
    ["no kind", "apiVersion: v1\nmetadata:\n  name: x\n", /has no kind/],
    ["no apiVersion or kind", "metadata:\n  name: x\n", /has no apiVersion and no kind/],
    ["no name", "apiVersion: v1\nkind: ConfigMap\n", /no metadata\.name/],
    ["a list", "- apiVersion: v1\n  kind: ConfigMap\n", /one Kubernetes object \(a mapping\)/],
    ["a List kind", "apiVersion: v1\nkind: List\nitems: []\n", /is a List; pass its items one at a time/],
    ["an empty text", "# nothing here\n", /manifest is empty/],
    ["an alias before its anchor", "apiVersion: v1\nkind: *k\nmetadata:\n  name: &k x\n", /not valid YAML/],
  ])("refuses %s as invalid input before calling the cluster", async (_label, manifest, message) => {
    const cluster = new InMemoryCluster({ name: "dev" });
    const call = runTool(createResourceTool, { manifest }, testContext([cluster]));
    await expect(call).rejects.toMatchObject({ code: "invalid_input", message: expect.stringMatching(message) });
    expect(cluster.callsTo("create")).toHaveLength(0);
  });

  it("refuses a manifest namespace that contradicts the namespace argument", async () => {
    const manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "a" } };
    const call = runTool(
      createResourceTool,
      { manifest, namespace: "b" },
      testContext([new InMemoryCluster({ name: "dev" })]),
    );
    await expect(call).rejects.toMatchObject({ code: "invalid_input", message: expect.stringContaining('"a"') });
  });

  it("sends cluster-scoped objects without a namespace", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    const result = await runTool(
      createResourceTool,
      { manifest: { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } }, namespace: "shop" },
      testContext([cluster]),
    );
    expect(result.text.split("\n")[0]).toBe("Created namespaces/team-a (cluster-scoped).");
    const [call] = cluster.callsTo("create");
    expect(call?.arguments[2]).toEqual({ dryRun: false, namespace: undefined });
  });

  it("lets the API server's conflict for an existing object reach the model", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    await runTool(createResourceTool, { manifest: configMapYaml }, testContext([cluster]));
    await expect(
      runTool(createResourceTool, { manifest: configMapYaml }, testContext([cluster])),
    ).rejects.toMatchObject({
      code: "conflict",
    });
  });
});

describe("manifest text", () => {
  it("accepts JSON text indented with tabs", async () => {
    const cluster = new InMemoryCluster({ name: "dev" });
    const manifest = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "tabbed" } }, null, "\t");
    const result = await runTool(createResourceTool, { manifest }, testContext([cluster]));
    expect(result.text.split("\n")[0]).toBe("Created configmaps/tabbed in namespace default.");
  });
});
