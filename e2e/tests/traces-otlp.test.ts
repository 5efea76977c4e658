// One federated tool call, one trace: the caller's trace context (params._meta.traceparent, or
// the HTTP traceparent header) is the parent of the gateway's `tools/call` span, and each
// workload-cluster request is a client span below it, exported over OTLP/HTTP protobuf to a
// receiver started here and decoded with the OTLP protobuf definitions. No token text is in it.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { type AuditRecord, readAudit, resultText } from "../gateway/harness.ts";
import {
  type LoggedInClient,
  loginThroughGateway,
  type OAuthGateway,
  startOAuthGateway,
} from "../gateway/oauth-flow.ts";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../otlp/receiver.ts";

let info: FleetInfo;
let scratch: string;
let receiver: OtlpReceiver;
let gateway: OAuthGateway;
let bob: LoggedInClient;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-traces-"));
  receiver = await startOtlpReceiver();
  gateway = await startOAuthGateway(info, scratch, {
    kubeAuth: "impersonation",
    kubeconfig: info.management.gatewayKubeconfig,
    extraArguments: [
      "--enable-capi",
      "--workload-auth",
      "sso-passthrough",
      "--audit-request-headers",
      "x-model,x-route",
    ],
    environment: {
      TRACING_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_TRACES_SAMPLER: "parentbased_always_on",
      OTEL_SERVICE_NAME: "capi-mcp-e2e",
    },
  });
  bob = await loginThroughGateway(info, gateway, "bob");
});

afterAll(async () => {
  await bob?.close();
  await gateway?.stop();
  await receiver?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const newTraceId = () => randomBytes(16).toString("hex");
const newSpanId = () => randomBytes(8).toString("hex");

/** Every span below `root` in `spans`, at any depth. */
function descendants(spans: readonly ReceivedSpan[], root: ReceivedSpan): ReceivedSpan[] {
  const below: ReceivedSpan[] = [];
  let frontier = [root.spanId];
  while (frontier.length > 0) {
    const children = spans.filter((span) => span.parentSpanId !== undefined && frontier.includes(span.parentSpanId));
    below.push(...children);
    frontier = children.map((span) => span.spanId);
  }
  return below;
}

async function lastRecord(tool: string): Promise<AuditRecord> {
  return (await readAudit(gateway.auditFile)).filter((record) => record.tool === tool).at(-1) as AuditRecord;
}

describe("traces of a federated tool call", () => {
  it("continue the caller's trace from params._meta down to one client span per workload request", async () => {
    const traceId = newTraceId();
    const callerSpanId = newSpanId();
    const result = await bob.client.callTool({
      name: "k8s_list_resources",
      arguments: { clusters: ["org-acme/dev", "org-acme/prod"], resource: "pods", namespace: "web" },
      _meta: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(result.isError, resultText(result)).not.toBe(true);
    const record = await lastRecord("k8s_list_resources");
    expect(record.traceId).toBe(traceId);

    const isServerSpan = (span: ReceivedSpan) => span.traceId === traceId && span.kind === "server";
    await receiver.waitFor((spans) => {
      const server = spans.find(isServerSpan);
      if (server === undefined) return false;
      const clusters = new Set(descendants(spans, server).map((span) => span.attributes["k8s.cluster.name"]));
      return clusters.has("org-acme/dev") && clusters.has("org-acme/prod");
    });
    expect(receiver.requests.undecodable).toBe(0);
    const inTrace = receiver.spans.filter((span) => span.traceId === traceId);
    const [server, ...otherServers] = inTrace.filter((span) => span.kind === "server");
    expect(otherServers).toEqual([]);
    expect(server).toMatchObject({
      name: "tools/call k8s_list_resources",
      parentSpanId: callerSpanId,
      attributes: {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "k8s_list_resources",
        "gen_ai.operation.name": "execute_tool",
        "mcp.session.id": record.sessionId,
        "capi_mcp.call.id": record.callId,
        "capi_mcp.tool.outcome": "ok",
      },
      resource: { "service.name": "capi-mcp-e2e" },
    });
    expect(server?.attributes["error.type"]).toBeUndefined();

    // Every other span of the trace hangs below the call's span: one trace, no loose ends.
    const below = descendants(inTrace, server as ReceivedSpan);
    expect(below.map((span) => span.spanId).sort()).toEqual(
      inTrace
        .filter((span) => span !== server)
        .map((span) => span.spanId)
        .sort(),
    );
    for (const cluster of ["org-acme/dev", "org-acme/prod"]) {
      const podLists = below.filter(
        (span) =>
          span.attributes["k8s.cluster.name"] === cluster &&
          span.attributes["capi_mcp.kubernetes.resource"] === "pods" &&
          span.attributes["capi_mcp.kubernetes.verb"] === "list",
      );
      expect(podLists.length, cluster).toBeGreaterThanOrEqual(1);
      for (const span of podLists) {
        expect(span).toMatchObject({
          kind: "client",
          name: "list pods",
          attributes: { "http.request.method": "GET", "http.response.status_code": 200, "k8s.namespace.name": "web" },
        });
      }
    }
    for (const span of below) expect(span.kind).toBe("client");

    // No token's text: not the caller's access or refresh token, nor any JWT (the ID token SSO
    // passthrough sends to the workload clusters), in any attribute of any span.
    const everything = JSON.stringify(receiver.spans);
    const tokens = bob.provider.tokens();
    for (const secret of [tokens?.access_token, tokens?.refresh_token]) {
      expect(secret?.length ?? 0).toBeGreaterThan(10);
      expect(everything).not.toContain(String(secret));
    }
    expect(everything).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\./);
    expect(everything.toLowerCase()).not.toContain("bearer");
  });

  it("take the trace from the HTTP traceparent header when params._meta has none, and mark a refusal as an error", async () => {
    const traceId = newTraceId();
    const callerSpanId = newSpanId();
    const tokens = bob.provider.tokens();
    const sessionRecord = await lastRecord("k8s_list_resources");
    const response = await fetch(gateway.endpoint, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tokens?.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": String(sessionRecord.sessionId),
        "mcp-protocol-version": "2025-11-25",
        traceparent: `00-${traceId}-${callerSpanId}-01`,
        "x-model": "model-under-test",
        "x-other": "not asked for",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 901,
        method: "tools/call",
        params: {
          name: "k8s_list_resources",
          arguments: { cluster: "org-acme/prod", resource: "secrets", namespace: "kube-system" },
        },
      }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const answer = (await response.json()) as { result?: { isError?: boolean } };
    expect(answer.result?.isError).toBe(true);
    // The record names the trace and the headers the operator asked for, and only those.
    const record = await lastRecord("k8s_list_resources");
    expect(record).toMatchObject({ traceId, outcome: "error", requestHeaders: { "x-model": "model-under-test" } });
    expect(Object.keys(record.requestHeaders ?? {})).toEqual(["x-model"]);
    await receiver.waitFor((spans) => spans.some((span) => span.traceId === traceId && span.kind === "server"));
    const server = receiver.spans.find((span) => span.traceId === traceId && span.kind === "server");
    expect(server?.parentSpanId).toBe(callerSpanId);
    expect(server?.attributes["error.type"]).toBe("forbidden");
    expect(server?.status).toEqual({ code: "error", message: "forbidden" });
    await receiver.waitFor((spans) =>
      spans.some((span) => span.traceId === traceId && span.attributes["http.response.status_code"] === 403),
    );
    const refused = receiver.spans.find(
      (span) => span.traceId === traceId && span.attributes["http.response.status_code"] === 403,
    );
    expect(refused).toMatchObject({
      kind: "client",
      parentSpanId: server?.spanId,
      attributes: { "capi_mcp.kubernetes.resource": "secrets", "error.type": "403" },
    });
  });
});
