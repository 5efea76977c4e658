// The management watch survives a restart of the management API server and catches up: a
// Cluster created right after the restart, before the watch is back, is in the directory soon
// after, and no known cluster is reported deleted on the way. The API server is always left up.
import { randomBytes } from "node:crypto";
// The federation package does not export the directory yet; the lead adds it to its index.
import type { CapiChange, CapiDirectory } from "@capi-mcp/federation";
import { type CapiDirectoryLogEntry, createCapiDirectory } from "@capi-mcp/federation";
import { createKubeConnection, type KubeConnection } from "@capi-mcp/kube";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient, restartApiServer } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";

let info: FleetInfo;
let connection: KubeConnection;
const namespace = `org-e2e-${randomBytes(4).toString("hex")}`;
const created: string[] = [];

async function managementReady(): Promise<boolean> {
  const client = await fleetAdminClient(info, "management");
  try {
    return (await client.request("GET", "/readyz", undefined, { timeoutMilliseconds: 3000 })).status === 200;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

async function eventually(check: () => boolean, what: string, timeoutMilliseconds = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  info = await fleetInfo();
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(info.management.gatewayKubeconfig);
  connection = createKubeConnection({ kubeConfig });
  const client = await fleetAdminClient(info, "management");
  try {
    await client.apply(`/api/v1/namespaces/${namespace}`, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
  } finally {
    client.close();
  }
});

afterAll(async () => {
  // Whatever happened above, the shared fleet's management API server must be up afterwards.
  if (info && !(await managementReady())) await restartApiServer(info, "management");
  const client = await fleetAdminClient(info, "management");
  try {
    for (const path of created.reverse()) await client.request("DELETE", path);
    await client.request("DELETE", `/api/v1/namespaces/${namespace}`);
    // The fleet runs no namespace controller: finish the deletion it would have finished.
    await client.request("PUT", `/api/v1/namespaces/${namespace}/finalize`, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
      spec: { finalizers: [] },
    });
  } finally {
    client.close();
  }
  await connection?.close();
});

describe("the Cluster API directory across a management API server restart", () => {
  it("reconnects and catches up with a Cluster created while its watch was down", { timeout: 240_000 }, async () => {
    const changes: CapiChange[] = [];
    const logs: CapiDirectoryLogEntry[] = [];
    const directory: CapiDirectory = createCapiDirectory({
      connection,
      onLog: (entry) => logs.push(entry),
      // Back within seconds of the API server, not the production cap of 30 s.
      watch: { backoff: { initialMilliseconds: 200, maximumMilliseconds: 2000 } },
    });
    try {
      directory.onChange((change) => changes.push(change));
      await directory.ready;
      const before = directory.list().map((cluster) => `${cluster.ref.namespace}/${cluster.ref.name}`);
      expect(before).toEqual(expect.arrayContaining(["org-acme/dev", "org-acme/prod", "org-globex/prod"]));
      const managementPid = info.processes.find((started) => started.name === "kube-apiserver-management")?.pid;

      await restartApiServer(info, "management");
      expect(info.processes.find((started) => started.name === "kube-apiserver-management")?.pid).not.toBe(
        managementPid,
      );

      // Created the moment the API server is back: the directory's watch is at best reconnecting.
      const name = `after-restart-${randomBytes(3).toString("hex")}`;
      const path = `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/clusters/${name}`;
      const client = await fleetAdminClient(info, "management");
      try {
        await client.apply(path, {
          apiVersion: "cluster.x-k8s.io/v1beta2",
          kind: "Cluster",
          metadata: { name, namespace },
          spec: { controlPlaneEndpoint: { host: "127.0.0.1", port: 6443 } },
        });
        created.push(path);
      } finally {
        client.close();
      }

      await eventually(() => directory.get({ namespace, name }) !== undefined, `${namespace}/${name} in the directory`);
      expect(changes.some((change) => change.type === "added" && change.cluster.ref.name === name)).toBe(true);
      // The restart broke the watch (the directory said so) …
      expect(logs.some((entry) => entry.level === "warn" && /watching clusters/.test(entry.message))).toBe(true);
      // … and nothing it knew was reported gone.
      const deleted = changes.filter((change) => change.type === "deleted");
      expect(deleted).toEqual([]);
      expect(directory.list().map((cluster) => `${cluster.ref.namespace}/${cluster.ref.name}`)).toEqual(
        expect.arrayContaining([...before, `${namespace}/${name}`]),
      );
    } finally {
      await directory.close();
    }
  });
});
