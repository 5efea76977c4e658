import { describe, expect, it } from "vitest";
import { byteLength } from "../shaping/budget.js";
import { makeEvent } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { listEventsTool } from "./list-events.js";

const minute = 60_000;

function cluster(): InMemoryCluster {
  return new InMemoryCluster({
    name: "dev",
    objects: [
      makeEvent({
        name: "old",
        namespace: "shop",
        object: { kind: "Pod", name: "web-1" },
        reason: "Scheduled",
        message: "Successfully assigned shop/web-1 to worker-1",
        agoMilliseconds: 90 * minute,
      }),
      makeEvent({
        name: "newest",
        namespace: "shop",
        object: { kind: "Pod", name: "web-2" },
        reason: "BackOff",
        message: "Back-off restarting failed container",
        type: "Warning",
        agoMilliseconds: minute,
      }),
      makeEvent({
        name: "middle",
        namespace: "kube-system",
        object: { kind: "Node", name: "worker-1" },
        reason: "NodeNotReady",
        message: "Node worker-1 status is now: NodeNotReady",
        type: "Warning",
        agoMilliseconds: 10 * minute,
      }),
    ],
  });
}

describe("k8s_list_events", () => {
  it("lists events across namespaces newest first as a compact table", async () => {
    const result = await runTool(listEventsTool, {}, testContext([cluster()]));
    const lines = result.text.split("\n");
    expect(lines[0]?.split(/\s{2,}/)).toEqual([
      "NAMESPACE",
      "LAST SEEN",
      "TYPE",
      "REASON",
      "OBJECT",
      "COUNT",
      "MESSAGE",
    ]);
    expect(lines.slice(1, 4).map((line) => line.split(/\s{2,}/)[3])).toEqual(["BackOff", "NodeNotReady", "Scheduled"]);
    expect(lines[1]).toContain("pod/web-2");
    expect(result.text).toContain("3 events across all namespaces.");
  });

  it("builds one field selector from object, type and extra filters", async () => {
    const dev = cluster();
    const result = await runTool(
      listEventsTool,
      {
        namespace: "shop",
        involvedObjectName: "web-2",
        involvedObjectKind: "Pod",
        types: ["Warning"],
        fieldSelector: "reason=BackOff",
      },
      testContext([dev]),
    );
    expect(dev.callsTo("list")[0]?.arguments[1]).toMatchObject({
      namespace: "shop",
      fieldSelector: "involvedObject.name=web-2,involvedObject.kind=Pod,type=Warning,reason=BackOff",
    });
    expect(result.text.split("\n")[0]?.startsWith("LAST SEEN")).toBe(true);
    expect(result.text).toContain("1 event in namespace shop.");
  });

  it("does not filter by type when both types are asked for", async () => {
    const dev = cluster();
    await runTool(listEventsTool, { types: ["Normal", "Warning"] }, testContext([dev]));
    expect(dev.callsTo("list")[0]?.arguments[1]).toMatchObject({ fieldSelector: undefined });
  });

  it("shows only the newest `limit` events and says how many matched", async () => {
    const result = await runTool(listEventsTool, { limit: 1 }, testContext([cluster()]));
    expect(result.text).toContain("Back-off restarting failed container");
    expect(result.text).not.toContain("NodeNotReady");
    expect(result.text).toContain("The 1 newest of 3 matching events across all namespaces.");
  });

  it("reads several pages before sorting and says when it had to stop", async () => {
    const many = Array.from({ length: 2100 }, (_, index) =>
      makeEvent({
        name: `e-${index}`,
        namespace: "shop",
        object: { kind: "Pod", name: `p-${index}` },
        reason: "Pulled",
        message: `event ${index}`,
        agoMilliseconds: (index + 1) * 1000,
      }),
    );
    const dev = new InMemoryCluster({ name: "dev", objects: many });
    const result = await runTool(listEventsTool, { namespace: "shop", limit: 5 }, testContext([dev]));
    expect(dev.callsTo("list")).toHaveLength(4);
    expect(result.text).toContain("Only the first 2000 events were read");
    expect(result.structured).toMatchObject({ complete: false, matched: 2000 });
  });

  it("says when there are none", async () => {
    const result = await runTool(listEventsTool, { namespace: "empty" }, testContext([cluster()]));
    expect(result.text).toBe("No events in namespace empty match.");
  });
  it("shows only the newest events that fit the budget whole, never a cut row, and says so", async () => {
    const many = Array.from({ length: 300 }, (_, index) =>
      makeEvent({
        name: `event-${index}`,
        namespace: "shop",
        object: { kind: "Pod", name: `web-${index}` },
        reason: "BackOff",
        message: `Back-off restarting failed container number ${index} ${"in a long message ".repeat(4)}`,
        type: "Warning",
        agoMilliseconds: index * minute,
      }),
    );
    for (const budget of [3_000, 8_000, 20_000]) {
      const result = await runTool(
        listEventsTool,
        { namespace: "shop", limit: 300 },
        testContext([new InMemoryCluster({ name: "dev", objects: many })], { settings: { outputBudgetBytes: budget } }),
      );
      expect(byteLength(result.text)).toBeLessThanOrEqual(budget);
      expect(result.text).not.toContain("[Truncated");
      const shown = Number(result.structured?.count);
      expect(result.text).toContain(`Only ${shown} of the 300 asked for fit the answer budget.`);
      // The newest first, none skipped: web-0 .. web-(shown-1), each on one whole row.
      for (let index = 0; index < shown; index++) expect(result.text).toMatch(new RegExp(`pod/web-${index}\\s`));
      expect(result.text).not.toMatch(new RegExp(`pod/web-${shown}\\s`));
    }
  });
});
