import { describe, expect, it } from "vitest";
import { byteLength } from "../shaping/budget.js";
import { generatePods } from "../testing/fixtures.js";
import { type FleetMember, fleetCatalog, sampleFleet } from "../testing/fleet.js";
import { ConcurrencyGauge } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { listEventsTool } from "./list-events.js";
import { listResourcesTool } from "./list-resources.js";

function sections(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("## "))
    .map((line) => line.slice(3));
}

const quick = { settings: { fanoutTimeoutMilliseconds: 200 } };

describe("k8s_list_resources across clusters", () => {
  it("answers with one section per named cluster, each with its table and footer", async () => {
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", clusters: ["org-acme/prod", "org-acme/dev"] },
      testContext(sampleFleet().catalog, quick),
    );
    expect(result.text.split("\n")[0]).toBe("pods on 2 clusters: 2 answered.");
    expect(sections(result.text)).toEqual(["org-acme/dev", "org-acme/prod"]);
    expect(result.text).toMatch(
      /^## org-acme\/dev\nNAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\ndev-web-1\s+1\/1\s+Running/m,
    );
    expect(result.text).toContain("prod-web-1");
    expect(result.text.match(/1 pods in namespace shop\.\nThis is the complete list\./g)).toHaveLength(2);
    expect(result.target).toEqual({ cluster: "(fan-out)", namespace: "shop", kind: "Pod" });
  });

  it("selects clusters by label and reports a forbidden one in the same answer without failing the others", async () => {
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", clusterSelector: "env=prod" },
      testContext(sampleFleet().catalog, quick),
    );
    expect(result.text.split("\n")[0]).toBe(
      "pods on 3 clusters matching env=prod: 2 answered, 1 failed (errors at the end).",
    );
    expect(sections(result.text)).toEqual(["org-acme/prod", "org-globex/prod"]);
    expect(
      result.text.endsWith(
        "Errors (1 of 3 clusters):\norg-initech/locked: Forbidden: you may not list pods on cluster org-initech/locked.",
      ),
    ).toBe(true);
    expect(result.structured?.clusters).toEqual([
      { cluster: "org-acme/prod", count: 1, continue: null, remainingItemCount: null },
      { cluster: "org-globex/prod", count: 1, continue: null, remainingItemCount: null },
      {
        cluster: "org-initech/locked",
        error: "Forbidden: you may not list pods on cluster org-initech/locked.",
      },
    ]);
  });

  it("gives up on a cluster that never answers after the timeout, and the others still answer", async () => {
    const started = Date.now();
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", clusters: ["org-globex/slow", "org-acme/dev", "org-acme/prod"] },
      testContext(sampleFleet().catalog, { settings: { fanoutTimeoutMilliseconds: 150, fanoutConcurrency: 2 } }),
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sections(result.text)).toEqual(["org-acme/dev", "org-acme/prod"]);
    expect(result.text).toContain("org-globex/slow: Timed out after 150 ms.");
  });

  it("keeps no more clusters in flight than fanoutConcurrency", async () => {
    const gauge = new ConcurrencyGauge();
    const members = Array.from({ length: 9 }, (_, index) => ({
      cluster: { namespace: "org-acme", name: `c${index}`, labels: { env: "prod" } },
      access: { latencyMilliseconds: 15 },
    }));
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", clusterSelector: "env=prod" },
      testContext(fleetCatalog(members, { gauge }).catalog, { settings: { fanoutConcurrency: 3 } }),
    );
    expect(sections(result.text)).toHaveLength(9);
    expect(gauge.maximum).toBe(3);
  });

  it("resolves an unambiguous bare name, refuses an ambiguous one, and reports an unknown one per cluster", async () => {
    const context = testContext(sampleFleet().catalog, quick);
    const result = await runTool(listResourcesTool, { resource: "pods", clusters: ["dev", "org-acme/nope"] }, context);
    expect(sections(result.text)).toEqual(["org-acme/dev"]);
    expect(result.text).toMatch(/^org-acme\/nope: Unknown cluster: No cluster "org-acme\/nope" is available to you/m);
    await expect(runTool(listResourcesTool, { resource: "pods", clusters: ["prod"] }, context)).rejects.toMatchObject({
      code: "ambiguous_cluster",
    });
  });

  it("refuses cluster together with clusters or a selector, both at once, and a continue token", async () => {
    const context = testContext(sampleFleet().catalog, quick);
    for (const input of [
      { resource: "pods", cluster: "org-acme/dev", clusters: ["org-acme/prod"] },
      { resource: "pods", cluster: "org-acme/dev", clusterSelector: "env=prod" },
      { resource: "pods", clusters: ["org-acme/prod"], clusterSelector: "env=prod" },
      { resource: "pods", clusters: ["org-acme/prod"], continue: "MTA" },
    ]) {
      await expect(runTool(listResourcesTool, input, context), JSON.stringify(input)).rejects.toMatchObject({
        code: "invalid_input",
      });
    }
  });

  it("says clearly when the selector selects no cluster, or is not a selector", async () => {
    const context = testContext(sampleFleet().catalog, quick);
    await expect(runTool(listResourcesTool, { resource: "pods", clusterSelector: "env=qa" }, context)).rejects.toThrow(
      'The cluster selector "env=qa" matches none of the 6 clusters you can see: capi_list_clusters shows their labels.',
    );
    await expect(
      runTool(listResourcesTool, { resource: "pods", clusterSelector: "env in (qa" }, context),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("fits many large clusters in the budget: lowers the limit per cluster, keeps each paging token and every error", async () => {
    const members: FleetMember[] = Array.from({ length: 20 }, (_, index) => ({
      cluster: { namespace: "org-big", name: `c${String(index).padStart(2, "0")}`, labels: { size: "big" } },
      access: { objects: generatePods(300) },
    }));
    members.push({
      cluster: { namespace: "org-big", name: "dead", labels: { size: "big" } },
      access: { latencyMilliseconds: "never" },
    });
    const { catalog, clusters } = fleetCatalog(members);
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", clusterSelector: "size=big" },
      testContext(catalog, { settings: { outputBudgetBytes: 30_000, fanoutTimeoutMilliseconds: 150 } }),
    );
    expect(byteLength(result.text)).toBeLessThanOrEqual(30_000);
    expect(result.text).toContain("Limit lowered to 11 per cluster so 21 clusters fit in one answer.");
    expect(clusters.get("org-big/c00")?.callsTo("list")[0]?.arguments[1]).toMatchObject({ limit: 11 });
    expect(sections(result.text)).toHaveLength(20);
    expect(
      result.text.match(
        /More exist \(about 289 more\): call again for this cluster alone, with cluster: "org-big\/c\d\d" and continue: "[^"]+"\./g,
      ),
    ).toHaveLength(20);
    expect(result.text).toContain("org-big/dead: Timed out after 150 ms.");

    const [first] = (result.structured?.clusters ?? []) as { cluster: string; continue: string }[];
    const next = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", cluster: first?.cluster, continue: first?.continue },
      testContext(catalog),
    );
    expect(next.text).toContain("100 pods in namespace shop.");
    expect(clusters.get("org-big/c00")?.callsTo("list")[1]?.arguments[1]).toMatchObject({ continue: first?.continue });
  });

  it("refuses a selector that matches more clusters than one call may query", async () => {
    const members = Array.from({ length: 51 }, (_, index) => ({
      cluster: { namespace: "org-many", name: `c${index}`, labels: { env: "prod" } },
    }));
    await expect(
      runTool(
        listResourcesTool,
        { resource: "pods", clusterSelector: "env=prod" },
        testContext(fleetCatalog(members).catalog),
      ),
    ).rejects.toThrow('The cluster selector "env=prod" matches 51 clusters; one call queries at most 50.');
    expect(
      listResourcesTool.input.safeParse({
        resource: "pods",
        clusters: members.map((m) => `org-many/${m.cluster.name}`),
      }).success,
    ).toBe(false);
  });

  it("fits each section to its share of the budget, never cutting a row, so each continue token resumes after the last row shown", async () => {
    const members = Array.from({ length: 3 }, (_, index) => ({
      cluster: { namespace: "org-big", name: `c${index}`, labels: { size: "big" } },
      access: { objects: generatePods(100) },
    }));
    const result = await runTool(
      listResourcesTool,
      { resource: "pods", namespace: "shop", clusterSelector: "size=big", output: "yaml", limit: 5 },
      testContext(fleetCatalog(members).catalog, { settings: { outputBudgetBytes: 12_000 } }),
    );
    expect(byteLength(result.text)).toBeLessThanOrEqual(12_000);
    expect(result.text).not.toContain("[Truncated");
    expect(result.text.match(/so that it fits the answer budget/g)).toHaveLength(3);
    expect(result.text.match(/continue: "[^"]+"\./g)).toHaveLength(3);
  });
});

describe("k8s_list_events across clusters", () => {
  it("lists each cluster's newest events in its own section, with per-cluster errors at the end", async () => {
    const result = await runTool(
      listEventsTool,
      { clusterSelector: "org in (acme,initech,globex)", types: ["Warning"] },
      testContext(sampleFleet().catalog, quick),
    );
    expect(result.text.split("\n")[0]).toBe(
      "Events on 5 clusters matching org in (acme,initech,globex): 3 answered, 2 failed (errors at the end).",
    );
    expect(sections(result.text)).toEqual(["org-acme/dev", "org-acme/prod", "org-globex/prod"]);
    expect(result.text).toContain("Back-off restarting failed container on org-acme/prod");
    expect(result.text).toContain("org-globex/slow: Timed out after 200 ms.");
    expect(result.text).toContain("org-initech/locked: Forbidden:");
    expect(result.text.match(/1 event across all namespaces\./g)).toHaveLength(3);
    expect(result.target).toMatchObject({ cluster: "(fan-out)", kind: "Event" });
  });

  it("says per cluster when no event matches", async () => {
    const result = await runTool(
      listEventsTool,
      { clusters: ["org-acme/dev", "org-acme/prod"], namespace: "empty" },
      testContext(sampleFleet().catalog, quick),
    );
    expect(result.text).toContain("## org-acme/dev\nNo events in namespace empty match.");
    expect(result.text).toContain("## org-acme/prod\nNo events in namespace empty match.");
  });

  it("refuses cluster together with clusters", async () => {
    await expect(
      runTool(
        listEventsTool,
        { cluster: "org-acme/dev", clusters: ["org-acme/dev"] },
        testContext(sampleFleet().catalog),
      ),
    ).rejects.toMatchObject({ code: "invalid_input" });
  });
});
