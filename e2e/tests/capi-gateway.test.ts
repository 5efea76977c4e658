// capi-mcp in Cluster API mode, end to end: the real CLI with --enable-capi on the fleet's
// management cluster (as the gateway's least-privilege service account), users logged in through
// the fleet's OpenID provider, every workload call made as them.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { auditEventsMatching, fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import {
  type LoggedInClient,
  loginThroughGateway,
  type OAuthGateway,
  startOAuthGateway,
} from "../gateway/oauth-flow.ts";

let info: FleetInfo;
let scratch: string;

// A workload cluster bob may see whose API server is gone: endpoint and kubeconfig point at a
// closed port, credentials copied from org-acme/dev.
const deadObjects: string[] = [];

async function createDeadCluster(): Promise<void> {
  const admin = await fleetAdminClient(info, "management");
  try {
    const copy = async (
      from: string,
      to: string,
      rewrite: (data: Record<string, string>) => Record<string, string>,
    ) => {
      const source = await admin.expectOk<{
        type: string;
        data: Record<string, string>;
        metadata: { labels?: Record<string, string> };
      }>("GET", `/api/v1/namespaces/org-acme/secrets/${from}`);
      const path = `/api/v1/namespaces/org-acme/secrets/${to}`;
      await admin.apply(path, {
        apiVersion: "v1",
        kind: "Secret",
        type: source.type,
        metadata: { name: to, namespace: "org-acme", labels: { "cluster.x-k8s.io/cluster-name": "dead" } },
        data: rewrite(source.data),
      });
      deadObjects.push(path);
    };
    const devServer = String(info.workloadClusters.find((cluster) => cluster.name === "dev")?.server);
    await copy("dev-kubeconfig", "dead-kubeconfig", (data) => ({
      value: Buffer.from(
        Buffer.from(data.value ?? "", "base64")
          .toString("utf8")
          .replaceAll(devServer, "https://127.0.0.1:1"),
      ).toString("base64"),
    }));
    // SSO passthrough reads the CA's public half from a ConfigMap, never the `-ca` Secret.
    const ca = await admin.expectOk<{ data: Record<string, string> }>(
      "GET",
      "/api/v1/namespaces/org-acme/configmaps/dev-ca-public",
    );
    const caPath = "/api/v1/namespaces/org-acme/configmaps/dead-ca-public";
    await admin.apply(caPath, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "dead-ca-public", namespace: "org-acme", labels: { "cluster.x-k8s.io/cluster-name": "dead" } },
      data: ca.data,
    });
    deadObjects.push(caPath);
    const clusterPath = "/apis/cluster.x-k8s.io/v1beta2/namespaces/org-acme/clusters/dead";
    await admin.apply(clusterPath, {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "Cluster",
      metadata: { name: "dead", namespace: "org-acme", labels: { organization: "acme", environment: "dead" } },
      spec: { controlPlaneEndpoint: { host: "127.0.0.1", port: 1 } },
    });
    deadObjects.push(clusterPath);
    const rolePath = "/apis/rbac.authorization.k8s.io/v1/namespaces/org-acme/roles/e2e-dead-cluster";
    await admin.apply(rolePath, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "e2e-dead-cluster", namespace: "org-acme" },
      rules: [
        { apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["get"], resourceNames: ["dead"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["dead-kubeconfig"] },
      ],
    });
    deadObjects.push(rolePath);
    const bindingPath = "/apis/rbac.authorization.k8s.io/v1/namespaces/org-acme/rolebindings/e2e-dead-cluster";
    await admin.apply(bindingPath, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "e2e-dead-cluster", namespace: "org-acme" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "e2e-dead-cluster" },
      subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "acme-ops" }],
    });
    deadObjects.push(bindingPath);
  } finally {
    admin.close();
  }
}

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-capi-"));
  await createDeadCluster();
});

afterAll(async () => {
  const admin = await fleetAdminClient(info, "management");
  try {
    for (const objectPath of deadObjects.reverse()) await admin.request("DELETE", objectPath);
  } finally {
    admin.close();
  }
  await rm(scratch, { recursive: true, force: true });
});

async function call(user: LoggedInClient, name: string, args: Record<string, unknown>) {
  const result = await user.client.callTool({ name, arguments: args });
  return { text: resultText(result), isError: result.isError === true };
}

for (const mode of ["impersonation", "sso-passthrough"] as const) {
  describe(`capi-mcp in Cluster API mode (${mode})`, () => {
    let gateway: OAuthGateway;
    const users: Record<string, LoggedInClient> = {};

    beforeAll(async () => {
      gateway = await startOAuthGateway(info, scratch, {
        kubeAuth: "impersonation",
        kubeconfig: info.management.gatewayKubeconfig,
        extraArguments: ["--enable-capi", "--workload-auth", mode],
      });
      for (const name of ["alice", "bob", "carol"]) users[name] = await loginThroughGateway(info, gateway, name);
    });

    afterAll(async () => {
      for (const user of Object.values(users)) await user.close();
      await gateway?.stop();
    });

    it("shows each user only the clusters the management cluster's RBAC lets them get", async () => {
      const visible = async (name: string) =>
        (await call(users[name] as LoggedInClient, "capi_list_clusters", {})).text;
      const alice = await visible("alice");
      expect(alice).toContain("org-acme/dev");
      expect(alice).not.toContain("org-acme/prod");
      expect(alice).not.toContain("org-globex/prod");
      const bob = await visible("bob");
      expect(bob).toContain("org-acme/dev");
      expect(bob).toContain("org-acme/prod");
      expect(bob).not.toContain("org-globex/prod");
      const carol = await visible("carol");
      expect(carol).toContain("org-globex/prod");
      expect(carol).not.toContain("org-acme/");
    });

    it("walks capi_list_clusters one cluster a page with sealed tokens that open for their user only", async () => {
      const bob = users.bob as LoggedInClient;
      const listed = (text: string) => [...text.matchAll(/^(org-[a-z]+\/[a-z-]+)\s/gm)].map((match) => match[1] ?? "");
      const everything = listed((await call(bob, "capi_list_clusters", {})).text);
      expect(everything.length).toBeGreaterThan(1);
      const seen: string[] = [];
      const tokens: string[] = [];
      let token: string | undefined;
      do {
        const result = await bob.client.callTool({
          name: "capi_list_clusters",
          arguments: { limit: 1, ...(token === undefined ? {} : { continue: token }) },
        });
        expect(result.isError, resultText(result)).not.toBe(true);
        seen.push(...listed(resultText(result)));
        token = (result.structuredContent as { continue?: string | null } | undefined)?.continue ?? undefined;
        if (token !== undefined) tokens.push(token);
      } while (token !== undefined && seen.length <= everything.length);
      expect(seen).toEqual(everything);
      expect(tokens).toHaveLength(everything.length - 1);
      for (const sealed of tokens) {
        expect(sealed).toMatch(/^capi-mcp-continue\.v1\.[A-Za-z0-9_-]+$/);
        const decoded = Buffer.from(sealed.slice("capi-mcp-continue.v1.".length), "base64url").toString("latin1");
        expect(decoded).not.toContain("org-acme");
      }
      for (const [who, args] of [
        ["alice", { limit: 1, continue: tokens[0] }],
        ["bob", { limit: 1, namespace: "org-acme", continue: tokens[0] }],
      ] as const) {
        const refused = await call(users[who] as LoggedInClient, "capi_list_clusters", args);
        expect(refused.isError, refused.text).toBe(true);
        expect(refused.text).toContain("List again from the start, without continue.");
        expect(refused.text).not.toContain("org-acme/");
      }
    });

    it("answers a forbidden cluster exactly like an unknown one", async () => {
      const alice = users.alice as LoggedInClient;
      const forbidden = await call(alice, "k8s_list_resources", {
        cluster: "org-acme/prod",
        resource: "pods",
        namespace: "web",
      });
      const unknown = await call(alice, "k8s_list_resources", {
        cluster: "org-acme/nowhere",
        resource: "pods",
        namespace: "web",
      });
      expect(forbidden.isError).toBe(true);
      expect(forbidden.text.replace("org-acme/prod", "X")).toBe(unknown.text.replace("org-acme/nowhere", "X"));
    });

    it("never confuses the two prod clusters: a bare name resolves among the clusters each user may see", async () => {
      const identity = async (name: string) =>
        (
          await call(users[name] as LoggedInClient, "k8s_get_resource", {
            cluster: "prod",
            resource: "configmap",
            name: "cluster-identity",
            namespace: "default",
          })
        ).text;
      expect(await identity("bob")).toContain("cluster: org-acme/prod");
      expect(await identity("carol")).toContain("cluster: org-globex/prod");
    });

    it("runs workload calls as the user, with the user's RBAC, and lists across clusters in one answer", async () => {
      const bob = users.bob as LoggedInClient;
      const marker = `capi-${randomBytes(4).toString("hex")}`;
      const missing = await call(bob, "k8s_get_resource", {
        cluster: "org-acme/prod",
        resource: "configmap",
        name: marker,
        namespace: "web",
      });
      expect(missing.text).toMatch(/^Not found/);
      const [event] = await auditEventsMatching(info, "org-acme/prod", marker);
      if (mode === "impersonation") {
        expect(event?.impersonatedUser?.username).toBe("bob@example.com");
        expect(event?.impersonatedUser?.extra?.agent).toEqual(["capi-mcp"]);
      } else {
        expect(event?.user.username).toBe("bob@example.com");
        expect(event?.impersonatedUser).toBeUndefined();
      }
      const denied = await call(bob, "k8s_list_resources", {
        cluster: "org-acme/prod",
        resource: "secrets",
        namespace: "kube-system",
      });
      expect(denied.text).toMatch(/^Forbidden/);

      const fleet = await call(bob, "k8s_list_resources", {
        clusters: ["org-acme/dev", "org-acme/prod"],
        resource: "pods",
        namespace: "web",
      });
      expect(fleet.isError, fleet.text).toBe(false);
      expect(fleet.text).toContain("## org-acme/dev");
      expect(fleet.text).toContain("## org-acme/prod");
      expect(fleet.text.match(/frontend-5d8f7c9b6-k2x4p/g)?.length).toBe(2);
    });

    it("answers a fleet-wide list quickly when one cluster is dead, with that cluster's error and the others' results", async () => {
      const bob = users.bob as LoggedInClient;
      const started = performance.now();
      const fleet = await call(bob, "k8s_list_resources", {
        clusters: ["org-acme/dev", "org-acme/dead"],
        resource: "pods",
        namespace: "web",
      });
      const elapsed = performance.now() - started;
      expect(fleet.isError, fleet.text).toBe(false);
      expect(fleet.text).toContain("## org-acme/dev");
      expect(fleet.text).toContain("frontend-5d8f7c9b6-k2x4p");
      expect(fleet.text).toMatch(/org-acme\/dead: (Unavailable|Timed out)/);
      expect(elapsed).toBeLessThan(15_000);
      const alone = await call(bob, "k8s_list_resources", {
        cluster: "org-acme/dev",
        resource: "pods",
        namespace: "web",
      });
      expect(alone.isError).toBe(false);
    });
  });
}
