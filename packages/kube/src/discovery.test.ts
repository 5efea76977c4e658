import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import {
  type ApiResourceListDocument,
  buildDiscoveryDocument,
  type DiscoveredGroup,
  findResource,
  resolveResource,
} from "./discovery.js";

// A trimmed copy of what a 1.20 API server with the Cluster API CRD answers, plus a hostile CRD
// group that claims built-in short names and kinds.
const groups: DiscoveredGroup[] = [
  { name: "", versions: ["v1"] },
  { name: "apps", versions: ["v1"] },
  { name: "events.k8s.io", versions: ["v1", "v1beta1"] },
  { name: "autoscaling", versions: ["v1", "v2beta2"] },
  { name: "cluster.x-k8s.io", versions: ["v1beta2", "v1beta1"] },
  { name: "evil.example.com", versions: ["v1"] },
];

const verbs = ["create", "delete", "get", "list", "patch", "update", "watch"];

const lists: ApiResourceListDocument[] = [
  {
    groupVersion: "v1",
    resources: [
      { name: "pods", singularName: "", namespaced: true, kind: "Pod", verbs, shortNames: ["po"], categories: ["all"] },
      { name: "pods/exec", singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"] },
      { name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] },
      { name: "pods/status", singularName: "", namespaced: true, kind: "Pod", verbs: ["get", "patch", "update"] },
      { name: "configmaps", singularName: "", namespaced: true, kind: "ConfigMap", verbs, shortNames: ["cm"] },
      { name: "namespaces", singularName: "", namespaced: false, kind: "Namespace", verbs, shortNames: ["ns"] },
      { name: "services", singularName: "", namespaced: true, kind: "Service", verbs, shortNames: ["svc"] },
      { name: "events", singularName: "", namespaced: true, kind: "Event", verbs, shortNames: ["ev"] },
    ],
  },
  {
    groupVersion: "apps/v1",
    resources: [
      { name: "deployments", singularName: "", namespaced: true, kind: "Deployment", verbs, shortNames: ["deploy"] },
      {
        name: "deployments/scale",
        singularName: "",
        namespaced: true,
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      },
      { name: "deployments/status", singularName: "", namespaced: true, kind: "Deployment", verbs: ["get"] },
      { name: "statefulsets", singularName: "", namespaced: true, kind: "StatefulSet", verbs, shortNames: ["sts"] },
      { name: "statefulsets/scale", singularName: "", namespaced: true, kind: "Scale", verbs: ["get", "patch"] },
    ],
  },
  {
    groupVersion: "events.k8s.io/v1",
    resources: [{ name: "events", singularName: "", namespaced: true, kind: "Event", verbs, shortNames: ["ev"] }],
  },
  {
    groupVersion: "events.k8s.io/v1beta1",
    resources: [{ name: "events", singularName: "", namespaced: true, kind: "Event", verbs, shortNames: ["ev"] }],
  },
  {
    groupVersion: "autoscaling/v1",
    resources: [
      {
        name: "horizontalpodautoscalers",
        singularName: "",
        namespaced: true,
        kind: "HorizontalPodAutoscaler",
        verbs,
        shortNames: ["hpa"],
      },
    ],
  },
  {
    groupVersion: "autoscaling/v2beta2",
    resources: [
      {
        name: "horizontalpodautoscalers",
        singularName: "",
        namespaced: true,
        kind: "HorizontalPodAutoscaler",
        verbs,
        shortNames: ["hpa"],
      },
    ],
  },
  {
    groupVersion: "cluster.x-k8s.io/v1beta2",
    resources: [
      {
        name: "clusters",
        singularName: "cluster",
        namespaced: true,
        kind: "Cluster",
        verbs,
        shortNames: ["cl"],
        categories: ["cluster-api"],
      },
      { name: "clusters/status", singularName: "", namespaced: true, kind: "Cluster", verbs: ["get", "patch"] },
      {
        name: "machinedeployments",
        singularName: "machinedeployment",
        namespaced: true,
        kind: "MachineDeployment",
        verbs,
        shortNames: ["md"],
      },
      { name: "machinedeployments/scale", singularName: "", namespaced: true, kind: "Scale", verbs: ["get", "patch"] },
    ],
  },
  {
    groupVersion: "cluster.x-k8s.io/v1beta1",
    resources: [
      { name: "clusters", singularName: "cluster", namespaced: true, kind: "Cluster", verbs, shortNames: ["cl"] },
      { name: "oldthings", singularName: "oldthing", namespaced: true, kind: "OldThing", verbs },
    ],
  },
  {
    groupVersion: "evil.example.com/v1",
    resources: [
      { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs, shortNames: ["po", "deploy", "cm"] },
      { name: "widgets", singularName: "widget", namespaced: false, kind: "Widget", verbs, shortNames: ["wd"] },
      // A plural equal to a built-in short name: an exact match, but in a custom group.
      { name: "svc", singularName: "svc", namespaced: true, kind: "Svc", verbs },
    ],
  },
];

const document = buildDiscoveryDocument(groups, new Map(lists.map((list) => [list.groupVersion, list])));

function resolve(resource: string, apiVersion?: string) {
  const found = resolveResource(
    document,
    apiVersion === undefined ? { resource } : { resource, apiVersion },
    "org-acme/dev",
  );
  return `${found.group || "core"}/${found.version}/${found.resource}`;
}

function failure(resource: string, apiVersion?: string): GatewayError {
  try {
    resolveResource(document, apiVersion === undefined ? { resource } : { resource, apiVersion }, "org-acme/dev");
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error(`${resource} resolved`);
}

describe("resource resolution", () => {
  it.each([
    ["deployments", "apps/v1/deployments"],
    ["deployment", "apps/v1/deployments"],
    ["Deployment", "apps/v1/deployments"],
    ["DEPLOYMENT", "apps/v1/deployments"],
    ["deploy", "apps/v1/deployments"],
    ["po", "core/v1/pods"],
    ["Pod", "core/v1/pods"],
    ["cm", "core/v1/configmaps"],
    ["svc", "core/v1/services"],
    ["ns", "core/v1/namespaces"],
    ["cl", "cluster.x-k8s.io/v1beta2/clusters"],
    ["Cluster", "cluster.x-k8s.io/v1beta2/clusters"],
    ["md", "cluster.x-k8s.io/v1beta2/machinedeployments"],
    ["hpa", "autoscaling/v1/horizontalpodautoscalers"],
    ["wd", "evil.example.com/v1/widgets"],
  ])("resolves %j like kubectl, to %s", (name, expected) => {
    expect(resolve(name)).toBe(expected);
  });

  it("resolves resource.group and resource.version.group", () => {
    expect(resolve("deployments.apps")).toBe("apps/v1/deployments");
    expect(resolve("clusters.cluster.x-k8s.io")).toBe("cluster.x-k8s.io/v1beta2/clusters");
    expect(resolve("clusters.v1beta1.cluster.x-k8s.io")).toBe("cluster.x-k8s.io/v1beta1/clusters");
    expect(resolve("events.events.k8s.io")).toBe("events.k8s.io/v1/events");
    expect(resolve("pods.evil.example.com")).toBe("evil.example.com/v1/pods");
  });

  it("prefers the core group for a name two groups serve, as kubectl does", () => {
    expect(resolve("events")).toBe("core/v1/events");
    expect(resolve("ev")).toBe("core/v1/events");
  });

  it("never lets a custom resource take over a built-in name or short name", () => {
    expect(resolve("pods")).toBe("core/v1/pods");
    expect(resolve("pod")).toBe("core/v1/pods");
    expect(resolve("deploy")).toBe("apps/v1/deployments");
    expect(resolve("cm")).toBe("core/v1/configmaps");
    expect(resolve("svc")).toBe("core/v1/services");
    expect(resolve("svc.evil.example.com")).toBe("evil.example.com/v1/svc");
  });

  it("uses the group's preferred version, and apiVersion pins another one", () => {
    expect(resolve("clusters")).toBe("cluster.x-k8s.io/v1beta2/clusters");
    expect(resolve("clusters", "cluster.x-k8s.io/v1beta1")).toBe("cluster.x-k8s.io/v1beta1/clusters");
    expect(resolve("hpa", "autoscaling/v2beta2")).toBe("autoscaling/v2beta2/horizontalpodautoscalers");
    expect(resolve("events", "events.k8s.io/v1beta1")).toBe("events.k8s.io/v1beta1/events");
    expect(resolve("Pod", "v1")).toBe("core/v1/pods");
  });

  it("finds a resource served only in a version that is not preferred", () => {
    expect(resolve("oldthings")).toBe("cluster.x-k8s.io/v1beta1/oldthings");
  });

  it("folds subresources into their parent instead of listing them as resources", () => {
    const deployments = resolveResource(document, { resource: "deployments" }, "c");
    expect(deployments.subresources).toEqual(["scale", "status"]);
    const pods = resolveResource(document, { resource: "pods" }, "c");
    expect(pods.subresources).toEqual(["exec", "log", "status"]);
    expect(document.all.some((resource) => resource.resource.includes("/"))).toBe(false);
  });

  it("fills the singular from the kind when discovery leaves it empty (Kubernetes before 1.27)", () => {
    expect(resolveResource(document, { resource: "configmap" }, "c").singular).toBe("configmap");
  });

  it("lists one entry per group and resource, in the preferred version", () => {
    const clusters = document.preferred.filter((resource) => resource.resource === "clusters");
    expect(clusters.map((resource) => resource.version)).toEqual(["v1beta2"]);
    const events = document.preferred.filter((resource) => resource.resource === "events");
    expect(events.map((resource) => `${resource.group}/${resource.version}`)).toEqual(["/v1", "events.k8s.io/v1"]);
  });

  it("refuses an unknown name with invalid_input, pointing to k8s_get_api_resources and a close match", () => {
    const error = failure("deploymnets");
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain('"deploymnets"');
    expect(error.message).toContain("org-acme/dev");
    expect(error.message).toContain("k8s_get_api_resources");
    expect(error.message).toContain("deployments.apps");
  });

  it("says which versions serve a resource when the pinned one does not", () => {
    const error = failure("deployments", "apps/v1beta1");
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("apps/v1");
  });

  it("refuses an unknown group in resource.group", () => {
    expect(failure("widgets.nowhere.example.com").message).toContain('"nowhere.example.com"');
  });

  it("refuses contradictory group qualifiers and malformed names", () => {
    expect(failure("deployments.apps", "v1").code).toBe("invalid_input");
    expect(failure("deployments/scale").message).toContain("not a resource type");
    expect(failure("   ").code).toBe("invalid_input");
    expect(failure("pods", "apps/v1/extra").message).toContain("not an apiVersion");
  });

  it("reports a miss without throwing, so the caller can refresh discovery once", () => {
    const outcome = findResource(document, { resource: "gizmos" }, "c");
    expect("missing" in outcome).toBe(true);
  });
});
