import type { ApiResource } from "@capi-mcp/core";

function resource(
  group: string,
  version: string,
  plural: string,
  kind: string,
  options: { namespaced?: boolean; shortNames?: string[]; subresources?: string[]; verbs?: string[] } = {},
): ApiResource {
  return {
    group,
    version,
    resource: plural,
    kind,
    singular: kind.toLowerCase(),
    shortNames: options.shortNames ?? [],
    namespaced: options.namespaced ?? true,
    verbs: options.verbs ?? ["create", "delete", "get", "list", "patch", "update", "watch"],
    categories: [],
    subresources: options.subresources ?? [],
  };
}

/** A discovery document like a small real cluster's, plus the Cluster API Cluster CRD. */
export const standardApiResources: readonly ApiResource[] = [
  resource("", "v1", "pods", "Pod", { shortNames: ["po"], subresources: ["status", "log", "exec", "portforward"] }),
  resource("", "v1", "services", "Service", { shortNames: ["svc"], subresources: ["status", "proxy"] }),
  resource("", "v1", "configmaps", "ConfigMap", { shortNames: ["cm"] }),
  resource("", "v1", "secrets", "Secret"),
  resource("", "v1", "namespaces", "Namespace", { namespaced: false, shortNames: ["ns"], subresources: ["status"] }),
  resource("", "v1", "nodes", "Node", { namespaced: false, shortNames: ["no"], subresources: ["status"] }),
  resource("", "v1", "events", "Event", { shortNames: ["ev"] }),
  resource("", "v1", "componentstatuses", "ComponentStatus", {
    namespaced: false,
    shortNames: ["cs"],
    verbs: ["get", "list"],
  }),
  resource("apps", "v1", "deployments", "Deployment", { shortNames: ["deploy"], subresources: ["status", "scale"] }),
  resource("apps", "v1", "replicasets", "ReplicaSet", { shortNames: ["rs"], subresources: ["status", "scale"] }),
  resource("apps", "v1", "statefulsets", "StatefulSet", { shortNames: ["sts"], subresources: ["status", "scale"] }),
  resource("apps", "v1", "daemonsets", "DaemonSet", { shortNames: ["ds"], subresources: ["status"] }),
  resource("events.k8s.io", "v1", "events", "Event", { shortNames: ["ev"] }),
  resource("cluster.x-k8s.io", "v1beta2", "clusters", "Cluster", { subresources: ["status"] }),
];
