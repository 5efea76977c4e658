import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { fleetCatalog, sampleFleet } from "../testing/fleet.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { capiClusterHealthTool } from "./capi-cluster-health.js";

const day = 24 * 60 * 60_000;

function failingAcme() {
  return fleetCatalog([
    {
      cluster: {
        namespace: "org-acme",
        name: "dev",
        available: false,
        conditions: [
          { type: "Available", status: "False", reason: "NotAvailable", message: "ControlPlaneAvailable is False" },
          { type: "InfrastructureReady", status: "True", reason: "Ready" },
          { type: "RollingOut", status: "True", reason: "RollingOut", message: "Rolling out 1 machine" },
          {
            type: "ControlPlaneAvailable",
            status: "False",
            reason: "NotAvailable",
            message: "* Machine dev-cp-1:\n  * NodeHealthy: Node not ready",
          },
          { type: "WorkersAvailable", status: "Unknown", reason: "NoReports" },
          { type: "RemoteConnectionProbe", status: "True", reason: "ProbeSucceeded" },
        ],
      },
    },
  ]);
}

describe("capi_cluster_health", () => {
  it("leads with phase and availability, names what needs attention, and puts failing v1beta2 conditions first", async () => {
    const result = await runTool(
      capiClusterHealthTool,
      { cluster: "org-acme/dev" },
      testContext(failingAcme().catalog),
    );
    const lines = result.text.split("\n");
    expect(lines[0]).toBe("Cluster org-acme/dev (cluster.x-k8s.io/v1beta2): phase Provisioned, Available False.");
    expect(lines[1]).toBe(
      "Needs attention: Available False, ControlPlaneAvailable False, WorkersAvailable Unknown, RollingOut True (v1beta2); Ready False, ControlPlaneReady False (v1beta1).",
    );
    const table = lines.slice(lines.indexOf("Conditions (v1beta2):") + 2, lines.indexOf("Conditions (v1beta2):") + 8);
    expect(table.map((line) => line.split(/\s+/)[0])).toEqual([
      "Available",
      "ControlPlaneAvailable",
      "WorkersAvailable",
      "RollingOut",
      "InfrastructureReady",
      "RemoteConnectionProbe",
    ]);
    expect(table[1]).toMatch(/NotAvailable\s+<unknown>\s+\* Machine dev-cp-1: \* NodeHealthy: Node not ready$/);
    expect(result.structured).toMatchObject({ available: "False", servedVersion: "v1beta2" });
  });

  it("reports initialization and replica counts, and the deprecated v1beta1 conditions with severity", async () => {
    const result = await runTool(
      capiClusterHealthTool,
      { cluster: "org-acme/dev" },
      testContext(failingAcme().catalog),
    );
    expect(result.text).toContain("Infrastructure: provisioned. Control plane: initialized.");
    expect(result.text).toContain("Control plane machines: 3 desired, 3 current, 1 ready, 1 available, 3 up to date.");
    expect(result.text).toContain("Worker machines: 2 desired, 2 current, 2 ready, 2 available, 2 up to date.");
    expect(result.text).toMatch(
      /Conditions \(v1beta1, deprecated\):\nTYPE\s+STATUS\s+SEVERITY\s+REASON\s+AGE\s+MESSAGE\nReady\s+False\s+Warning\s+NotReady/,
    );
  });

  it("reads a v1beta1-served cluster from status.conditions and its ready flags", async () => {
    const result = await runTool(
      capiClusterHealthTool,
      { cluster: "org-globex/prod" },
      testContext(sampleFleet().catalog),
    );
    expect(result.text.split("\n")[0]).toBe(
      "Cluster org-globex/prod (cluster.x-k8s.io/v1beta1): phase Provisioning, Ready False.",
    );
    expect(result.text).toContain("Needs attention: Ready False, ControlPlaneReady False (v1beta1).");
    expect(result.text).toContain("Infrastructure: ready. Control plane: NOT ready.");
    expect(result.text).toContain("Conditions (v1beta1):");
    expect(result.text).not.toContain("Conditions (v1beta2)");
  });

  it("says so when nothing needs attention, and does not touch the workload cluster without probe", async () => {
    const { catalog, clusters } = fleetCatalog([
      {
        cluster: {
          namespace: "org-acme",
          name: "dev",
          conditions: [
            { type: "Available", status: "True" },
            { type: "Paused", status: "False" },
          ],
        },
      },
    ]);
    const result = await runTool(capiClusterHealthTool, { cluster: "dev" }, testContext(catalog));
    expect(result.text).toContain("No condition needs attention.");
    expect(clusters.get("org-acme/dev")?.calls).toEqual([]);
    expect(result.structured).toMatchObject({ probe: null });
  });

  it("probes the workload cluster's API server on request", async () => {
    const { catalog, clusters } = sampleFleet();
    const result = await runTool(
      capiClusterHealthTool,
      { cluster: "org-acme/prod", probe: true },
      testContext(catalog),
    );
    expect(clusters.get("org-acme/prod")?.callsTo("health")).toHaveLength(1);
    expect(
      result.text.endsWith(
        "Workload cluster probe: reachable, Kubernetes v1.20.2; readiness checks: all 2 pass; nodes: 3 of 3 ready.",
      ),
    ).toBe(true);
  });

  it("reports an unreachable, forbidden or silent workload cluster instead of failing, within the fan-out timeout", async () => {
    const { catalog } = fleetCatalog([
      {
        cluster: { namespace: "a", name: "down" },
        access: { health: { reachable: false, checks: [], error: "connection refused" } },
      },
      {
        cluster: { namespace: "a", name: "denied" },
        access: { failure: new GatewayError("forbidden", "Forbidden: you may not get /readyz on cluster a/denied.") },
      },
      { cluster: { namespace: "a", name: "silent" }, access: { latencyMilliseconds: "never" } },
    ]);
    const context = testContext(catalog, { settings: { fanoutTimeoutMilliseconds: 100 } });
    const down = await runTool(capiClusterHealthTool, { cluster: "a/down", probe: true }, context);
    expect(down.text).toContain("Workload cluster probe: UNREACHABLE (connection refused).");
    const denied = await runTool(capiClusterHealthTool, { cluster: "a/denied", probe: true }, context);
    expect(denied.text).toContain(
      "Workload cluster probe failed: Forbidden: you may not get /readyz on cluster a/denied.",
    );
    const started = Date.now();
    const silent = await runTool(capiClusterHealthTool, { cluster: "a/silent", probe: true }, context);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(silent.text).toContain("Workload cluster probe failed: Timed out after 100 ms.");
    expect(silent.structured).toMatchObject({ probe: { reachable: false } });
  });

  it("shows the v1beta1 failure reason and a paused cluster", async () => {
    const { catalog } = fleetCatalog([{ cluster: { namespace: "a", name: "broken", ageMilliseconds: day } }]);
    const [, summary] = await catalog.list();
    const object = summary?.clusterObject as {
      spec: Record<string, unknown>;
      status: { deprecated: { v1beta1: Record<string, unknown> } };
    };
    object.spec.paused = true;
    object.status.deprecated.v1beta1.failureReason = "InvalidConfiguration";
    object.status.deprecated.v1beta1.failureMessage = "the control plane endpoint is missing";
    const result = await runTool(capiClusterHealthTool, { cluster: "a/broken" }, testContext(catalog));
    expect(result.text).toContain("Failure: InvalidConfiguration: the control plane endpoint is missing.");
    expect(result.text).toContain("Paused: spec.paused is true");
  });
});

describe("capi_cluster_health on a healthy v1beta2 cluster", () => {
  it("sums up the deprecated v1beta1 conditions in one line when they are all True", async () => {
    const result = await runTool(
      capiClusterHealthTool,
      { cluster: "org-acme/prod" },
      testContext(sampleFleet().catalog),
    );
    expect(result.text).toContain(
      "Conditions (v1beta1, deprecated): all 3 True (Ready, ControlPlaneReady, InfrastructureReady).",
    );
    expect(result.text).not.toContain("SEVERITY");
  });
});
