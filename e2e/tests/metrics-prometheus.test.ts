// The gateway's metrics seen by a real Prometheus (Debian's `prometheus`, started here on loopback
// with a generated config scraping the gateway's metrics listener): tool calls on the fleet move
// the counters by exactly what was done. `promtool check metrics` lints the exposition, and
// `promtool test rules` runs the chart's PrometheusRule alerts against synthetic series.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { dashboardQueries, seriesNamesIn } from "../chart/dashboards.ts";
import { baseValues, merge, renderChart } from "../chart/values-matrix.ts";
import type { FleetInfo } from "../fleet/fleet.ts";
import { freePorts } from "../fleet/processes.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { type GatewayUnderTest, resultText, startHttpGateway } from "../gateway/harness.ts";
import {
  initializeWithBearer,
  loginThroughGateway,
  type OAuthGateway,
  startOAuthGateway,
} from "../gateway/oauth-flow.ts";

const run = promisify(execFile);
const frontendPod = "frontend-5d8f7c9b6-k2x4p";

let info: FleetInfo;
let scratch: string;
let gateway: GatewayUnderTest & { process: { metricsUrl: string | undefined } };
let oauthGateway: OAuthGateway;
let prometheus: ReturnType<typeof spawn> | undefined;
let prometheusUrl: string;
let prometheusLog = "";

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMilliseconds = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}; prometheus said:\n${prometheusLog.slice(-2000)}`);
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function query(expression: string): Promise<Sample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`);
  const body = (await response.json()) as { status: string; data: { result: Sample[] }; error?: string };
  if (body.status !== "success") throw new Error(`query ${expression} failed: ${body.error}`);
  return body.data.result;
}

/** The single value of an expression, or undefined when it has no series. */
async function singleValue(expression: string): Promise<number | undefined> {
  const result = await query(expression);
  if (result.length > 1) throw new Error(`${expression} has ${result.length} series`);
  return result[0] === undefined ? undefined : Number(result[0].value[1]);
}

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-prometheus-"));
  gateway = await startHttpGateway({ kubeconfig: info.kubeconfig, context: "org-acme/dev" });
  const metricsUrl = new URL(gateway.process.metricsUrl ?? "");
  // Cluster API mode, users impersonated on the workload clusters.
  oauthGateway = await startOAuthGateway(info, scratch, {
    kubeAuth: "impersonation",
    kubeconfig: info.management.gatewayKubeconfig,
    extraArguments: ["--enable-capi", "--workload-auth", "impersonation"],
  });
  const oauthMetricsUrl = new URL(oauthGateway.metricsUrl ?? "");
  const [prometheusPort] = await freePorts(1);
  prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  const configFile = path.join(scratch, "prometheus.yml");
  await writeFile(
    configFile,
    stringify({
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      scrape_configs: [
        { job_name: "capi-mcp", metrics_path: "/metrics", static_configs: [{ targets: [metricsUrl.host] }] },
        { job_name: "capi-mcp-oauth", metrics_path: "/metrics", static_configs: [{ targets: [oauthMetricsUrl.host] }] },
      ],
    }),
  );
  prometheus = spawn(
    "prometheus",
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(scratch, "data")}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      "--storage.tsdb.retention.time=1h",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  prometheus.stderr?.on("data", (chunk: Buffer) => {
    prometheusLog += chunk.toString("utf8");
  });
  await waitFor("Prometheus to be ready", async () => (await fetch(`${prometheusUrl}/-/ready`)).ok);
  await waitFor("the gateway's target to be up", async () => (await singleValue('up{job="capi-mcp"}')) === 1);
  await waitFor(
    "the OAuth gateway's target to be up",
    async () => (await singleValue('up{job="capi-mcp-oauth"}')) === 1,
  );
}, 120_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill("SIGTERM");
    await once(prometheus, "exit");
  }
  await gateway?.stop();
  await oauthGateway?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function call(name: string, args: Record<string, unknown>) {
  const result = await gateway.client.callTool({ name, arguments: args });
  return { text: resultText(result), isError: result.isError === true };
}

describe("the gateway's metrics in a real Prometheus", () => {
  it("count the tool calls made on the fleet, by tool, outcome, operation and status", async () => {
    expect((await call("k8s_list_resources", { resource: "pods", namespace: "web" })).isError).toBe(false);
    expect((await call("k8s_list_resources", { resource: "deployments", namespace: "web" })).isError).toBe(false);
    expect(
      (await call("k8s_get_resource", { resource: "configmaps", name: "ghost-object", namespace: "web" })).isError,
    ).toBe(true);
    expect((await call("k8s_get_pod_logs", { name: frontendPod, namespace: "web", tailLines: 5 })).isError).toBe(false);
    // Non-destructive by default: the guard refuses this before any cluster sees it.
    const denied = await call("k8s_delete_resource", { resource: "pods", name: frontendPod, namespace: "web" });
    expect(denied.isError).toBe(true);

    const expected: [string, number][] = [
      [
        'capi_mcp_tool_calls_total{job="capi-mcp", gen_ai_tool_name="k8s_list_resources", capi_mcp_tool_outcome="ok"}',
        2,
      ],
      [
        'capi_mcp_tool_calls_total{job="capi-mcp", gen_ai_tool_name="k8s_delete_resource", capi_mcp_tool_outcome="denied"}',
        1,
      ],
      [
        'capi_mcp_tool_calls_total{job="capi-mcp", gen_ai_tool_name="k8s_get_resource", capi_mcp_tool_outcome="error"}',
        1,
      ],
      [
        'mcp_kubernetes_operations_total{job="capi-mcp", cluster_scope="management", discovery_mode="single", operation="list", status="success"}',
        2,
      ],
      ['mcp_kubernetes_operations_total{job="capi-mcp", operation="get", status="error"}', 1],
      ['kubernetes_pod_operations_total{job="capi-mcp", operation="logs", namespace="web", status="success"}', 1],
      ['mcp_kubernetes_operation_duration_seconds_count{job="capi-mcp", operation="list", status="success"}', 2],
    ];
    await waitFor("the counters to reach the calls made", async () => {
      for (const [expression, value] of expected) if ((await singleValue(expression)) !== value) return false;
      return true;
    });
    for (const [expression, value] of expected) expect(await singleValue(expression), expression).toBe(value);
    // A denied call never reached a cluster, so it is no Kubernetes operation.
    expect(await query('mcp_kubernetes_operations_total{job="capi-mcp", operation="delete"}')).toEqual([]);
    // initialize, notifications and five tool calls, at least, all answered 200 on /mcp.
    expect(
      await singleValue('http_requests_total{job="capi-mcp", method="POST", path="/mcp", status="200"}'),
    ).toBeGreaterThanOrEqual(6);
    const build = await query('capi_mcp_build_info{job="capi-mcp"}');
    expect(build).toHaveLength(1);
    expect(build[0]?.metric).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      node_version: process.version,
    });
  });

  it("carry no object or user names as label values", async () => {
    const series = await fetch(`${prometheusUrl}/api/v1/series?match[]=${encodeURIComponent('{job="capi-mcp"}')}`);
    const text = JSON.stringify(await series.json());
    expect(text).toContain("mcp_kubernetes_operations_total");
    expect(text).not.toContain(frontendPod);
    expect(text).not.toContain("ghost-object");
    expect(text).not.toContain("org-acme/dev");
  });

  it("are served only on the metrics listener: /metrics on the MCP port is 404", async () => {
    const mcpPort = new URL(gateway.endpoint ?? "").origin;
    expect((await fetch(`${mcpPort}/metrics`)).status).toBe(404);
  });

  it("pass promtool check metrics", async () => {
    const exposition = await (await fetch(gateway.process.metricsUrl ?? "")).text();
    const file = path.join(scratch, "exposition.txt");
    await writeFile(file, exposition);
    const checked = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      child.on("close", (code) => resolve({ code, output }));
      child.stdin.end(exposition);
    });
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });
});

describe("the Cluster API gateway's metrics (OAuth, impersonation) in a real Prometheus", () => {
  it("count refused bearer tokens, a replayed refresh token, discovery, a fleet-wide list and a denied workload call", async () => {
    const bob = await loginThroughGateway(info, oauthGateway, "bob");
    try {
      const fleet = await bob.client.callTool({
        name: "k8s_list_resources",
        arguments: { clusters: ["org-acme/dev", "org-acme/prod"], resource: "pods", namespace: "web" },
      });
      expect(fleet.isError, resultText(fleet)).toBe(false);
      // bob may not read kube-system's secrets on prod: the API server says 403.
      const forbidden = await bob.client.callTool({
        name: "k8s_list_resources",
        arguments: { cluster: "org-acme/prod", resource: "secrets", namespace: "kube-system" },
      });
      expect(resultText(forbidden)).toMatch(/^Forbidden/);
    } finally {
      await bob.close();
    }
    const failures = 'oauth_downstream_auth_total{job="capi-mcp-oauth", result="failure"}';
    const successes = 'oauth_downstream_auth_total{job="capi-mcp-oauth", result="success"}';
    // The login's token-less first connect was refused: let Prometheus settle on a baseline.
    await waitFor("the login to be scraped", async () => ((await singleValue(successes)) ?? 0) >= 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = (await singleValue(failures)) ?? 0;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await initializeWithBearer(oauthGateway.endpoint, `not-a-token-${attempt}`, "metrics-test");
      expect(response.status).toBe(401);
      await response.body?.cancel();
    }
    const tokens = bob.provider.tokens();
    const clientId = String(bob.provider.clientInformation()?.client_id);
    const refresh = (refreshToken: string) =>
      fetch(`${oauthGateway.baseUrl}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId }),
      });
    expect((await refresh(String(tokens?.refresh_token))).status).toBe(200);
    expect((await refresh(String(tokens?.refresh_token))).status).toBe(400);

    const expected: [string, number][] = [
      [failures, before + 3],
      ['capi_mcp_oauth_events_total{job="capi-mcp-oauth", event="refresh_reuse"}', 1],
      ['sum(mcp_kubernetes_impersonation_total{job="capi-mcp-oauth"})', 2],
      ['mcp_kubernetes_impersonation_total{job="capi-mcp-oauth", result="success"}', 1],
      ['mcp_kubernetes_impersonation_total{job="capi-mcp-oauth", result="denied"}', 1],
      ['mcp_kubernetes_wc_auth_total{job="capi-mcp-oauth", auth_mode="impersonation", result="success"}', 1],
      ['mcp_kubernetes_wc_auth_total{job="capi-mcp-oauth", auth_mode="impersonation", result="denied"}', 1],
      [
        'mcp_kubernetes_operations_total{job="capi-mcp-oauth", cluster_scope="workload", discovery_mode="capi", operation="list", status="error"}',
        1,
      ],
      ['capi_mcp_fanout_duration_seconds_count{job="capi-mcp-oauth"}', 1],
      ['capi_mcp_discovered_clusters{job="capi-mcp-oauth"}', info.workloadClusters.length],
      [
        'capi_mcp_tool_calls_total{job="capi-mcp-oauth", gen_ai_tool_name="k8s_list_resources", capi_mcp_tool_outcome="ok"}',
        1,
      ],
    ];
    await waitFor("the OAuth counters to reach what was done", async () => {
      for (const [expression, value] of expected) if ((await singleValue(expression)) !== value) return false;
      return true;
    });
    for (const [expression, value] of expected) expect(await singleValue(expression), expression).toBe(value);
    const series = await fetch(
      `${prometheusUrl}/api/v1/series?match[]=${encodeURIComponent('{job="capi-mcp-oauth"}')}`,
    );
    const text = JSON.stringify(await series.json());
    expect(text).not.toContain("bob");
    expect(text).not.toContain("org-acme/prod");
    expect(text).not.toContain(String(tokens?.refresh_token));
  });
});

/**
 * Dashboard metrics no call in this file can cause on a live gateway, each with why. The test fails
 * when one of these does appear (the entry is stale) or when any other dashboard metric is missing.
 */
const notCausedHere: Record<string, string> = {
  capi_mcp_audit_write_failures_total:
    "counted only when the audit sink fails to write, which these gateways' sinks do not",
  mcp_kubernetes_client_cache_evictions_total:
    "counted when a pooled client expires or the pool is full; the pool's TTL and size outlast this test",
  capi_mcp_fanout_cluster_failures_total:
    "counted when a cluster fails inside a fleet-wide call; every workload cluster of the fleet answers",
};

describe("the chart's Grafana dashboard against live gateways", () => {
  it("queries only metrics the gateways export after the calls above, histograms as _bucket, _sum and _count", async () => {
    const scrapes = await Promise.all(
      [gateway.process.metricsUrl, oauthGateway.metricsUrl].map(async (url) => {
        const response = await fetch(url ?? "");
        expect(response.status).toBe(200);
        return response.text();
      }),
    );
    const live = new Set(scrapes.flatMap((text) => [...seriesNamesIn(text)]));
    const queried = new Map<string, string>();
    for (const { file, panel, names } of dashboardQueries())
      for (const name of names) queried.set(name, `${file} "${panel}"`);
    expect(queried.size).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const [name, where] of queried) {
      const family = name.replace(/_bucket$/, "");
      const present =
        name === family
          ? live.has(name)
          : ["_bucket", "_sum", "_count"].every((suffix) => live.has(`${family}${suffix}`));
      if (!present && notCausedHere[name] === undefined) missing.push(`${name} (${where})`);
      if (present && notCausedHere[name] !== undefined) missing.push(`${name} appeared: remove it from notCausedHere`);
    }
    for (const name of Object.keys(notCausedHere)) {
      if (!queried.has(name)) missing.push(`${name} is listed in notCausedHere but no dashboard queries it`);
    }
    expect(missing).toEqual([]);
  });
});

describe("the chart's alert rules", () => {
  it("fire on the gateway's series as intended (promtool test rules)", async () => {
    const rendered = await renderChart(merge(baseValues, { prometheusRules: { enabled: true } }), {
      release: "capi-mcp",
      namespace: "capi-mcp",
      helmArguments: ["--api-versions", "monitoring.coreos.com/v1"],
    });
    const rule = rendered.one("PrometheusRule") as unknown as { spec: { groups: unknown[] } };
    const rulesFile = path.join(scratch, "rules.yml");
    await writeFile(rulesFile, stringify({ groups: rule.spec.groups }));
    const checked = await run("promtool", ["check", "rules", rulesFile]);
    expect(checked.stdout).toContain("SUCCESS");
    const labels = 'namespace="capi-mcp", job="capi-mcp"';
    const testFile = path.join(scratch, "rules.test.yml");
    await writeFile(
      testFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              // Half the Kubernetes operations fail: above the 20% threshold for 10 minutes.
              {
                series: `mcp_kubernetes_operations_total{${labels}, cluster_scope="workload", status="success"}`,
                values: "0+10x30",
              },
              {
                series: `mcp_kubernetes_operations_total{${labels}, cluster_scope="workload", status="error"}`,
                values: "0+10x30",
              },
              // 5xx on 1 in 100 HTTP requests: under the 10% threshold.
              { series: `http_requests_total{${labels}, method="POST", path="/mcp", status="200"}`, values: "0+99x30" },
              { series: `http_requests_total{${labels}, method="POST", path="/mcp", status="500"}`, values: "0+1x30" },
              // Most bearer tokens refused.
              { series: `oauth_downstream_auth_total{${labels}, result="failure"}`, values: "0+8x30" },
              { series: `oauth_downstream_auth_total{${labels}, result="success"}`, values: "0+2x30" },
              // Another release's series never trip this release's alerts.
              {
                series:
                  'mcp_kubernetes_wc_auth_total{namespace="other", job="other", auth_mode="impersonation", result="error"}',
                values: "0+10x30",
              },
            ],
            alert_rule_test: [
              {
                eval_time: "20m",
                alertname: "McpKubernetesK8sOperationFailures",
                exp_alerts: [
                  {
                    exp_labels: { severity: "warning" },
                    exp_annotations: { summary: "More than 20% of Kubernetes operations through the gateway fail." },
                  },
                ],
              },
              {
                eval_time: "20m",
                alertname: "McpKubernetesClusterOperationFailures",
                exp_alerts: [
                  {
                    exp_labels: { severity: "warning" },
                    exp_annotations: { summary: "More than 30% of operations on workload clusters fail." },
                  },
                ],
              },
              { eval_time: "20m", alertname: "McpKubernetesHighErrorRate", exp_alerts: [] },
              {
                eval_time: "20m",
                alertname: "McpKubernetesOAuthFailures",
                exp_alerts: [
                  {
                    exp_labels: { severity: "warning" },
                    exp_annotations: { summary: "More than 30% of OAuth authentications at the gateway fail." },
                  },
                ],
              },
              { eval_time: "20m", alertname: "McpKubernetesWorkloadClusterAuthFailures", exp_alerts: [] },
              // `for: 10m`: not yet at 5 minutes.
              { eval_time: "5m", alertname: "McpKubernetesK8sOperationFailures", exp_alerts: [] },
            ],
          },
        ],
      }),
    );
    const tested = await run("promtool", ["test", "rules", testFile]).catch(
      (error: { stdout?: string; stderr?: string }) => ({ stdout: `${error.stdout}${error.stderr}`, stderr: "failed" }),
    );
    expect(tested.stdout).toContain("SUCCESS");
    expect(tested.stderr).not.toBe("failed");
  });
});
