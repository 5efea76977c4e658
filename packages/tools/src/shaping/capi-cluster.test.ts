import { describe, expect, it } from "vitest";
import { makeCapiCluster } from "../testing/fleet.js";
import {
  capiConditions,
  clusterAvailability,
  failure,
  initialization,
  partCell,
  replicaCounts,
  servedCapiVersion,
  sortConditionsForReading,
  topologyVersion,
} from "./capi-cluster.js";

const v1beta2 = makeCapiCluster({ namespace: "org-acme", name: "dev", available: false, version: "v1.33.1" });
const v1beta1 = makeCapiCluster({ namespace: "org-globex", name: "prod", apiVersion: "v1beta1", available: false });

describe("Cluster API objects, v1beta2 and v1beta1", () => {
  it("tells the served version from apiVersion, and from the conditions when it is missing", () => {
    expect(servedCapiVersion(v1beta2)).toBe("v1beta2");
    expect(servedCapiVersion(v1beta1)).toBe("v1beta1");
    const { apiVersion: _v1, ...withoutVersion } = v1beta1;
    expect(servedCapiVersion(withoutVersion)).toBe("v1beta1");
  });

  it("reads v1beta2 conditions from status and v1beta1 ones from status.deprecated.v1beta1", () => {
    const conditions = capiConditions(v1beta2);
    expect(conditions.v1beta2.map((condition) => condition.type)).toContain("ControlPlaneAvailable");
    expect(conditions.v1beta1.map((condition) => condition.type)).toEqual([
      "Ready",
      "ControlPlaneReady",
      "InfrastructureReady",
    ]);
  });

  it("reads a v1beta1-served object's own conditions from status, with severity, and its v1beta2 ones from status.v1beta2", () => {
    const served = capiConditions(v1beta1);
    expect(served.v1beta1[0]).toMatchObject({ type: "Ready", status: "False", severity: "Warning" });
    expect(served.v1beta2).toEqual([]);
    const withNew = structuredClone(v1beta1);
    (withNew.status as Record<string, unknown>).v1beta2 = {
      conditions: [{ type: "Available", status: "True" }],
      controlPlane: { desiredReplicas: 3, availableReplicas: 2 },
    };
    expect(capiConditions(withNew).v1beta2.map((condition) => condition.type)).toEqual(["Available"]);
    expect(clusterAvailability(withNew)).toEqual({ source: "Available", status: "True" });
    expect(partCell(withNew, "controlPlane")).toBe("2/3");
  });

  it("takes availability from Available, else from v1beta1 Ready", () => {
    expect(clusterAvailability(v1beta2)).toEqual({ source: "Available", status: "False" });
    expect(clusterAvailability(v1beta1)).toEqual({ source: "Ready", status: "False" });
    expect(clusterAvailability({ kind: "Cluster" })).toEqual({ source: undefined, status: undefined });
  });

  it("counts control plane and workers from status.controlPlane/workers, else says what the conditions say", () => {
    expect(partCell(v1beta2, "controlPlane")).toBe("1/3");
    expect(partCell(v1beta2, "workers")).toBe("2/2");
    expect(replicaCounts(v1beta2, "controlPlane")).toMatchObject({ desired: 3, available: 1, upToDate: 3 });
    expect(partCell(v1beta1, "controlPlane")).toBe("False");
    expect(partCell(v1beta1, "workers")).toBeUndefined();
  });

  it("reads initialization in either shape, the version and the v1beta1 failure", () => {
    expect(initialization(v1beta2)).toEqual({ infrastructureProvisioned: true, controlPlaneInitialized: true });
    expect(initialization(v1beta1)).toEqual({ infrastructureProvisioned: true, controlPlaneInitialized: false });
    expect(topologyVersion(v1beta2)).toBe("v1.33.1");
    const failed = structuredClone(v1beta2);
    (failed.status as { deprecated: { v1beta1: Record<string, unknown> } }).deprecated.v1beta1.failureReason =
      "InvalidConfiguration";
    expect(failure(failed).reason).toBe("InvalidConfiguration");
  });

  it("sorts failing before unknown before under way before fine, and knows negative polarity", () => {
    const sorted = sortConditionsForReading(
      [
        { type: "Available", status: "True" },
        { type: "RollingOut", status: "True" },
        { type: "Paused", status: "False" },
        { type: "WorkersAvailable", status: "Unknown" },
        { type: "ControlPlaneAvailable", status: "False" },
      ].map((condition) => ({
        ...condition,
        reason: undefined,
        message: undefined,
        severity: undefined,
        lastTransitionTime: undefined,
      })),
    );
    expect(sorted.map((condition) => condition.type)).toEqual([
      "ControlPlaneAvailable",
      "WorkersAvailable",
      "RollingOut",
      "Available",
      "Paused",
    ]);
  });
});
