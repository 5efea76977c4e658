// The gateway's audit trail joins the workload clusters' own audit logs: every request a tool call
// makes carries the call id as Audit-ID, kube-apiserver (1.20) records it as the event's auditID,
// and the user the API server saw is the record's actor — impersonated by the gateway, or the
// user's own OIDC identity in SSO passthrough. Also: a change is refused when its record cannot be
// written (a full disk), and the API server never sees it.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { type AuditEvent as ApiServerAuditEvent, clusterInfo, fleetInfo } from "../fleet/test-context.ts";
import { type AuditRecord, readAudit, resultText } from "../gateway/harness.ts";
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
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-audit-join-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

type Cluster = "management" | "org-acme/dev" | "org-acme/prod";

/** The workload cluster's ResponseComplete events whose auditID is `callId`, waiting briefly for them. */
async function apiServerEvents(cluster: Cluster, callId: string, atLeast = 1): Promise<ApiServerAuditEvent[]> {
  const file = clusterInfo(info, cluster).auditLog;
  let events: ApiServerAuditEvent[] = [];
  for (let attempt = 0; attempt < 50; attempt += 1) {
    events = (await readFile(file, "utf8"))
      .split("\n")
      .filter((line) => line.includes(callId))
      .map((line) => JSON.parse(line) as ApiServerAuditEvent)
      .filter((event) => event.auditID === callId && event.stage === "ResponseComplete");
    if (events.length >= atLeast) return events;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return events;
}

/** The username the API server authorized the request as. */
function seenAs(event: ApiServerAuditEvent): string {
  return event.impersonatedUser?.username ?? event.user.username;
}

for (const mode of ["impersonation", "sso-passthrough"] as const) {
  describe(`gateway audit records joined with workload audit logs (${mode})`, () => {
    let gateway: OAuthGateway;
    let bob: LoggedInClient;

    beforeAll(async () => {
      gateway = await startOAuthGateway(info, scratch, {
        kubeAuth: "impersonation",
        kubeconfig: info.management.gatewayKubeconfig,
        extraArguments: ["--enable-capi", "--workload-auth", mode],
      });
      bob = await loginThroughGateway(info, gateway, "bob");
    });

    afterAll(async () => {
      await bob?.close();
      await gateway?.stop();
    });

    it("finds each record's call id as the auditID of its requests, made as the record's actor", async () => {
      const marker = `join-${randomBytes(4).toString("hex")}`;
      const missing = await bob.client.callTool({
        name: "k8s_get_resource",
        arguments: { cluster: "org-acme/prod", resource: "configmap", name: marker, namespace: "web" },
      });
      expect(resultText(missing)).toMatch(/^Not found/);
      const fleet = await bob.client.callTool({
        name: "k8s_list_resources",
        arguments: { clusters: ["org-acme/dev", "org-acme/prod"], resource: "pods", namespace: "web" },
      });
      expect(fleet.isError, resultText(fleet)).not.toBe(true);

      const records = await readAudit(gateway.auditFile);
      const get = records.find((record) => record.tool === "k8s_get_resource" && record.name === marker) as AuditRecord;
      const list = records.filter((record) => record.tool === "k8s_list_resources").at(-1) as AuditRecord;
      expect(get.actor.username).toBe("bob@example.com");
      expect(get.client.oauthClientId).toEqual(expect.any(String));
      expect(get.kubernetesResponses).toContainEqual({
        cluster: "org-acme/prod",
        verb: "get",
        resource: "configmaps",
        status: 404,
      });

      const getEvents = (await apiServerEvents("org-acme/prod", get.callId)).filter(
        (event) => event.objectRef?.name === marker,
      );
      expect(getEvents.length).toBeGreaterThanOrEqual(1);
      for (const event of getEvents) {
        expect(event.objectRef).toMatchObject({ resource: "configmaps", namespace: "web", name: marker });
        expect(event.verb).toBe("get");
        expect(event.responseStatus?.code).toBe(404);
        expect(seenAs(event)).toBe(get.actor.username);
        if (mode === "impersonation") expect(event.impersonatedUser?.username).toBe(get.actor.username);
        else expect(event.impersonatedUser).toBeUndefined();
      }
      // Nothing else in the workload cluster's log names the marker under another id.
      const elsewhere = (await readFile(clusterInfo(info, "org-acme/prod").auditLog, "utf8"))
        .split("\n")
        .filter((line) => line.includes(marker) && line.includes('"ResponseComplete"'))
        .map((line) => (JSON.parse(line) as ApiServerAuditEvent).auditID);
      expect(new Set(elsewhere)).toEqual(new Set([get.callId]));

      // One call id across the whole fan-out: each cluster's log holds its share under it.
      for (const cluster of ["org-acme/dev", "org-acme/prod"] as const) {
        const events = await apiServerEvents(cluster, list.callId);
        const podLists = events.filter((event) => event.objectRef?.resource === "pods" && event.verb === "list");
        expect(podLists.length, `${cluster} pod lists under ${list.callId}`).toBeGreaterThanOrEqual(1);
        for (const event of events) expect(seenAs(event)).toBe(list.actor.username);
        expect(list.kubernetesResponses).toContainEqual({ cluster, verb: "list", resource: "pods", status: 200 });
      }
      // The management cluster's requests of those calls (access reviews: may bob see the cluster?)
      // carry the same ids, made by the gateway's own service account.
      // (and, the first time, the cluster's credential read: a kubeconfig Secret or a CA ConfigMap).
      const management = [
        ...(await apiServerEvents("management", get.callId)),
        ...(await apiServerEvents("management", list.callId)),
      ];
      expect(management.some((event) => event.objectRef?.resource === "subjectaccessreviews")).toBe(true);
      for (const event of management) {
        expect(event.user.username).toBe("system:serviceaccount:capi-mcp-system:capi-mcp");
        expect(["subjectaccessreviews", "secrets", "configmaps"]).toContain(event.objectRef?.resource);
      }
      // Call ids are per call, never reused.
      expect(get.callId).not.toBe(list.callId);
      expect(new Set(records.map((record) => record.callId)).size).toBe(records.length);
    });
  });
}

describe("audit fails closed for changes", () => {
  let gateway: OAuthGateway;
  let bob: LoggedInClient;

  beforeAll(async () => {
    // /dev/full: every write fails with ENOSPC, as on a full audit volume.
    gateway = await startOAuthGateway(info, scratch, {
      kubeAuth: "impersonation",
      kubeconfig: info.management.gatewayKubeconfig,
      extraArguments: [
        "--enable-capi",
        "--workload-auth",
        "impersonation",
        "--non-destructive=false",
        // After the harness's own --audit-log <file>: the last one counts.
        "--audit-log",
        "none",
        "--audit-log-file",
        "/dev/full",
      ],
    });
    bob = await loginThroughGateway(info, gateway, "bob");
  });

  afterAll(async () => {
    await bob?.close();
    await gateway?.stop();
  });

  it("refuses a create it cannot record, sends nothing, says why in the log and the metric; reads go on", async () => {
    const name = `unrecorded-${randomBytes(4).toString("hex")}`;
    const refused = await bob.client.callTool({
      name: "k8s_create_resource",
      arguments: {
        cluster: "org-acme/dev",
        manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "web" }, data: { a: "b" } },
      },
    });
    expect(refused.isError).toBe(true);
    expect(resultText(refused)).toContain("cannot write its audit record");
    const read = await bob.client.callTool({
      name: "k8s_list_resources",
      arguments: { cluster: "org-acme/dev", resource: "pods", namespace: "web" },
    });
    expect(read.isError, resultText(read)).not.toBe(true);
    // The API server never saw the create.
    const devLog = await readFile(clusterInfo(info, "org-acme/dev").auditLog, "utf8");
    expect(devLog).not.toContain(name);
    expect(gateway.stderr()).toContain("audit record could not be written; the call was refused");
    expect(gateway.stderr()).toContain("ENOSPC");
    const metrics = await (await fetch(String(gateway.metricsUrl))).text();
    expect(metrics).toMatch(/capi_mcp_audit_write_failures_total\{[^}]*operation="mutation"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/capi_mcp_audit_write_failures_total\{[^}]*operation="read"[^}]*\} [1-9]/);
  });
});
