// METRICS_EXPORTER=otlp end to end: a Cluster API gateway (OAuth, impersonation on the workload
// clusters) pushes OTLP/HTTP protobuf every 500 ms to a loopback receiver started here, which
// decodes each export with the OTLP metrics definitions. Real tool calls on the fleet move the
// cumulative http_requests_total and mcp_kubernetes_operations_total points by exactly the calls
// made; the resource names the service; no token text is in any attribute.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import {
  initializeWithBearer,
  type LoggedInClient,
  loginThroughGateway,
  type OAuthGateway,
  startOAuthGateway,
} from "../gateway/oauth-flow.ts";
import { type OtlpReceiver, type ReceivedMetricPoint, startOtlpReceiver } from "../otlp/receiver.ts";

const serviceName = "capi-mcp-otlp-metrics-e2e";
const refusedBearer = `not-a-token-${Date.now().toString(36)}`;

let info: FleetInfo;
let scratch: string;
let receiver: OtlpReceiver;
let gateway: OAuthGateway;
let bob: LoggedInClient;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-otlp-metrics-"));
  receiver = await startOtlpReceiver();
  gateway = await startOAuthGateway(info, scratch, {
    kubeAuth: "impersonation",
    kubeconfig: info.management.gatewayKubeconfig,
    extraArguments: ["--enable-capi", "--workload-auth", "impersonation"],
    environment: {
      METRICS_EXPORTER: "otlp",
      TRACING_EXPORTER: "none",
      OTEL_METRIC_EXPORT_INTERVAL: "500",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SERVICE_NAME: serviceName,
    },
  });
  bob = await loginThroughGateway(info, gateway, "bob");
});

afterAll(async () => {
  await bob?.close();
  await gateway?.stop();
  await receiver?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** The points of `metric` in the latest export that carries it. */
function latest(metric: string): ReceivedMetricPoint[] {
  const points = receiver.metricPoints.filter((point) => point.metric === metric);
  const last = Math.max(-1, ...points.map((point) => point.exportIndex));
  return points.filter((point) => point.exportIndex === last);
}

/** The value of the point of `metric` whose attributes include `match` in the latest export, 0 when none. */
function pointValue(metric: string, match: Record<string, string>): number {
  const matching = latest(metric).filter((point) =>
    Object.entries(match).every(([key, value]) => String(point.attributes[key]) === value),
  );
  return matching.reduce((total, point) => total + point.value, 0);
}

/** Waits for two more exports, so what is read next was recorded after everything done so far. */
async function nextExports(): Promise<void> {
  const seen = receiver.requests.metrics;
  await receiver.waitForMetrics(() => receiver.requests.metrics >= seen + 2, 10_000);
}

const mcpOk = { method: "POST", path: "/mcp", status: "200" };
const listSuccess = { operation: "list", status: "success", cluster_scope: "workload" };

describe("metrics pushed over OTLP/HTTP protobuf", () => {
  it("move by exactly the tool calls made, cumulatively, under the service's resource", async () => {
    await receiver.waitForMetrics(() => latest("http_requests_total").length > 0);
    await nextExports();
    const requestsBefore = pointValue("http_requests_total", mcpOk);
    const listsBefore = pointValue("mcp_kubernetes_operations_total", listSuccess);
    const operationsBefore = pointValue("mcp_kubernetes_operations_total", {});
    const startTimes = new Map(
      latest("mcp_kubernetes_operations_total").map((point) => [
        JSON.stringify(point.attributes),
        point.startTimeUnixNano,
      ]),
    );

    const calls = [
      { cluster: "org-acme/dev", resource: "pods", namespace: "web" },
      { cluster: "org-acme/prod", resource: "pods", namespace: "web" },
      { cluster: "org-acme/dev", resource: "pods", namespace: "web" },
    ];
    for (const args of calls) {
      const result = await bob.client.callTool({ name: "k8s_list_resources", arguments: args });
      expect(result.isError, resultText(result)).toBe(false);
    }
    await receiver.waitForMetrics(
      () => pointValue("mcp_kubernetes_operations_total", listSuccess) >= listsBefore + calls.length,
    );
    await nextExports();

    expect(pointValue("http_requests_total", mcpOk)).toBe(requestsBefore + calls.length);
    expect(pointValue("mcp_kubernetes_operations_total", listSuccess)).toBe(listsBefore + calls.length);
    expect(pointValue("mcp_kubernetes_operations_total", {})).toBe(operationsBefore + calls.length);
    for (const metric of ["http_requests_total", "mcp_kubernetes_operations_total"]) {
      for (const point of latest(metric)) {
        expect(point, metric).toMatchObject({ type: "sum", temporality: "cumulative", monotonic: true });
        expect(point.resource["service.name"]).toBe(serviceName);
      }
    }
    // Cumulative: a series that was there before keeps its start time.
    for (const point of latest("mcp_kubernetes_operations_total")) {
      const before = startTimes.get(JSON.stringify(point.attributes));
      if (before !== undefined) expect(point.startTimeUnixNano).toBe(before);
    }
    const durations = latest("mcp_kubernetes_operation_duration_seconds").filter(
      (point) => point.attributes.operation === "list",
    );
    expect(durations.length).toBeGreaterThan(0);
    expect(durations[0]?.type).toBe("histogram");
    expect(durations.reduce((total, point) => total + point.value, 0)).toBeGreaterThanOrEqual(calls.length);
    expect(receiver.requests.undecodable).toBe(0);
  });

  it("carry no token text in any attribute", async () => {
    const response = await initializeWithBearer(gateway.endpoint, refusedBearer, "metrics-otlp-test");
    expect(response.status).toBe(401);
    await response.body?.cancel();
    await receiver.waitForMetrics(() => pointValue("oauth_downstream_auth_total", { result: "failure" }) >= 1);
    await nextExports();
    const tokens = bob.provider.tokens();
    const secrets = [tokens?.access_token, tokens?.refresh_token, refusedBearer, gateway.registrationToken].filter(
      (secret): secret is string => typeof secret === "string" && secret.length > 0,
    );
    expect(secrets.length).toBe(4);
    const text = JSON.stringify(receiver.metricPoints.map((point) => [point.attributes, point.resource]));
    // The attributes are there to be searched: the HTTP route and the Kubernetes operation.
    expect(text).toContain('"/mcp"');
    expect(text).toContain('"list"');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain("bob");
  });
});
