// The fleet is real: Cluster API objects and contract secrets on the management cluster, working
// credentials in them, least privilege for the gateway, and per-user RBAC on the workload clusters.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { auditEventsMatching, type ClusterName, clusterInfo, fleetInfo } from "../fleet/test-context.ts";

let info: FleetInfo;
beforeAll(async () => {
  info = await fleetInfo();
});

interface ClusterList {
  items: {
    apiVersion: string;
    metadata: { namespace: string; name: string };
    spec: { controlPlaneEndpoint: { host: string; port: number } };
    status: { phase: string; conditions: { type: string; status: string }[] };
  }[];
}

describe("the management cluster", () => {
  it("serves the Cluster API Cluster kind in v1beta2 and v1beta1, with two clusters named prod in different namespaces", async () => {
    const admin = await fleetAdminClient(info, "management");
    try {
      for (const version of ["v1beta2", "v1beta1"]) {
        const list = await admin.expectOk<ClusterList>("GET", `/apis/cluster.x-k8s.io/${version}/clusters`);
        const names = list.items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`).sort();
        expect(names).toEqual(["org-acme/dev", "org-acme/prod", "org-globex/prod"]);
      }
      const list = await admin.expectOk<ClusterList>("GET", "/apis/cluster.x-k8s.io/v1beta2/clusters");
      for (const item of list.items) {
        const workload = clusterInfo(info, `${item.metadata.namespace}/${item.metadata.name}` as ClusterName);
        expect(`https://${item.spec.controlPlaneEndpoint.host}:${item.spec.controlPlaneEndpoint.port}`).toBe(
          workload.server,
        );
        expect(item.status.phase).toBe("Provisioned");
        expect(item.status.conditions.map((condition) => condition.type)).toEqual(
          expect.arrayContaining([
            "Available",
            "InfrastructureReady",
            "ControlPlaneAvailable",
            "WorkersAvailable",
            "RemoteConnectionProbe",
          ]),
        );
      }
    } finally {
      admin.close();
    }
  });

  it("holds each cluster's contract secrets, and the kubeconfig in <name>-kubeconfig reaches that very cluster", async () => {
    const admin = await fleetAdminClient(info, "management");
    try {
      for (const workload of info.workloadClusters) {
        const secret = await admin.expectOk<{
          type: string;
          metadata: { labels: Record<string, string> };
          data: Record<string, string>;
        }>("GET", `/api/v1/namespaces/${workload.namespace}/secrets/${workload.name}-kubeconfig`);
        expect(secret.type).toBe("cluster.x-k8s.io/secret");
        expect(secret.metadata.labels["cluster.x-k8s.io/cluster-name"]).toBe(workload.name);
        const kubeconfigText = Buffer.from(secret.data.value ?? "", "base64").toString("utf8");
        const config = new k8s.KubeConfig();
        config.loadFromString(kubeconfigText);
        expect(config.getCurrentCluster()?.server).toBe(workload.server);
        const identity = await config
          .makeApiClient(k8s.CoreV1Api)
          .readNamespacedConfigMap({ namespace: "default", name: "cluster-identity" });
        expect(identity.data?.cluster).toBe(`${workload.namespace}/${workload.name}`);

        const ca = await admin.expectOk<{ data: Record<string, string> }>(
          "GET",
          `/api/v1/namespaces/${workload.namespace}/secrets/${workload.name}-ca`,
        );
        expect(Object.keys(ca.data).sort()).toEqual(["tls.crt", "tls.key"]);
        const parsed = parse(kubeconfigText) as { clusters: { cluster: { "certificate-authority-data": string } }[] };
        expect(parsed.clusters[0]?.cluster["certificate-authority-data"]).toBe(ca.data["tls.crt"]);
      }
    } finally {
      admin.close();
    }
  });
});

describe("the gateway's service account on the management cluster", () => {
  async function gatewayApi() {
    const config = new k8s.KubeConfig();
    config.loadFromFile(info.management.gatewayKubeconfig);
    return config;
  }

  it("may list and watch clusters, read cluster secrets and create SubjectAccessReviews", async () => {
    const config = await gatewayApi();
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    const clusters = (await custom.listClusterCustomObject({
      group: "cluster.x-k8s.io",
      version: "v1beta2",
      plural: "clusters",
    })) as {
      items: unknown[];
    };
    expect(clusters.items).toHaveLength(3);
    const secret = await config
      .makeApiClient(k8s.CoreV1Api)
      .readNamespacedSecret({ namespace: "org-globex", name: "prod-kubeconfig" });
    expect(secret.data?.value).toBeTruthy();
    const review = await config.makeApiClient(k8s.AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: "alice@example.com",
          groups: ["acme-dev"],
          resourceAttributes: {
            group: "cluster.x-k8s.io",
            resource: "clusters",
            verb: "get",
            namespace: "org-acme",
            name: "dev",
          },
        },
      },
    });
    expect(review.status?.allowed).toBe(true);
  });

  it("may not read secrets outside cluster namespaces, nor change clusters", async () => {
    const config = await gatewayApi();
    const core = config.makeApiClient(k8s.CoreV1Api);
    await expect(core.listNamespacedSecret({ namespace: "kube-system" })).rejects.toMatchObject({ code: 403 });
    await expect(core.listSecretForAllNamespaces()).rejects.toMatchObject({ code: 403 });
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    await expect(
      custom.deleteNamespacedCustomObject({
        group: "cluster.x-k8s.io",
        version: "v1beta2",
        plural: "clusters",
        namespace: "org-acme",
        name: "dev",
      }),
    ).rejects.toMatchObject({ code: 403 });
  });
});

describe("RBAC on the clusters", () => {
  async function statusAs(
    cluster: ClusterName,
    user: string,
    groups: string[],
    apiPath: string,
    method = "GET",
  ): Promise<number> {
    const client = await fleetAdminClient(info, cluster, { "Impersonate-User": user, "Impersonate-Group": groups });
    try {
      return (await client.request(method, apiPath)).status;
    } finally {
      client.close();
    }
  }

  it.each([
    // cluster, user, groups, path, expected status
    ["org-acme/dev", "alice@example.com", ["acme-dev"], "/api/v1/namespaces/web/secrets", 200],
    ["org-acme/dev", "alice@example.com", ["acme-dev"], "/api/v1/namespaces/kube-system/pods", 403],
    ["org-acme/prod", "alice@example.com", ["acme-dev"], "/api/v1/namespaces/web/pods", 200],
    ["org-acme/prod", "alice@example.com", ["acme-dev"], "/api/v1/namespaces/web/secrets", 403],
    ["org-acme/prod", "alice@example.com", ["acme-dev"], "/api/v1/namespaces/payments/pods", 403],
    ["org-globex/prod", "alice@example.com", ["acme-dev"], "/api/v1/namespaces/web/pods", 403],
    ["org-acme/prod", "bob@example.com", ["acme-ops"], "/api/v1/pods", 200],
    ["org-acme/prod", "bob@example.com", ["acme-ops"], "/api/v1/namespaces/payments/secrets", 200],
    ["org-globex/prod", "bob@example.com", ["acme-ops"], "/api/v1/pods", 403],
    ["org-globex/prod", "carol@example.com", ["globex-admins"], "/api/v1/namespaces/kube-system/secrets", 200],
    ["org-acme/dev", "carol@example.com", ["globex-admins"], "/api/v1/pods", 403],
  ] as const)("on %s, %s (%j) reading %s gets %i", async (cluster, user, groups, apiPath, expected) => {
    expect(await statusAs(cluster, user, [...groups], apiPath)).toBe(expected);
  });

  it("on the management cluster, lets each group get only the Cluster objects it was given", async () => {
    const get = (user: string, group: string, namespace: string, name: string) =>
      statusAs("management", user, [group], `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/clusters/${name}`);
    expect(await get("alice@example.com", "acme-dev", "org-acme", "dev")).toBe(200);
    expect(await get("alice@example.com", "acme-dev", "org-acme", "prod")).toBe(403);
    expect(await get("bob@example.com", "acme-ops", "org-acme", "prod")).toBe(200);
    expect(await get("bob@example.com", "acme-ops", "org-globex", "prod")).toBe(403);
    expect(await get("carol@example.com", "globex-admins", "org-globex", "prod")).toBe(200);
    expect(await get("carol@example.com", "globex-admins", "org-acme", "dev")).toBe(403);
  });

  it("records an admin's impersonation of a user, with groups and extras, in the workload cluster's audit log", async () => {
    const marker = `audit-probe-${randomBytes(6).toString("hex")}`;
    const client = await fleetAdminClient(info, "org-acme/dev", {
      "Impersonate-User": "alice@example.com",
      "Impersonate-Group": ["acme-dev"],
      "Impersonate-Extra-agent": "capi-mcp",
    });
    try {
      const response = await client.request("GET", `/api/v1/namespaces/web/configmaps/${marker}`);
      expect(response.status).toBe(404);
    } finally {
      client.close();
    }
    const [event] = await auditEventsMatching(info, "org-acme/dev", marker);
    expect(event?.user.username).toBe("fleet-admin");
    expect(event?.user.groups).toContain("system:masters");
    expect(event?.impersonatedUser?.username).toBe("alice@example.com");
    expect(event?.impersonatedUser?.groups).toEqual(["acme-dev", "system:authenticated"]);
    expect(event?.impersonatedUser?.extra).toEqual({ agent: ["capi-mcp"] });
    expect(event?.objectRef).toMatchObject({ resource: "configmaps", namespace: "web", name: marker });
    expect(event?.responseStatus?.code).toBe(404);
  });
});
