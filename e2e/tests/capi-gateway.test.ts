// capi-mcp in Cluster API mode, end to end: the real CLI with --enable-capi on the fleet's
// management cluster (as the gateway's least-privilege service account), users logged in through
// the fleet's OpenID provider, every workload call made as them.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
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

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-capi-"));
});

afterAll(async () => {
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
  });
}
