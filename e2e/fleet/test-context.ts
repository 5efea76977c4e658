// What e2e tests use to reach the shared fleet.
import { readFile } from "node:fs/promises";
import { type ClusterAccess, GatewayError } from "@capi-mcp/core";
import { createClusterAccess, createKubeConnection, type KubeConnection, type KubeIdentity } from "@capi-mcp/kube";
import * as k8s from "@kubernetes/client-node";
import { inject } from "vitest";
import { type FleetInfo, readFleetInfo } from "./fleet.ts";

let cached: Promise<FleetInfo> | undefined;

export function fleetInfo(): Promise<FleetInfo> {
  cached ??= readFleetInfo(inject("fleetInfoFile"));
  return cached;
}

export type ClusterName = "management" | "org-acme/dev" | "org-acme/prod" | "org-globex/prod";

export function clusterInfo(info: FleetInfo, cluster: ClusterName) {
  if (cluster === "management") return info.management;
  const found = info.workloadClusters.find((item) => `${item.namespace}/${item.name}` === cluster);
  if (!found) throw new Error(`no cluster ${cluster}`);
  return found;
}

/** A client-node KubeConfig for a cluster's admin (or, with a token, for a bearer-token user). */
export async function kubeConfigFor(info: FleetInfo, cluster: ClusterName, token?: string): Promise<k8s.KubeConfig> {
  const config = new k8s.KubeConfig();
  if (token === undefined) {
    config.loadFromFile(clusterInfo(info, cluster).kubeconfig);
    return config;
  }
  const target = clusterInfo(info, cluster);
  config.loadFromOptions({
    clusters: [
      { name: cluster, server: target.server, caData: Buffer.from(await readFile(target.caFile)).toString("base64") },
    ],
    users: [{ name: "bearer", token }],
    contexts: [{ name: cluster, cluster, user: "bearer" }],
    currentContext: cluster,
  });
  return config;
}

export interface AuditEvent {
  readonly auditID: string;
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { username: string; groups?: string[]; extra?: Record<string, string[]> };
  readonly impersonatedUser?: { username: string; groups?: string[]; extra?: Record<string, string[]> };
  readonly objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  readonly responseStatus?: { code?: number };
  readonly stage: string;
}

/** Audit events of a cluster whose request URI contains `marker`, waiting briefly for them. */
export async function auditEventsMatching(
  info: FleetInfo,
  cluster: ClusterName,
  marker: string,
): Promise<AuditEvent[]> {
  const file = clusterInfo(info, cluster).auditLog;
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const lines = (await readFile(file, "utf8")).split("\n").filter((line) => line.includes(marker));
    const events = lines
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((event) => event.stage === "ResponseComplete");
    if (events.length > 0) return events;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [];
}

/** The GatewayError a call fails with; any other outcome fails the test. */
export async function failureOf(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/** ClusterAccess to fleet clusters through @capi-mcp/kube, with every connection closed at the end. */
export function createAccessFactory() {
  const connections: KubeConnection[] = [];
  return {
    async accessTo(
      cluster: ClusterName,
      identity: KubeIdentity = {},
      limits: { qps?: number; burst?: number } = {},
    ): Promise<ClusterAccess> {
      const connection = createKubeConnection({
        kubeConfig: await kubeConfigFor(await fleetInfo(), cluster),
        identity,
        ...limits,
      });
      connections.push(connection);
      return createClusterAccess(connection, { clusterName: cluster });
    },
    async closeAll(): Promise<void> {
      for (const connection of connections.splice(0)) await connection.close();
    },
  };
}
