import { seededRandom } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { byteLength } from "../shaping/budget.js";
import { generatePods, makePod } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { sampleCluster } from "../testing/sample-cluster.js";
import { testContext } from "../testing/test-context.js";
import { listResourcesTool } from "./list-resources.js";

describe("k8s_list_resources", () => {
  it("lists pods of one namespace as a table with pod columns and a complete-list footer", async () => {
    const result = await runTool(
      listResourcesTool,
      { resource: "po", namespace: "shop" },
      testContext([sampleCluster()]),
    );
    const lines = result.text.split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    expect(lines[2]).toMatch(/^web-2\s+0\/1\s+CrashLoopBackOff\s+7\s+3d$/);
    expect(result.text).toContain("2 pods in namespace shop.");
    expect(result.text).toContain("This is the complete list.");
  });

  it("lists across all namespaces with a NAMESPACE column when no namespace is given", async () => {
    const cluster = sampleCluster();
    const result = await runTool(listResourcesTool, { resource: "pods" }, testContext([cluster]));
    expect(result.text.split("\n")[0]?.startsWith("NAMESPACE")).toBe(true);
    expect(result.text).toContain("kube-system");
    expect(result.text).toContain("3 pods across all namespaces.");
    expect(cluster.callsTo("list")[0]?.arguments[1]).toMatchObject({ namespace: undefined, limit: 100 });
  });

  it("refuses a namespace together with allNamespaces", async () => {
    const call = runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", allNamespaces: true },
      testContext([sampleCluster()]),
    );
    await expect(call).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("passes selectors through and says exactly how to get the next page", async () => {
    const cluster = new InMemoryCluster({ name: "dev", objects: generatePods(30) });
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", labelSelector: "team=payments", limit: 2 },
      testContext([cluster]),
    );
    expect(cluster.callsTo("list")[0]?.arguments[1]).toMatchObject({ labelSelector: "team=payments", limit: 2 });
    const token = result.structured?.continue;
    expect(typeof token).toBe("string");
    expect(result.text).toContain(
      `More exist (about 4 more): call again with the same arguments and continue: "${token}".`,
    );

    const next = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", labelSelector: "team=payments", limit: 2, continue: token },
      testContext([cluster]),
    );
    const firstNames = result.text.split("\n").slice(1, 3);
    const nextNames = next.text.split("\n").slice(1, 3);
    expect(nextNames).not.toEqual(firstNames);
    expect(nextNames.every((line) => line.startsWith("payments-"))).toBe(true);
  });

  it("answers 500 pods in under 25 KB by default and shows them all with limit 500 within the budget", async () => {
    const cluster = new InMemoryCluster({ name: "dev", objects: generatePods(500) });
    const byDefault = await runTool(listResourcesTool, { resource: "pods", namespace: "shop" }, testContext([cluster]));
    expect(byteLength(byDefault.text)).toBeLessThan(25_000);
    expect(byDefault.text).toContain("100 pods in namespace shop.");
    expect(byDefault.text).toContain("about 400 more");

    const allAtOnce = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", limit: 500 },
      testContext([cluster], { settings: { outputBudgetBytes: 60_000 } }),
    );
    expect(allAtOnce.text.split("\n").filter((line) => line.includes("-7d9f8b6c4d-"))).toHaveLength(500);
  });

  it("shows names only, or full YAML objects stripped of managedFields, on request", async () => {
    const names = await runTool(
      listResourcesTool,
      { resource: "pods", output: "names" },
      testContext([sampleCluster()]),
    );
    expect(names.text.split("\n").slice(0, 3)).toEqual(["kube-system/dns-1", "shop/web-1", "shop/web-2"]);
    const yaml = await runTool(
      listResourcesTool,
      { resource: "deployments", namespace: "shop", output: "yaml" },
      testContext([sampleCluster()]),
    );
    expect(yaml.text).toContain("kind: Deployment");
    expect(yaml.text).not.toContain("managedFields");
    expect(yaml.text).not.toContain("last-applied-configuration");
  });

  it("fits a page that exceeds the budget to the rows that fit, never cutting one, and says so", async () => {
    const cluster = new InMemoryCluster({ name: "dev", objects: generatePods(300) });
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", limit: 200, output: "yaml" },
      testContext([cluster], { settings: { outputBudgetBytes: 20_000 } }),
    );
    expect(byteLength(result.text)).toBeLessThanOrEqual(20_000);
    expect(result.text).not.toContain("[Truncated");
    expect(result.text).toMatch(/This page holds \d+ objects instead of up to 200 so that it fits the answer budget/);
    expect(result.text).toMatch(/continue: "[^"]+"\.$/m);
    const lastCall = cluster.callsTo("list").at(-1)?.arguments[1] as { limit: number };
    expect(lastCall.limit).toBe(result.text.split("\n---\n").length);
  });

  it("walks every object exactly once, in every output format, at every limit and budget, without a page ever being cut", async () => {
    const pods = generatePods(200);
    const names = [...new Set(pods.map((pod) => pod.metadata?.name ?? ""))];
    const random = seededRandom(8);
    for (let walk = 0; walk < 9; walk++) {
      const output = (["table", "names", "yaml"] as const)[walk % 3] ?? "table";
      const limit = [1, 7, 100, 250, 500][Math.floor(random() * 5)] ?? 100;
      const budget = [6_000, 20_000, 60_000][Math.floor(random() * 3)] ?? 20_000;
      const cluster = new InMemoryCluster({ name: "dev", objects: pods });
      const context = testContext([cluster], { settings: { outputBudgetBytes: budget } });
      const pages: string[] = [];
      let token: unknown;
      do {
        const page = await runTool(
          listResourcesTool,
          { resource: "pods", namespace: "shop", limit, output, ...(token === undefined ? {} : { continue: token }) },
          context,
        );
        const where = `${output}, limit ${limit}, budget ${budget}, page ${pages.length}`;
        expect(byteLength(page.text), where).toBeLessThanOrEqual(budget);
        expect(page.text, where).not.toContain("[Truncated");
        pages.push(page.text);
        token = page.structured?.continue ?? undefined;
      } while (token !== undefined && pages.length < 800);
      const where = `${output}, limit ${limit}, budget ${budget}`;
      // Each object must be on exactly one page: counted per page, so a name twice in one YAML
      // document is not a repeat.
      const pagesShowing = new Map<string, number>();
      for (const page of pages) {
        for (const name of new Set(page.match(/[a-z]+-[a-z]+-7d9f8b6c4d-[0-9a-z]{5}/g) ?? [])) {
          pagesShowing.set(name, (pagesShowing.get(name) ?? 0) + 1);
        }
      }
      const missing = names.filter((name) => !pagesShowing.has(name));
      const repeated = names.filter((name) => (pagesShowing.get(name) ?? 0) > 1);
      expect(missing, where).toEqual([]);
      expect(repeated, where).toEqual([]);
    }
  }, 60_000);

  it("shows one object larger than the whole budget alone and cut, and continues right after it", async () => {
    const huge = makePod({ name: "huge", namespace: "shop", labels: { blob: "x".repeat(9_000) } });
    const cluster = new InMemoryCluster({
      name: "dev",
      objects: [huge, makePod({ name: "small", namespace: "shop" })],
    });
    const context = testContext([cluster], { settings: { outputBudgetBytes: 4_000 } });
    const first = await runTool(listResourcesTool, { resource: "pods", namespace: "shop", output: "yaml" }, context);
    expect(byteLength(first.text)).toBeLessThanOrEqual(4_000);
    expect(first.text).toContain("name: huge");
    expect(first.text).toContain("larger than the answer budget on its own");
    const second = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", output: "yaml", continue: first.structured?.continue },
      context,
    );
    expect(second.text).toContain("name: small");
    expect(second.text).not.toContain("name: huge");
    expect(second.text).toContain("This is the complete list.");
  });

  it("passes on the guard's note about namespaces it hid", async () => {
    const cluster = new InMemoryCluster({
      name: "dev",
      objects: [makePod({ name: "a" })],
      policyNote: "Namespaces kube-system and vault are hidden by policy.",
    });
    const result = await runTool(listResourcesTool, { resource: "pods" }, testContext([cluster]));
    expect(result.text).toContain("Note: Namespaces kube-system and vault are hidden by policy.");
  });

  it("says plainly when nothing matched", async () => {
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", labelSelector: "app=none" },
      testContext([sampleCluster()]),
    );
    expect(result.text.startsWith("No pods in namespace shop.")).toBe(true);
  });

  it("ignores a namespace for cluster-scoped types and says so", async () => {
    const result = await runTool(
      listResourcesTool,
      { resource: "nodes", namespace: "shop" },
      testContext([sampleCluster()]),
    );
    expect(result.text).toContain('(cluster-scoped; namespace "shop" ignored)');
    expect(result.text).toMatch(/worker-1\s+Ready\s+worker\s+v1\.20\.2/);
  });
});
