// Session state follows the Cluster API catalog: a session's current cluster whose Cluster
// object is deleted on the management cluster is no longer current, and the next call says so.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import {
  type LoggedInClient,
  loginThroughGateway,
  type OAuthGateway,
  startOAuthGateway,
} from "../gateway/oauth-flow.ts";

let info: FleetInfo;
let scratch: string;
let gateway: OAuthGateway;
let bob: LoggedInClient;

const clusterPath = "/apis/cluster.x-k8s.io/v1beta2/namespaces/org-acme/clusters/doomed";
const secretPaths = ["doomed-kubeconfig", "doomed-ca"].map((name) => `/api/v1/namespaces/org-acme/secrets/${name}`);
const rolePath = "/apis/rbac.authorization.k8s.io/v1/namespaces/org-acme/roles/e2e-doomed-cluster";
const bindingPath = "/apis/rbac.authorization.k8s.io/v1/namespaces/org-acme/rolebindings/e2e-doomed-cluster";

/** A second name for org-acme/dev's API server: Cluster org-acme/doomed, which bob may see. */
async function createDoomedCluster(): Promise<void> {
  const admin = await fleetAdminClient(info, "management");
  try {
    for (const [from, to] of [
      ["dev-kubeconfig", "doomed-kubeconfig"],
      ["dev-ca", "doomed-ca"],
    ] as const) {
      const source = await admin.expectOk<{ type: string; data: Record<string, string> }>(
        "GET",
        `/api/v1/namespaces/org-acme/secrets/${from}`,
      );
      await admin.apply(`/api/v1/namespaces/org-acme/secrets/${to}`, {
        apiVersion: "v1",
        kind: "Secret",
        type: source.type,
        metadata: { name: to, namespace: "org-acme", labels: { "cluster.x-k8s.io/cluster-name": "doomed" } },
        data: source.data,
      });
    }
    // The fleet grants by resource name: bob's group (acme-ops) may get this Cluster and its kubeconfig.
    await admin.apply(rolePath, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "e2e-doomed-cluster", namespace: "org-acme" },
      rules: [
        { apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["get"], resourceNames: ["doomed"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["doomed-kubeconfig"] },
      ],
    });
    await admin.apply(bindingPath, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "e2e-doomed-cluster", namespace: "org-acme" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "e2e-doomed-cluster" },
      subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "acme-ops" }],
    });
    const devServer = new URL(String(info.workloadClusters.find((cluster) => cluster.name === "dev")?.server));
    await admin.apply(clusterPath, {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "Cluster",
      metadata: { name: "doomed", namespace: "org-acme", labels: { organization: "acme", environment: "doomed" } },
      spec: { controlPlaneEndpoint: { host: devServer.hostname, port: Number(devServer.port) } },
    });
  } finally {
    admin.close();
  }
}

async function deleteObjects(paths: readonly string[]): Promise<void> {
  const admin = await fleetAdminClient(info, "management");
  try {
    for (const objectPath of paths) await admin.request("DELETE", objectPath);
  } finally {
    admin.close();
  }
}

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-sessions-capi-"));
  await createDoomedCluster();
  gateway = await startOAuthGateway(info, scratch, {
    kubeAuth: "impersonation",
    kubeconfig: info.management.gatewayKubeconfig,
    extraArguments: ["--enable-capi"],
  });
  bob = await loginThroughGateway(info, gateway, "bob");
});

afterAll(async () => {
  await bob?.close();
  await gateway?.stop();
  await deleteObjects([clusterPath, ...secretPaths, bindingPath, rolePath]);
  await rm(scratch, { recursive: true, force: true });
});

async function call(name: string, args: Record<string, unknown> = {}) {
  const result = await bob.client.callTool({ name, arguments: args });
  return { text: resultText(result), isError: result.isError === true };
}

describe("session state after its Cluster is deleted", () => {
  it("no longer names a deleted Cluster as current, says so once, and points to choosing another", async () => {
    await expect
      .poll(async () => (await call("k8s_switch_context", { cluster: "org-acme/doomed" })).isError, {
        timeout: 15_000,
      })
      .toBe(false);
    expect((await call("k8s_get_current_context")).text).toContain("Current cluster: org-acme/doomed");
    const working = await call("k8s_list_resources", { resource: "configmaps", namespace: "web" });
    expect(working.isError, working.text).toBe(false);

    await deleteObjects([clusterPath]);

    // The gateway learns of the deletion through its watch: poll until it has.
    let answer = { text: "", isError: false };
    await expect
      .poll(
        async () => {
          answer = await call("k8s_get_current_context");
          return answer.text.includes("Current cluster: org-acme/doomed");
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe(false);
    expect(answer.isError).toBe(false);
    expect(answer.text).toContain("No current cluster");
    expect(answer.text).toContain("current cluster org-acme/doomed is no longer available");
    expect(answer.text).toContain("k8s_switch_context");

    // From now on the session simply has no current cluster; nothing falls back to it.
    const next = await call("k8s_list_resources", { resource: "configmaps", namespace: "web" });
    expect(next.isError).toBe(true);
    expect(next.text).toContain("No cluster selected");
    expect(next.text).not.toContain("org-acme/doomed");
    expect((await call("k8s_get_current_context")).text).not.toContain("org-acme/doomed");
  });

  it("refuses a call that relied on a current cluster deleted since, rather than sending it elsewhere", async () => {
    await createDoomedCluster();
    await expect
      .poll(async () => (await call("k8s_switch_context", { cluster: "org-acme/doomed" })).isError, {
        timeout: 15_000,
      })
      .toBe(false);
    await deleteObjects([clusterPath]);
    // Until the gateway's watch sees the deletion, the call still runs on the cluster; the first
    // call after must be refused, not sent anywhere else.
    let refused = { text: "", isError: false };
    await expect
      .poll(
        async () => {
          refused = await call("k8s_list_resources", { resource: "configmaps", namespace: "web" });
          return refused.isError;
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe(true);
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain("current cluster org-acme/doomed is no longer available");
    expect(refused.text).toContain("This call was not run");
    expect(refused.text).toContain("k8s_list_contexts");
  });
});
