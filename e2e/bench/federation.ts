// Benchmark: Cluster API federation at scale, printed as figures.
//
//   npm run bench:federation                     (starts its own fleet and stops it)
//   CAPI_MCP_E2E_FLEET=.fleet/fleet.json npm run bench:federation
//
// Part 1 (in process): the client pool at 10,000 entries — hit-path latency of access() and heap
// per cached client (real @capi-mcp/kube connections, which open no socket until first used).
// Part 2 (on the fleet, 2,000 Cluster objects): the gateway's memory, capi_list_clusters latency
// and the size of tools/list, before and after the 2,000 clusters exist; and the metrics series:
// what that gateway's /metrics exposes, and the worst case over every label value for 2,000
// clusters with METRICS_DETAILED_LABELS off and on, checked against the stated budgets
// (metrics-series.ts, docs/observability.md).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Principal } from "@capi-mcp/core";
import {
  type CapiChange,
  type CapiCluster,
  type CapiDirectory,
  createCapiCatalogs,
  type ManagementApi,
} from "@capi-mcp/federation";
import { KubeConfig } from "@kubernetes/client-node";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { stringify } from "yaml";
import { type FleetInfo, fleetAdminClient, readFleetInfo, startFleet } from "../fleet/fleet.ts";
import { freePorts } from "../fleet/processes.ts";
import { gatewayCli, resultText } from "../gateway/harness.ts";
import {
  countSeries,
  seriesBudgetWithDetailedLabels2000,
  seriesBudgetWithoutDetailedLabels,
  worstCaseSeries,
} from "./metrics-series.ts";

const poolEntries = 10_000;
const fleetClusters = 2_000;

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function residentKibibytes(pid: number | null | undefined): number {
  if (!pid) return Number.NaN;
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? Number.NaN);
}

// ---------------------------------------------------------------------------------------------
// Part 1: the pool

async function poolBenchmark(): Promise<string[]> {
  const kubeconfig = stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "c",
    clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1", "insecure-skip-tls-verify": true } }],
    users: [{ name: "u", user: { token: "bench-token-not-a-secret" } }],
    contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
  });
  const clusters: CapiCluster[] = Array.from({ length: 100 }, (_, index) => ({
    ref: { namespace: "org-bench", name: `cluster-${index}` },
    uid: `uid-${index}`,
    resourceVersion: "1",
    labels: {},
    object: {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "Cluster",
      metadata: { name: `cluster-${index}`, namespace: "org-bench" },
    },
    apiVersion: "cluster.x-k8s.io/v1beta2",
    endpoint: { host: "127.0.0.1", port: 1 },
  }));
  const byKey = new Map(clusters.map((cluster) => [`${cluster.ref.namespace}/${cluster.ref.name}`, cluster]));
  const directory: CapiDirectory = {
    ready: Promise.resolve(),
    list: () => clusters,
    get: (ref) => byKey.get(`${ref.namespace}/${ref.name}`),
    onChange: (_listener: (change: CapiChange) => void) => () => undefined,
    close: async () => undefined,
  };
  const managementApi: ManagementApi = {
    mayAccess: async () => true,
    readSecret: async () => ({ value: kubeconfig }),
    readConfigMap: async () => undefined,
    close: async () => undefined,
  };
  const catalogs = createCapiCatalogs({
    directory,
    management: { kubeConfig: new KubeConfig() },
    managementApi,
    mode: "impersonation",
    pool: { maxEntries: poolEntries + 10, ttlMilliseconds: 3_600_000 },
    visibilityCacheMilliseconds: 3_600_000,
  });
  // 100 users × 100 clusters = 10,000 distinct (cluster, user) clients.
  const users: Principal[] = Array.from({ length: poolEntries / clusters.length }, (_, index) => ({
    subject: `user-${index}`,
    issuer: "https://idp.bench",
    username: `user-${index}@example.com`,
    email: `user-${index}@example.com`,
    emailVerified: true,
    groups: [`team-${index % 7}`],
    idTokenCustody: undefined,
  }));
  const catalogsByUser = users.map((user) => catalogs.forPrincipal(user));
  const before = heapUsed();
  for (const catalog of catalogsByUser) {
    for (const cluster of clusters) await catalog.access(`${cluster.ref.namespace}/${cluster.ref.name}`);
  }
  const after = heapUsed();
  const entries = catalogs.poolSize;
  const durations: number[] = [];
  for (let round = 0; round < 2; round += 1) {
    for (const catalog of catalogsByUser) {
      for (const cluster of clusters) {
        const start = performance.now();
        await catalog.access(`${cluster.ref.namespace}/${cluster.ref.name}`);
        durations.push(performance.now() - start);
      }
    }
  }
  durations.sort((left, right) => left - right);
  await catalogs.close();
  return [
    `client pool: ${entries} cached (cluster, user) clients`,
    `  hit-path access() latency: p50 ${(percentile(durations, 0.5) * 1000).toFixed(1)} µs, p95 ${(percentile(durations, 0.95) * 1000).toFixed(1)} µs (${durations.length} lookups)`,
    `  heap per cached client: ${((after - before) / entries / 1024).toFixed(2)} KiB (${((after - before) / 1024 / 1024).toFixed(1)} MiB for ${entries})${(globalThis as { gc?: unknown }).gc ? "" : " [run with --expose-gc for exact figures]"}`,
  ];
}

// ---------------------------------------------------------------------------------------------
// Part 2: 2,000 Cluster objects on the fleet

async function stdioGateway(info: FleetInfo, metricsPort?: number) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      gatewayCli,
      "serve",
      "--kubeconfig",
      info.management.kubeconfig,
      "--enable-capi",
      "--audit-log",
      "/dev/null",
      ...(metricsPort === undefined ? [] : ["--metrics-addr", `127.0.0.1:${metricsPort}`]),
    ],
    stderr: "ignore",
  });
  const client = new Client({ name: "capi-mcp-bench", version: "1.0.0" });
  await client.connect(transport);
  return { client, pid: transport.pid, close: () => client.close() };
}

async function listClusters(client: Client, args: Record<string, unknown>): Promise<string> {
  const result = await client.callTool({ name: "capi_list_clusters", arguments: args });
  const text = resultText(result);
  if (result.isError) throw new Error(text);
  return text;
}

async function untilClusters(client: Client, expected: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const result = await client.callTool({ name: "capi_list_clusters", arguments: { limit: 1 } });
    const total = Number((result.structuredContent as { matched?: number } | undefined)?.matched ?? 0);
    if (total >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the gateway did not see ${expected} clusters in time`);
}

async function createClusters(info: FleetInfo, namespace: string): Promise<void> {
  const admin = await fleetAdminClient(info, "management");
  try {
    await admin.apply(`/api/v1/namespaces/${namespace}`, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
    const port = Number(new URL(info.workloadClusters[0]?.server ?? "https://127.0.0.1:1").port);
    for (let start = 0; start < fleetClusters; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, fleetClusters - start) }, (_, offset) =>
          admin.expectOk("POST", `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/clusters`, {
            apiVersion: "cluster.x-k8s.io/v1beta2",
            kind: "Cluster",
            metadata: {
              name: `c-${start + offset}`,
              labels: { environment: (start + offset) % 3 === 0 ? "prod" : "dev" },
            },
            spec: { controlPlaneEndpoint: { host: "127.0.0.1", port } },
          }),
        ),
      );
    }
  } finally {
    admin.close();
  }
}

async function fleetBenchmark(info: FleetInfo): Promise<string[]> {
  const before = await stdioGateway(info);
  await untilClusters(before.client, info.workloadClusters.length);
  const toolsBefore = JSON.stringify(await before.client.listTools()).length;
  const memoryBefore = residentKibibytes(before.pid);
  await before.close();

  const namespace = `org-bench-${randomBytes(3).toString("hex")}`;
  const started = performance.now();
  await createClusters(info, namespace);
  const createdIn = (performance.now() - started) / 1000;

  const [metricsPort] = await freePorts(1);
  const after = await stdioGateway(info, metricsPort);
  try {
    const total = info.workloadClusters.length + fleetClusters;
    const loadStart = performance.now();
    await untilClusters(after.client, total);
    const loadedIn = (performance.now() - loadStart) / 1000;
    const toolsAfter = JSON.stringify(await after.client.listTools()).length;
    const durations: number[] = [];
    for (let call = 0; call < 50; call += 1) {
      const start = performance.now();
      await listClusters(after.client, { limit: 100 });
      durations.push(performance.now() - start);
    }
    durations.sort((left, right) => left - right);
    const filteredStart = performance.now();
    const filtered = await listClusters(after.client, { labelSelector: "environment=prod", limit: 500 });
    const filteredMilliseconds = performance.now() - filteredStart;
    const memoryAfter = residentKibibytes(after.pid);
    const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const liveSeries = countSeries(exposition);
    const discovered = /^capi_mcp_discovered_clusters (\d+)$/m.exec(exposition)?.[1];
    const plain = await worstCaseSeries(fleetClusters, false);
    const detailed = await worstCaseSeries(fleetClusters, true);
    const within = (count: number, budget: number) => `${count <= budget ? "within" : "OVER"} the budget of ${budget}`;
    if (liveSeries > seriesBudgetWithoutDetailedLabels || plain > seriesBudgetWithoutDetailedLabels) {
      throw new Error(`metrics series over budget: live ${liveSeries}, worst case ${plain}`);
    }
    if (detailed > seriesBudgetWithDetailedLabels2000) {
      throw new Error(`metrics series with detailed labels over budget: ${detailed}`);
    }
    return [
      `fleet: ${total} Cluster objects on the management cluster (${fleetClusters} created in ${createdIn.toFixed(1)} s); gateway over stdio as the local admin`,
      `  discovery loaded all clusters ${loadedIn.toFixed(1)} s after the gateway started`,
      `  capi_list_clusters (page of 100): p50 ${percentile(durations, 0.5).toFixed(1)} ms, p95 ${percentile(durations, 0.95).toFixed(1)} ms`,
      `  capi_list_clusters (labelSelector environment=prod, limit 500): ${filteredMilliseconds.toFixed(1)} ms, ${Buffer.byteLength(filtered)} bytes`,
      `  gateway RSS: ${(memoryBefore / 1024).toFixed(0)} MiB with ${info.workloadClusters.length} clusters, ${(memoryAfter / 1024).toFixed(0)} MiB with ${total} (+${((memoryAfter - memoryBefore) / fleetClusters).toFixed(1)} KiB per cluster)`,
      `  metrics series, live gateway after these calls (capi_mcp_discovered_clusters ${discovered}): ${liveSeries}, ${within(liveSeries, seriesBudgetWithoutDetailedLabels)}`,
      `  metrics series, worst case over every label value, ${fleetClusters} clusters: ${plain} without detailed labels (${within(plain, seriesBudgetWithoutDetailedLabels)}; independent of the cluster count), ${detailed} with METRICS_DETAILED_LABELS (${within(detailed, seriesBudgetWithDetailedLabels2000)})`,
      `  tools/list: ${toolsBefore} bytes with ${info.workloadClusters.length} clusters, ${toolsAfter} bytes with ${total} (must not grow: ${toolsAfter === toolsBefore ? "same" : "DIFFERS"})`,
    ];
  } finally {
    await after.close();
    const admin = await fleetAdminClient(info, "management");
    try {
      await admin.request("DELETE", `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/clusters`);
    } finally {
      admin.close();
    }
  }
}

async function main(): Promise<void> {
  const lines = [
    "capi-mcp federation benchmark",
    `machine: Node ${process.version}`,
    "",
    ...(await poolBenchmark()),
    "",
  ];
  const reuse = process.env.CAPI_MCP_E2E_FLEET;
  const fleet = reuse
    ? undefined
    : await startFleet({ log: (message) => process.stderr.write(`[fleet] ${message}\n`) });
  try {
    const info = reuse ? await readFleetInfo(reuse) : (fleet?.info as FleetInfo);
    lines.push(...(await fleetBenchmark(info)));
  } finally {
    await fleet?.stop();
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
