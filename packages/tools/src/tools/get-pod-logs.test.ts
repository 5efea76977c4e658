import { describe, expect, it } from "vitest";
import { byteLength } from "../shaping/budget.js";
import { makePod } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { getPodLogsTool } from "./get-pod-logs.js";

const logLines = Array.from(
  { length: 1000 },
  (_, index) => `2026-11-21T06:00:00Z level=info request=${index} path=/api/orders`,
);

function cluster(): InMemoryCluster {
  return new InMemoryCluster({
    name: "dev",
    objects: [
      makePod({
        name: "api-1",
        namespace: "shop",
        containers: [
          { name: "app", image: "app:1" },
          { name: "proxy", image: "envoy:1" },
        ],
      }),
    ],
    logs: {
      "shop/api-1/app": `${logLines.join("\n")}\n`,
      "shop/api-1/app/previous": "panic: out of memory\n",
      "shop/api-1/proxy": "",
    },
  });
}

describe("k8s_get_pod_logs", () => {
  it("asks for the server's default tail and byte limit and says what it returns", async () => {
    const dev = cluster();
    const result = await runTool(
      getPodLogsTool,
      { name: "api-1", namespace: "shop" },
      testContext([dev], { settings: { logDefaultTailLines: 5 } }),
    );
    expect(dev.callsTo("logs")[0]?.arguments[0]).toMatchObject({ tailLines: 5, limitBytes: 50_000, previous: false });
    const lines = result.text.split("\n");
    expect(lines.slice(0, 5)).toEqual(logLines.slice(-5));
    expect(lines[5]).toBe("5 log lines from pod shop/api-1 (last 5 lines).");
  });

  it("passes container, previous, sinceSeconds and timestamps through", async () => {
    const dev = cluster();
    const result = await runTool(
      getPodLogsTool,
      {
        name: "api-1",
        namespace: "shop",
        container: "app",
        previous: true,
        sinceSeconds: 600,
        timestamps: true,
        tailLines: 50,
      },
      testContext([dev]),
    );
    expect(dev.callsTo("logs")[0]?.arguments[0]).toMatchObject({
      container: "app",
      previous: true,
      sinceSeconds: 600,
      timestamps: true,
      tailLines: 50,
    });
    expect(result.text).toContain("panic: out of memory");
    expect(result.text).toContain("container app (previous instance)");
  });

  it("says when the log was cut at the size limit and how to narrow it", async () => {
    const result = await runTool(
      getPodLogsTool,
      { name: "api-1", namespace: "shop", tailLines: 1000 },
      testContext([cluster()], { settings: { logMaxBytes: 2000 } }),
    );
    expect(result.text).toContain("[Truncated: the log was cut at 2000 bytes");
    expect(result.text).toContain("tailLines");
    expect(result.text).toContain("sinceSeconds");
    expect(result.structured).toMatchObject({ truncated: true });
  });

  it("keeps the answer within the output budget even when the log limit is larger", async () => {
    const result = await runTool(
      getPodLogsTool,
      { name: "api-1", namespace: "shop", tailLines: 1000 },
      testContext([cluster()], { settings: { logMaxBytes: 1_000_000, outputBudgetBytes: 5000 } }),
    );
    expect(byteLength(result.text)).toBeLessThanOrEqual(5000);
    expect(result.text).toMatch(/\[Truncated: .*smaller tailLines/);
  });

  it("says so when a container has logged nothing", async () => {
    const result = await runTool(
      getPodLogsTool,
      { name: "api-1", namespace: "shop", container: "proxy" },
      testContext([cluster()]),
    );
    expect(result.text.split("\n")[0]).toBe("(no log lines)");
  });
});
