import { describe, expect, it } from "vitest";
import { byteLength } from "../shaping/budget.js";
import { fleetCatalog, sampleFleet } from "../testing/fleet.js";
import { runTool } from "../testing/run-tool.js";
import { InMemoryCatalog, testContext } from "../testing/test-context.js";
import { capiListClustersTool } from "./capi-list-clusters.js";

function fleetContext() {
  return testContext(sampleFleet().catalog);
}

function names(text: string): string[] {
  return text
    .split("\n")
    .slice(1)
    .map((line) => line.split(/\s+/)[0] ?? "")
    .filter((name) => name.includes("/"));
}

describe("capi_list_clusters", () => {
  it("lists only Cluster API clusters as a compact table, with counts in the footer", async () => {
    const result = await runTool(capiListClustersTool, {}, fleetContext());
    const lines = result.text.split("\n");
    expect(lines[0]?.split(/\s{2,}/)).toEqual([
      "NAME",
      "PHASE",
      "AVAILABLE/READY",
      "CONTROL PLANE",
      "WORKERS",
      "VERSION",
      "AGE",
    ]);
    expect(names(result.text)).toEqual([
      "org-acme/dev",
      "org-acme/prod",
      "org-globex/prod",
      "org-globex/slow",
      "org-initech/locked",
    ]);
    expect(result.text).not.toMatch(/^management/m);
    expect(lines[2]).toMatch(/^org-acme\/prod\s+Provisioned\s+True\s+3\/3\s+2\/2\s+v1\.32\.4\s+40d$/);
    expect(lines[3]).toMatch(/^org-globex\/prod\s+Provisioning\s+False\s+False\s+<none>\s+v1\.33\.1\s+40d$/);
    expect(result.text).toContain("5 clusters.\nAvailable: 4 yes, 1 no. Phases: Provisioned 4, Provisioning 1.");
    expect(result.text).toContain("This is the complete list.");
  });

  it("never lists clusters itself: the catalog's visible clusters are the whole truth", async () => {
    const { catalog, clusters } = sampleFleet();
    await runTool(capiListClustersTool, {}, testContext(catalog));
    for (const cluster of clusters.values()) expect(cluster.calls).toEqual([]);
  });

  it("filters by namespace, label selector, phase (any case) and availability", async () => {
    const context = fleetContext();
    expect(names((await runTool(capiListClustersTool, { namespace: "org-globex" }, context)).text)).toEqual([
      "org-globex/prod",
      "org-globex/slow",
    ]);
    const prod = await runTool(capiListClustersTool, { labelSelector: "env=prod,org notin (initech)" }, context);
    expect(names(prod.text)).toEqual(["org-acme/prod", "org-globex/prod"]);
    expect(prod.text).toContain("2 clusters (labels env=prod,org notin (initech)), of 5 you can see.");
    expect(
      names((await runTool(capiListClustersTool, { labelSelector: "region in (us),!deprecated" }, context)).text),
    ).toEqual(["org-globex/prod"]);
    expect(names((await runTool(capiListClustersTool, { phase: "provisioning" }, context)).text)).toEqual([
      "org-globex/prod",
    ]);
    const ready = await runTool(capiListClustersTool, { readyOnly: true, labelSelector: "env=prod" }, context);
    expect(names(ready.text)).toEqual(["org-acme/prod", "org-initech/locked"]);
  });

  it("says READY for a v1beta1-only fleet and AVAILABLE for a v1beta2 one", async () => {
    const old = fleetCatalog([{ cluster: { namespace: "a", name: "x", apiVersion: "v1beta1" } }]);
    expect((await runTool(capiListClustersTool, {}, testContext(old.catalog))).text).toMatch(/^NAME\s+PHASE\s+READY\s/);
    const current = fleetCatalog([{ cluster: { namespace: "a", name: "x" } }]);
    expect((await runTool(capiListClustersTool, {}, testContext(current.catalog))).text).toMatch(
      /^NAME\s+PHASE\s+AVAILABLE\s/,
    );
  });

  it("refuses an invalid label selector as invalid input", async () => {
    await expect(
      runTool(capiListClustersTool, { labelSelector: "env in (prod" }, fleetContext()),
    ).rejects.toMatchObject({
      code: "invalid_input",
    });
  });

  it("says plainly when nothing matches, and when nothing is visible at all", async () => {
    const none = await runTool(capiListClustersTool, { phase: "Deleting" }, fleetContext());
    expect(none.text).toBe("No Cluster API clusters match (phase Deleting); you can see 5 clusters in all.");
    const empty = new InMemoryCatalog([], { summaries: [{ name: "management" }] });
    expect((await runTool(capiListClustersTool, {}, testContext(empty))).text).toBe(
      "You can see no Cluster API clusters.",
    );
  });

  it("pages thousands of clusters 100 at a time in a compact answer, without repeats or gaps", async () => {
    const members = Array.from({ length: 2500 }, (_, index) => ({
      cluster: {
        namespace: `org-${String(index % 50).padStart(2, "0")}`,
        name: `cluster-${String(index).padStart(4, "0")}`,
        labels: { env: index % 2 === 0 ? "prod" : "dev" },
      },
    }));
    const context = testContext(fleetCatalog(members).catalog);
    const first = await runTool(capiListClustersTool, { labelSelector: "env=prod" }, context);
    expect(byteLength(first.text)).toBeLessThan(12_000);
    expect(names(first.text)).toHaveLength(100);
    expect(first.text).toContain("Clusters 1-100 of 1250 (labels env=prod), of 2500 you can see.");
    const seen = new Set(names(first.text));
    let token = first.structured?.continue;
    let pages = 1;
    while (typeof token === "string") {
      const page = await runTool(
        capiListClustersTool,
        { labelSelector: "env=prod", continue: token, limit: 500 },
        context,
      );
      for (const name of names(page.text)) {
        expect(seen.has(name)).toBe(false);
        seen.add(name);
      }
      token = page.structured?.continue;
      pages += 1;
      if (token === null) expect(page.text).toContain("This is the last page.");
    }
    expect(pages).toBe(4);
    expect(seen.size).toBe(1250);
  });

  it("fits a page to the budget whole with a small budget, so a walk at limit 500 shows every cluster exactly once", async () => {
    const members = Array.from({ length: 1200 }, (_, index) => ({
      cluster: {
        namespace: `org-${String(index % 30).padStart(2, "0")}`,
        name: `cluster-${String(index).padStart(4, "0")}`,
      },
    }));
    const context = testContext(fleetCatalog(members).catalog, { settings: { outputBudgetBytes: 8_000 } });
    const seen = new Map<string, number>();
    let token: unknown;
    let pages = 0;
    do {
      const page = await runTool(
        capiListClustersTool,
        { limit: 500, ...(token === undefined ? {} : { continue: token }) },
        context,
      );
      expect(byteLength(page.text)).toBeLessThanOrEqual(8_000);
      expect(page.text).not.toContain("[Truncated");
      for (const name of names(page.text)) seen.set(name, (seen.get(name) ?? 0) + 1);
      token = page.structured?.continue ?? undefined;
      pages += 1;
    } while (token !== undefined && pages < 500);
    expect(seen.size).toBe(1200);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(pages).toBeGreaterThan(3);
  });

  it("resumes after the last cluster shown even when clusters were added before it", async () => {
    const members = ["a", "c", "e"].map((name) => ({ cluster: { namespace: "org", name } }));
    const first = await runTool(capiListClustersTool, { limit: 2 }, testContext(fleetCatalog(members).catalog));
    expect(names(first.text)).toEqual(["org/a", "org/c"]);
    const grown = fleetCatalog([...members, { cluster: { namespace: "org", name: "b" } }]).catalog;
    const next = await runTool(
      capiListClustersTool,
      { limit: 2, continue: first.structured?.continue },
      testContext(grown),
    );
    expect(names(next.text)).toEqual(["org/e"]);
  });

  it("hands out a token that discloses no cluster name, however it is decoded", async () => {
    const first = await runTool(capiListClustersTool, { limit: 1 }, fleetContext());
    const token = first.structured?.continue;
    expect(typeof token).toBe("string");
    const shown = names(first.text);
    expect(shown).toHaveLength(1);
    const decodings = [token as string, ...(token as string).split(".")].flatMap((part) =>
      (["base64url", "base64", "hex"] as const).map((encoding) => Buffer.from(part, encoding).toString("latin1")),
    );
    for (const decoded of [token as string, ...decodings]) {
      for (const name of [...shown, ...shown.map((name) => name.split("/")[1] ?? name)]) {
        expect(decoded).not.toContain(name);
      }
    }
  });

  it("refuses an edited token, another user's or one from another filter with the list-again error, listing nothing", async () => {
    const catalog = sampleFleet().catalog;
    let listed = 0;
    const counting = Object.assign(Object.create(catalog) as typeof catalog, {
      list: async () => {
        listed += 1;
        return catalog.list();
      },
    });
    const context = testContext(counting, { caller: "alice" });
    const first = await runTool(capiListClustersTool, { limit: 1 }, context);
    const token = first.structured?.continue as string;
    const last = token.at(-1) === "A" ? "B" : "A";
    listed = 0;
    const refusals = [
      runTool(capiListClustersTool, { limit: 1, continue: `${token.slice(0, -1)}${last}` }, context),
      runTool(capiListClustersTool, { limit: 1, continue: token }, testContext(counting, { caller: "bob" })),
      runTool(capiListClustersTool, { limit: 1, phase: "Provisioned", continue: token }, context),
      runTool(capiListClustersTool, { limit: 1, readyOnly: true, continue: token }, context),
      runTool(capiListClustersTool, { continue: "bm9wZQ" }, context),
    ];
    for (const refusal of refusals) {
      await expect(refusal).rejects.toMatchObject({ code: "invalid_input" });
      await expect(refusal).rejects.toThrow(/List again from the start, without continue\./);
    }
    expect(listed).toBe(0);
    const resumed = await runTool(capiListClustersTool, { limit: 5, continue: token }, context);
    expect(names(resumed.text)).not.toContain(names(first.text)[0]);
  });
});
