import type { KubeObject } from "@capi-mcp/core";
import { makeDeployment, makeNode, makePod } from "./fixtures.js";
import { InMemoryCluster, type InMemoryClusterOptions } from "./in-memory-cluster.js";

/** A small cluster "dev": a shop namespace with a half-broken deployment, a system pod, a node. */
export function sampleCluster(
  extra: readonly KubeObject[] = [],
  options: Partial<InMemoryClusterOptions> = {},
): InMemoryCluster {
  return new InMemoryCluster({
    name: "dev",
    ...options,
    objects: [
      makePod({ name: "web-1", namespace: "shop", ownerDeployment: "web" }),
      makePod({ name: "web-2", namespace: "shop", ready: false, restarts: 7, waitingReason: "CrashLoopBackOff" }),
      makePod({ name: "dns-1", namespace: "kube-system" }),
      makeDeployment("web", "shop", 3, 2),
      makeNode("worker-1", { roles: ["worker"] }),
      ...extra,
    ],
  });
}
