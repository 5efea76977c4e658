import { describe, expect, it } from "vitest";
import { makePod } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { InMemoryCatalog, newSession, testContext } from "../testing/test-context.js";
import { getCurrentContextTool } from "./get-current-context.js";
import { getResourceTool } from "./get-resource.js";
import { listContextsTool } from "./list-contexts.js";
import { switchContextTool } from "./switch-context.js";

function catalog(): InMemoryCatalog {
  return new InMemoryCatalog(
    [
      new InMemoryCluster({ name: "dev", objects: [makePod({ name: "in-dev" })] }),
      new InMemoryCluster({ name: "prod", objects: [makePod({ name: "in-prod" })] }),
    ],
    {
      defaultCluster: "dev",
      summaries: [
        { name: "dev", server: "https://127.0.0.1:6443", namespace: "shop" },
        { name: "prod", server: "https://127.0.0.1:7443" },
      ],
    },
  );
}

describe("k8s_list_contexts", () => {
  it("lists the clusters and marks the default as current", async () => {
    const result = await runTool(listContextsTool, {}, testContext(catalog()));
    const lines = result.text.split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["CURRENT", "NAME", "SERVER", "NAMESPACE"]);
    expect(lines[1]).toMatch(/^\*\s+dev\s+https:\/\/127\.0\.0\.1:6443\s+shop$/);
    expect(lines[2]).toMatch(/^\s+prod\s+https:\/\/127\.0\.0\.1:7443\s+<none>$/);
    expect(result.text).toContain("Current: dev (the server's default).");
  });
});

describe("k8s_switch_context", () => {
  it("changes the current cluster of one session only", async () => {
    const clusters = catalog();
    const mine = newSession("mine");
    const theirs = newSession("theirs");
    const switched = await runTool(switchContextTool, { cluster: "prod" }, testContext(clusters, { session: mine }));
    expect(switched.text).toContain("Switched this session to cluster prod (was dev)");
    expect(mine.currentCluster).toBe("prod");
    expect(theirs.currentCluster).toBeUndefined();

    const mineGet = await runTool(
      getResourceTool,
      { resource: "pods", name: "in-prod" },
      testContext(clusters, { session: mine }),
    );
    expect(mineGet.target?.cluster).toBe("prod");
    await expect(
      runTool(getResourceTool, { resource: "pods", name: "in-prod" }, testContext(clusters, { session: theirs })),
    ).rejects.toMatchObject({ code: "not_found" });

    const listed = await runTool(listContextsTool, {}, testContext(clusters, { session: mine }));
    expect(listed.text).toMatch(/^\*\s+prod/m);
    expect(listed.text).toContain("Current: prod (switched in this session).");
  });

  it("leaves the session unchanged for an unknown or forbidden cluster", async () => {
    const session = newSession();
    const call = runTool(switchContextTool, { cluster: "staging" }, testContext(catalog(), { session }));
    await expect(call).rejects.toMatchObject({ code: "cluster_not_found" });
    expect(session.currentCluster).toBeUndefined();
  });

  it("requires a cluster", () => {
    expect(switchContextTool.input.safeParse({}).success).toBe(false);
  });

  it("an explicit cluster argument beats the session's current cluster", async () => {
    const session = newSession();
    session.currentCluster = "prod";
    const result = await runTool(
      getResourceTool,
      { cluster: "dev", resource: "pods", name: "in-dev" },
      testContext(catalog(), { session }),
    );
    expect(result.target?.cluster).toBe("dev");
  });
});

describe("k8s_get_current_context", () => {
  it("names the default, then the session's choice", async () => {
    const session = newSession();
    const clusters = catalog();
    expect((await runTool(getCurrentContextTool, {}, testContext(clusters, { session }))).text).toBe(
      "Current cluster: dev (the server's default).",
    );
    session.currentCluster = "prod";
    expect((await runTool(getCurrentContextTool, {}, testContext(clusters, { session }))).text).toBe(
      "Current cluster: prod (switched in this session).",
    );
  });

  it("says how to choose when there is no cluster at all", async () => {
    const result = await runTool(
      getCurrentContextTool,
      {},
      testContext(new InMemoryCatalog([], { defaultCluster: undefined })),
    );
    expect(result.text).toContain("No current cluster");
    expect(result.text).toContain("k8s_switch_context");
  });
});
