import type { ApiResource } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { standardApiResources } from "../testing/api-resources.js";
import { generatePods, makeDeployment, makeNode, makePod, makeService } from "../testing/fixtures.js";
import { byteLength } from "./budget.js";
import { podStatus } from "./pod-status.js";
import { renderResourceTable } from "./resource-table.js";

function resourceNamed(plural: string, group = ""): ApiResource {
  const resource = standardApiResources.find((entry) => entry.resource === plural && entry.group === group);
  if (resource === undefined) throw new Error(plural);
  return resource;
}

describe("renderResourceTable", () => {
  it("shows kubectl's default pod columns: READY, STATUS, RESTARTS and AGE", () => {
    const table = renderResourceTable(
      resourceNamed("pods"),
      [
        makePod({ name: "web-1", node: "worker-2", restarts: 2 }),
        makePod({ name: "web-2", ready: false, restarts: 9, waitingReason: "CrashLoopBackOff" }),
      ],
      { showNamespace: false },
    );
    const [header, first, second] = table.split("\n");
    expect(header?.split(/\s+/)).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    expect(first?.split(/\s+/)).toEqual(["web-1", "1/1", "Running", "2", "3d"]);
    expect(second?.split(/\s+/)).toEqual(["web-2", "0/1", "CrashLoopBackOff", "9", "3d"]);
  });

  it("adds a NAMESPACE column first when listing across namespaces", () => {
    const table = renderResourceTable(resourceNamed("pods"), [makePod({ name: "a", namespace: "shop" })], {
      showNamespace: true,
    });
    expect(table.split("\n")[1]?.startsWith("shop  ")).toBe(true);
  });

  it("shows READY, UP-TO-DATE and AVAILABLE for deployments", () => {
    const table = renderResourceTable(resourceNamed("deployments", "apps"), [makeDeployment("api", "shop", 3, 2)], {
      showNamespace: false,
    });
    const [header, row] = table.split("\n");
    expect(header?.split(/\s+/)).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    expect(row?.split(/\s+/)).toEqual(["api", "2/3", "3", "2", "10d"]);
  });

  it("shows STATUS, ROLES and VERSION for nodes and TYPE, CLUSTER-IP and PORTS for services", () => {
    const nodes = renderResourceTable(
      resourceNamed("nodes"),
      [makeNode("cp-1", { roles: ["control-plane"] }), makeNode("w-1", { ready: false })],
      { showNamespace: false },
    );
    expect(nodes).toContain("cp-1  Ready     control-plane  v1.20.2");
    expect(nodes).toContain("w-1   NotReady  <none>         v1.20.2");
    const services = renderResourceTable(resourceNamed("services"), [makeService("web", "shop")], {
      showNamespace: false,
    });
    expect(services.split("\n")[1]?.split(/\s+/)).toEqual(["web", "ClusterIP", "10.96.14.3", "80/TCP", "20d"]);
  });

  it("shows the phase of Cluster API clusters", () => {
    const table = renderResourceTable(
      resourceNamed("clusters", "cluster.x-k8s.io"),
      [
        {
          apiVersion: "cluster.x-k8s.io/v1beta2",
          kind: "Cluster",
          metadata: { name: "prod", namespace: "org-acme" },
          status: { phase: "Provisioned", conditions: [{ type: "Available", status: "True" }] },
        },
      ],
      { showNamespace: false },
    );
    expect(table.split("\n")[0]).toContain("PHASE");
    expect(table.split("\n")[1]).toContain("Provisioned");
  });

  it("gives unknown kinds the common status fields that their objects actually have", () => {
    const widget: ApiResource = { ...resourceNamed("pods"), group: "example.com", resource: "widgets", kind: "Widget" };
    const table = renderResourceTable(
      widget,
      [{ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, status: { phase: "Ready" } }],
      { showNamespace: false },
    );
    expect(table.split("\n")[0]?.split(/\s+/)).toEqual(["NAME", "PHASE", "AGE"]);
  });

  it("keeps a 500-pod table compact", () => {
    const table = renderResourceTable(resourceNamed("pods"), generatePods(500), { showNamespace: false });
    expect(table.split("\n")).toHaveLength(501);
    expect(byteLength(table)).toBeLessThan(60_000);
  });
});

describe("podStatus", () => {
  it("reports Terminating for a pod being deleted and init progress before containers start", () => {
    const deleting = makePod({ name: "a" });
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" };
    expect(podStatus(deleting)).toBe("Terminating");
    const initializing = makePod({ name: "b", phase: "Pending" });
    initializing.spec = { ...(initializing.spec as object), initContainers: [{ name: "migrate" }] };
    initializing.status = {
      ...(initializing.status as object),
      initContainerStatuses: [{ name: "migrate", state: { running: {} } }],
    };
    expect(podStatus(initializing)).toBe("Init:0/1");
  });
});
