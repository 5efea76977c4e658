// capi-mcp end to end: the real CLI, the MCP SDK's client, the real fleet.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { tcpRoundTrip } from "../fleet/tcp.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import {
  type GatewayUnderTest,
  resultText,
  startHttpGateway,
  startStdioGateway,
  userKubeconfig,
} from "../gateway/harness.ts";

let info: FleetInfo;
let scratch: string;
const started: GatewayUnderTest[] = [];
const allOperations = ["--allow-operations", "create,apply,patch,scale,delete,exec,port-forward"];
const frontendPod = "frontend-5d8f7c9b6-k2x4p";

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-e2e-"));
});

afterAll(async () => {
  for (const gateway of started) await gateway.stop();
  await rm(scratch, { recursive: true, force: true });
});

async function track<T extends GatewayUnderTest>(gateway: Promise<T>): Promise<T> {
  const running = await gateway;
  started.push(running);
  return running;
}

async function call(gateway: GatewayUnderTest, name: string, args: Record<string, unknown>) {
  const result = await gateway.client.callTool({ name, arguments: args });
  return { text: resultText(result), isError: result.isError === true };
}

async function directGet(cluster: "management" | `${string}/${string}`, apiPath: string) {
  const client = await fleetAdminClient(info, cluster);
  try {
    return await client.request<Record<string, unknown>>("GET", apiPath);
  } finally {
    client.close();
  }
}

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

describe("capi-mcp over streamable HTTP, every operation allowed, on two clusters", () => {
  let gateway: GatewayUnderTest;
  beforeAll(async () => {
    gateway = await track(
      startHttpGateway({ kubeconfig: info.kubeconfig, context: "org-acme/dev", extraArguments: allOperations }),
    );
  });

  it("lists every tool of the catalog with its annotations", async () => {
    const { tools } = await gateway.client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const expected of [
      "k8s_get_resource",
      "k8s_list_resources",
      "k8s_describe_resource",
      "k8s_create_resource",
      "k8s_apply_resource",
      "k8s_patch_resource",
      "k8s_delete_resource",
      "k8s_scale_resource",
      "k8s_get_pod_logs",
      "k8s_exec_pod",
      "k8s_port_forward_pod",
      "k8s_port_forward_service",
      "k8s_list_port_forwards",
      "k8s_stop_port_forward",
      "k8s_list_contexts",
      "k8s_get_current_context",
      "k8s_switch_context",
      "k8s_get_api_resources",
      "k8s_get_cluster_health",
      "k8s_list_events",
      "k8s_can_i",
    ]) {
      expect(names).toContain(expected);
    }
    expect(tools.find((tool) => tool.name === "k8s_delete_resource")?.annotations?.destructiveHint).toBe(true);
    expect(tools.find((tool) => tool.name === "k8s_get_resource")?.annotations?.readOnlyHint).toBe(true);
  });

  for (const cluster of ["org-acme/dev", "org-globex/prod"] as const) {
    describe(`on ${cluster}`, () => {
      it("reads: get (YAML without managedFields), list (table), describe (with events), api resources, health, events, can-i", async () => {
        const get = await call(gateway, "k8s_get_resource", {
          cluster,
          resource: "cm",
          name: "cluster-identity",
          namespace: "default",
        });
        expect(get.isError, get.text).toBe(false);
        expect(get.text).toContain(`cluster: ${cluster}`);
        expect(get.text).not.toContain("managedFields");

        const list = await call(gateway, "k8s_list_resources", { cluster, resource: "pods", namespace: "web" });
        expect(list.text).toContain(frontendPod);
        expect(list.text).toMatch(/READY/);
        expect(list.text).toMatch(/Running/);

        const describe = await call(gateway, "k8s_describe_resource", {
          cluster,
          resource: "pod",
          name: frontendPod,
          namespace: "web",
        });
        expect(describe.text).toContain("nginx:1.25");
        expect(describe.text).toContain("Scheduled");

        const resources = await call(gateway, "k8s_get_api_resources", { cluster });
        expect(resources.text).toMatch(/deployments/);

        const health = await call(gateway, "k8s_get_cluster_health", { cluster });
        expect(health.isError, health.text).toBe(false);
        expect(health.text).toMatch(/v1\.20\.2/);

        const events = await call(gateway, "k8s_list_events", { cluster, namespace: "web" });
        expect(events.text).toContain("Scheduled");

        const canI = await call(gateway, "k8s_can_i", {
          cluster,
          verb: "delete",
          resource: "deployments",
          namespace: "web",
        });
        expect(canI.text.toLowerCase()).toMatch(/\byes\b|allowed/);
      });

      it("mutates: create, server-side apply, patch (merge, json), scale and delete, each seen by a direct read", async () => {
        const name = unique("e2e");
        const manifest = {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name, namespace: "web" },
          data: { step: "created" },
        };
        const created = await call(gateway, "k8s_create_resource", { cluster, manifest });
        expect(created.isError, created.text).toBe(false);
        const configMapPath = `/api/v1/namespaces/web/configmaps/${name}`;
        expect(((await directGet(cluster, configMapPath)).body.data as Record<string, string>).step).toBe("created");

        // Server-side apply creates, then updates what it owns.
        const appliedName = unique("e2e-applied");
        const appliedManifest = { ...manifest, metadata: { name: appliedName, namespace: "web" } };
        const appliedPath = `/api/v1/namespaces/web/configmaps/${appliedName}`;
        for (const step of ["first", "second"]) {
          const applied = await call(gateway, "k8s_apply_resource", {
            cluster,
            manifest: { ...appliedManifest, data: { step } },
          });
          expect(applied.isError, applied.text).toBe(false);
          expect(((await directGet(cluster, appliedPath)).body.data as Record<string, string>).step).toBe(step);
        }
        const afterApply = (await directGet(cluster, appliedPath)).body as {
          metadata: { managedFields: { manager: string; operation: string }[] };
        };
        expect(afterApply.metadata.managedFields).toContainEqual(
          expect.objectContaining({ manager: "capi-mcp", operation: "Apply" }),
        );
        await call(gateway, "k8s_delete_resource", {
          cluster,
          resource: "configmap",
          name: appliedName,
          namespace: "web",
        });

        // Applying over fields another manager (here: create) owns conflicts, as with kubectl, until forced.
        const changed = { ...manifest, data: { step: "applied" } };
        const conflicting = await call(gateway, "k8s_apply_resource", { cluster, manifest: changed });
        expect(conflicting.isError).toBe(true);
        expect(conflicting.text).toMatch(/^Conflict: /);
        expect(conflicting.text).toMatch(/force/);
        const forced = await call(gateway, "k8s_apply_resource", { cluster, manifest: changed, force: true });
        expect(forced.isError, forced.text).toBe(false);
        expect(((await directGet(cluster, configMapPath)).body.data as Record<string, string>).step).toBe("applied");

        const merged = await call(gateway, "k8s_patch_resource", {
          cluster,
          resource: "configmaps",
          name,
          namespace: "web",
          patch: { data: { merged: "yes" } },
          patchType: "merge",
        });
        expect(merged.isError, merged.text).toBe(false);
        const jsonPatched = await call(gateway, "k8s_patch_resource", {
          cluster,
          resource: "configmaps",
          name,
          namespace: "web",
          patch: [{ op: "replace", path: "/data/step", value: "json-patched" }],
          patchType: "json",
        });
        expect(jsonPatched.isError, jsonPatched.text).toBe(false);
        expect((await directGet(cluster, configMapPath)).body.data).toEqual({ step: "json-patched", merged: "yes" });

        const scaled = await call(gateway, "k8s_scale_resource", {
          cluster,
          resource: "deploy",
          name: "frontend",
          namespace: "web",
          replicas: 3,
        });
        expect(scaled.isError, scaled.text).toBe(false);
        const deploymentPath = "/apis/apps/v1/namespaces/web/deployments/frontend";
        expect(((await directGet(cluster, deploymentPath)).body.spec as { replicas: number }).replicas).toBe(3);
        await call(gateway, "k8s_scale_resource", {
          cluster,
          resource: "deploy",
          name: "frontend",
          namespace: "web",
          replicas: 2,
        });

        const deleted = await call(gateway, "k8s_delete_resource", {
          cluster,
          resource: "configmap",
          name,
          namespace: "web",
        });
        expect(deleted.isError, deleted.text).toBe(false);
        expect((await directGet(cluster, configMapPath)).status).toBe(404);
      });

      it("reaches pods: logs, exec with stdout, stderr and exit code, and port-forwards to a pod and a service", async () => {
        const logs = await call(gateway, "k8s_get_pod_logs", {
          cluster,
          name: frontendPod,
          namespace: "web",
          tailLines: 3,
        });
        expect(logs.text.match(new RegExp(`${cluster} web/${frontendPod}/nginx request`, "g"))).toHaveLength(3);

        const exec = await call(gateway, "k8s_exec_pod", {
          cluster,
          name: frontendPod,
          namespace: "web",
          command: ["sh", "-c", "echo out; echo err >&2; exit 3"],
        });
        expect(exec.isError, exec.text).toBe(false);
        expect(exec.text).toMatch(/exit code:?\s*3/i);
        expect(exec.text).toContain("out");
        expect(exec.text).toContain("err");

        const forward = await call(gateway, "k8s_port_forward_pod", {
          cluster,
          name: frontendPod,
          namespace: "web",
          port: 8080,
        });
        expect(forward.isError, forward.text).toBe(false);
        const localPort = Number(/127\.0\.0\.1:(\d+)/.exec(forward.text)?.[1]);
        expect(await tcpRoundTrip(localPort, "ping through capi-mcp")).toBe("ping through capi-mcp");
        const id = /\b(pf-[\w-]+)\b/.exec(forward.text)?.[1];
        expect(id).toBeTruthy();
        expect((await call(gateway, "k8s_list_port_forwards", {})).text).toContain(String(id));
        expect((await call(gateway, "k8s_stop_port_forward", { id })).isError).toBe(false);
        await expect(tcpRoundTrip(localPort, "closed?")).rejects.toThrow();

        const service = await call(gateway, "k8s_port_forward_service", {
          cluster,
          name: "frontend",
          namespace: "web",
          port: 80,
        });
        expect(service.isError, service.text).toBe(false);
        const servicePort = Number(/127\.0\.0\.1:(\d+)/.exec(service.text)?.[1]);
        const response = await fetch(`http://127.0.0.1:${servicePort}/`);
        expect(await response.text()).toMatch(
          new RegExp(`^hello from ${cluster} web/frontend-5d8f7c9b6-\\w+ port 8080`),
        );
      });
    });
  }

  it("lists, shows and switches the session's context without affecting other sessions", async () => {
    const contexts = await call(gateway, "k8s_list_contexts", {});
    for (const name of ["management", "org-acme/dev", "org-acme/prod", "org-globex/prod"])
      expect(contexts.text).toContain(name);
    expect((await call(gateway, "k8s_get_current_context", {})).text).toContain("org-acme/dev");
    expect((await call(gateway, "k8s_switch_context", { cluster: "org-globex/prod" })).isError).toBe(false);
    const identity = await call(gateway, "k8s_get_resource", {
      resource: "configmap",
      name: "cluster-identity",
      namespace: "default",
    });
    expect(identity.text).toContain("cluster: org-globex/prod");

    // A second session on the same gateway keeps the default: the switch is per session, not global.
    const other = new Client({ name: "capi-mcp-e2e-second-session", version: "1.0.0" });
    await other.connect(new StreamableHTTPClientTransport(new URL(String(gateway.endpoint))));
    try {
      const otherIdentity = await other.callTool({
        name: "k8s_get_resource",
        arguments: { resource: "configmap", name: "cluster-identity", namespace: "default" },
      });
      expect(resultText(otherIdentity)).toContain("cluster: org-acme/dev");
    } finally {
      await other.close();
    }
    expect((await call(gateway, "k8s_switch_context", { cluster: "org-nowhere/prod" })).text).toMatch(
      /k8s_list_contexts/,
    );
  });

  it("pages a list with limit and continue", async () => {
    const page = async (token?: string) =>
      call(gateway, "k8s_list_resources", {
        cluster: "org-acme/prod",
        resource: "pods",
        namespace: "web",
        limit: 1,
        ...(token ? { continue: token } : {}),
      });
    const first = await page();
    const token = /continue: "([^"]+)"/.exec(first.text)?.[1];
    expect(token, first.text).toBeTruthy();
    const second = await page(token);
    expect(second.isError, second.text).toBe(false);
    expect(second.text).toContain("This is the complete list.");
    const podOf = (text: string) => /frontend-5d8f7c9b6-\w+/.exec(text)?.[0];
    expect(podOf(first.text)).toBeTruthy();
    expect(podOf(second.text)).toBeTruthy();
    expect(podOf(second.text)).not.toBe(podOf(first.text));
  });

  it("answers a request with a foreign Origin with 403", async () => {
    const response = await fetch(String(gateway.endpoint), {
      method: "POST",
      headers: {
        origin: "https://evil.example",
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }),
    });
    expect(response.status).toBe(403);
  });

  it("writes one audit record per call, with actor, client, cluster, namespace, kind, name and outcome", async () => {
    const marker = unique("audit");
    await call(gateway, "k8s_get_resource", {
      cluster: "org-acme/prod",
      resource: "configmap",
      name: marker,
      namespace: "web",
    });
    const records = (await gateway.auditRecords()).filter((record) => record.name === marker);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      tool: "k8s_get_resource",
      cluster: "org-acme/prod",
      namespace: "web",
      kind: "configmap",
      outcome: "error",
      errorCode: "not_found",
      actor: { source: "kubeconfig" },
      client: { name: "capi-mcp-e2e", version: "1.0.0" },
    });
  });
});

describe("capi-mcp over stdio with its defaults (non-destructive)", () => {
  let gateway: GatewayUnderTest;
  beforeAll(async () => {
    gateway = await track(startStdioGateway({ kubeconfig: info.kubeconfig, context: "org-acme/dev" }));
  });

  it("offers no tool that changes anything, and refuses one called anyway", async () => {
    const names = (await gateway.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain("k8s_get_resource");
    for (const hidden of [
      "k8s_create_resource",
      "k8s_apply_resource",
      "k8s_patch_resource",
      "k8s_delete_resource",
      "k8s_scale_resource",
      "k8s_exec_pod",
      "k8s_port_forward_pod",
    ]) {
      expect(names).not.toContain(hidden);
    }
    const refused = await call(gateway, "k8s_delete_resource", {
      resource: "deploy",
      name: "frontend",
      namespace: "web",
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/non-destructive/);
    expect((await directGet("org-acme/dev", "/apis/apps/v1/namespaces/web/deployments/frontend")).status).toBe(200);
    const records = await gateway.auditRecords();
    expect(records.find((record) => record.tool === "k8s_delete_resource")).toMatchObject({
      outcome: "denied",
      errorCode: "denied_by_policy",
    });
  });

  it("never shows a Secret's value on any read path", async () => {
    const direct = await directGet("org-acme/dev", "/api/v1/namespaces/web/secrets/frontend-api-key");
    const encoded = (direct.body.data as Record<string, string>)["api-key"] ?? "";
    const plain = Buffer.from(encoded, "base64").toString("utf8");
    expect(plain.length).toBeGreaterThan(10);
    const answers = [
      await call(gateway, "k8s_get_resource", { resource: "secret", name: "frontend-api-key", namespace: "web" }),
      await call(gateway, "k8s_list_resources", { resource: "secrets", namespace: "web", output: "yaml" }),
      await call(gateway, "k8s_list_resources", { resource: "secrets", output: "yaml" }),
      await call(gateway, "k8s_describe_resource", { resource: "secret", name: "frontend-api-key", namespace: "web" }),
    ];
    for (const answer of answers) {
      expect(answer.isError, answer.text).toBe(false);
      expect(answer.text).toContain("frontend-api-key");
      expect(answer.text).not.toContain(encoded);
      expect(answer.text).not.toContain(plain);
    }
  });
});

describe("capi-mcp in dry-run mode", () => {
  let gateway: GatewayUnderTest;
  beforeAll(async () => {
    gateway = await track(
      startStdioGateway({ kubeconfig: info.kubeconfig, context: "org-acme/prod", extraArguments: ["--dry-run"] }),
    );
  });

  it("sends every mutation as a server-side dry run and leaves the cluster unchanged", async () => {
    const name = unique("dry");
    const created = await call(gateway, "k8s_create_resource", {
      manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "web" }, data: { a: "b" } },
    });
    expect(created.isError, created.text).toBe(false);
    expect(created.text).toMatch(/dry run/i);
    expect((await directGet("org-acme/prod", `/api/v1/namespaces/web/configmaps/${name}`)).status).toBe(404);

    const scaled = await call(gateway, "k8s_scale_resource", {
      resource: "deployments",
      name: "frontend",
      namespace: "web",
      replicas: 7,
    });
    expect(scaled.text).toMatch(/dry run/i);
    const deleted = await call(gateway, "k8s_delete_resource", {
      resource: "deployments",
      name: "ledger",
      namespace: "payments",
    });
    expect(deleted.text).toMatch(/dry run/i);
    const frontend = await directGet("org-acme/prod", "/apis/apps/v1/namespaces/web/deployments/frontend");
    expect((frontend.body.spec as { replicas: number }).replicas).toBe(2);
    expect((await directGet("org-acme/prod", "/apis/apps/v1/namespaces/payments/deployments/ledger")).status).toBe(200);

    const exec = await call(gateway, "k8s_exec_pod", { name: frontendPod, namespace: "web", command: ["hostname"] });
    expect(exec.isError).toBe(true);
    const records = await gateway.auditRecords();
    expect(records.find((record) => record.tool === "k8s_create_resource")).toMatchObject({
      dryRun: true,
      outcome: "ok",
    });
  });
});

describe("capi-mcp as a restricted user (alice's own ID token)", () => {
  it("passes the API server's Forbidden on as a tool error that names the action, not the user", async () => {
    const kubeconfig = await userKubeconfig(info, "alice", scratch);
    const gateway = await track(startStdioGateway({ kubeconfig, context: "org-acme/prod" }));
    const allowed = await call(gateway, "k8s_list_resources", { resource: "pods", namespace: "web" });
    expect(allowed.isError, allowed.text).toBe(false);
    const denied = await call(gateway, "k8s_list_resources", { resource: "secrets", namespace: "web" });
    expect(denied.isError).toBe(true);
    expect(denied.text).toMatch(/Forbidden/);
    expect(denied.text).toMatch(/secrets/);
    expect(denied.text).not.toContain("alice@example.com");
    expect(denied.text).not.toContain("acme-dev");
  });
});

describe("capi-mcp with namespace rules", () => {
  it("hides denied namespaces from lists across namespaces, says so, and refuses direct access", async () => {
    const gateway = await track(
      startStdioGateway({
        kubeconfig: info.kubeconfig,
        context: "org-acme/dev",
        extraArguments: ["--denied-namespaces", "payments"],
      }),
    );
    const all = await call(gateway, "k8s_list_resources", {
      resource: "pods",
      labelSelector: "app in (frontend,ledger)",
    });
    expect(all.isError, all.text).toBe(false);
    expect(all.text).toContain(frontendPod);
    expect(all.text).not.toContain("ledger-");
    expect(all.text).toMatch(/payments/);
    const direct = await call(gateway, "k8s_get_resource", {
      resource: "deployment",
      name: "ledger",
      namespace: "payments",
    });
    expect(direct.isError).toBe(true);
    expect(direct.text).toMatch(/payments/);
    const logs = await call(gateway, "k8s_get_pod_logs", {
      name: "ledger-7f6b5c4d3-w8n2r",
      namespace: "payments",
      container: "ledger",
    });
    expect(logs.isError).toBe(true);
  });
});

describe("capi-mcp with secret values allowed", () => {
  it("returns a Secret's value when --allow-secret-values is set", async () => {
    const gateway = await track(
      startStdioGateway({
        kubeconfig: info.kubeconfig,
        context: "org-acme/dev",
        extraArguments: ["--allow-secret-values"],
      }),
    );
    const direct = await directGet("org-acme/dev", "/api/v1/namespaces/web/secrets/frontend-api-key");
    const encoded = (direct.body.data as Record<string, string>)["api-key"] ?? "";
    const answer = await call(gateway, "k8s_get_resource", {
      resource: "secret",
      name: "frontend-api-key",
      namespace: "web",
    });
    expect(answer.text).toContain(encoded);
  });
});

describe("capi-mcp mutations that carry secrets", () => {
  it("redacts secret values in create, apply and patch answers and in the audit record", async () => {
    const gateway = await track(
      startStdioGateway({ kubeconfig: info.kubeconfig, context: "org-acme/dev", extraArguments: allOperations }),
    );
    const name = unique("secret");
    const value = randomBytes(12).toString("hex");
    const manifest = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: "web" },
      stringData: { token: value },
    };
    const encoded = Buffer.from(value).toString("base64");
    const answers = [
      await call(gateway, "k8s_create_resource", { manifest }),
      await call(gateway, "k8s_apply_resource", {
        manifest: { ...manifest, stringData: { token: value, other: value } },
      }),
      await call(gateway, "k8s_patch_resource", {
        resource: "secrets",
        name,
        namespace: "web",
        patch: { stringData: { third: value } },
      }),
    ];
    for (const answer of answers) {
      expect(answer.isError, answer.text).toBe(false);
      expect(answer.text).not.toContain(value);
      expect(answer.text).not.toContain(encoded);
    }
    const stored = await directGet("org-acme/dev", `/api/v1/namespaces/web/secrets/${name}`);
    expect((stored.body.data as Record<string, string>).token).toBe(encoded);
    const audit = JSON.stringify(await gateway.auditRecords());
    expect(audit).toContain(name);
    expect(audit).not.toContain(value);
    await call(gateway, "k8s_delete_resource", { resource: "secret", name, namespace: "web" });
  });
});
