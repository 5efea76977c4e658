// Benchmark: capi-mcp's k8s_get_resource over streamable HTTP versus the same read made directly
// with @kubernetes/client-node, measured in one run on one machine, printed as figures and ratios.
//
//   npm run bench                       (starts its own fleet and stops it)
//   CAPI_MCP_E2E_FLEET=.fleet/fleet.json npm run bench
//
// The baseline is client-node's own generated API with its dispatcher cached, i.e. client-node
// reusing its connection (2.0.1 otherwise builds a new connection pool for every request).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type FleetInfo, fleetAdminClient, readFleetInfo, startFleet } from "../fleet/fleet.ts";
import { resultText, startHttpGatewayProcess } from "../gateway/harness.ts";

const cluster = "org-acme/dev";
const sequentialCalls = 300;
const warmupCalls = 50;
const concurrency = 16;
const concurrentSeconds = 5;
const podCount = 500;

function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function timeCalls(count: number, read: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const durations: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = performance.now();
    await read();
    durations.push(performance.now() - start);
  }
  durations.sort((left, right) => left - right);
  return { p50: percentile(durations, 0.5), p95: percentile(durations, 0.95) };
}

async function throughput(readers: readonly (() => Promise<unknown>)[], seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  const counts = await Promise.all(
    readers.map(async (read) => {
      let count = 0;
      while (performance.now() < deadline) {
        await read();
        count += 1;
      }
      return count;
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0) / seconds;
}

/** client-node with its per-request dispatcher cached: the same client, reusing its connection. */
function directReader(info: FleetInfo): () => Promise<unknown> {
  const config = new k8s.KubeConfig();
  const workload = info.workloadClusters.find((item) => `${item.namespace}/${item.name}` === cluster);
  config.loadFromFile(String(workload?.kubeconfig));
  const prototype = Object.getPrototypeOf(config) as { createDispatcher: (...args: unknown[]) => unknown };
  const original = prototype.createDispatcher;
  let cached: unknown;
  Object.defineProperty(config, "createDispatcher", {
    value: (...args: unknown[]) => {
      cached ??= original.apply(config, args);
      return cached;
    },
  });
  const api = config.makeApiClient(k8s.CoreV1Api);
  return () => api.readNamespacedConfigMap({ namespace: "default", name: "cluster-identity" });
}

interface GatewaySession {
  call(name: string, args: Record<string, unknown>): Promise<string>;
  read(): Promise<unknown>;
  close(): Promise<void>;
}

async function gatewaySession(endpoint: string): Promise<GatewaySession> {
  const client = new Client({ name: "capi-mcp-bench", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(endpoint)));
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args });
    const text = resultText(result);
    if (result.isError) throw new Error(text);
    return text;
  };
  return {
    call,
    read: () =>
      call("k8s_get_resource", { cluster, resource: "configmaps", name: "cluster-identity", namespace: "default" }),
    close: () => client.close(),
  };
}

/** The same tool call as a bare JSON-RPC POST: the gateway's cost without the SDK client's. */
async function rawSession(endpoint: string): Promise<() => Promise<unknown>> {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  const initialize = await fetch(endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    }),
  });
  await initialize.text();
  const session = {
    ...headers,
    "mcp-session-id": initialize.headers.get("mcp-session-id") ?? "",
    "mcp-protocol-version": "2025-11-25",
  };
  let id = 1;
  const body = (callId: number) =>
    JSON.stringify({
      jsonrpc: "2.0",
      id: callId,
      method: "tools/call",
      params: {
        name: "k8s_get_resource",
        arguments: { cluster, resource: "configmaps", name: "cluster-identity", namespace: "default" },
      },
    });
  return async () => {
    const response = await fetch(endpoint, { method: "POST", headers: session, body: body(id++) });
    const answer = (await response.json()) as { result?: { isError?: boolean } };
    if (!answer.result || answer.result.isError) throw new Error("raw call failed");
    return answer;
  };
}

async function createPods(info: FleetInfo, namespace: string): Promise<void> {
  const admin = await fleetAdminClient(info, cluster);
  try {
    await admin.apply(`/api/v1/namespaces/${namespace}`, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    for (let start = 0; start < podCount; start += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, podCount - start) }, async (_, offset) => {
          const index = start + offset;
          const name = `api-${randomBytes(4).toString("hex")}-${index}`;
          await admin.expectOk("POST", `/api/v1/namespaces/${namespace}/pods`, {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, labels: { app: "api", "pod-template-hash": "7d9f8c6b5", tier: "backend" } },
            spec: {
              nodeName: "worker-1",
              automountServiceAccountToken: false,
              containers: [
                { name: "api", image: "ghcr.io/example/api:3.2.1", ports: [{ containerPort: 8080, protocol: "TCP" }] },
                { name: "envoy", image: "envoyproxy/envoy:v1.30.1" },
              ],
            },
          });
          await admin.expectOk(
            "PATCH",
            `/api/v1/namespaces/${namespace}/pods/${name}/status`,
            {
              status: {
                phase: "Running",
                podIP: `10.244.${Math.floor(index / 250)}.${index % 250}`,
                startTime: now,
                conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }],
                containerStatuses: ["api", "envoy"].map((container) => ({
                  name: container,
                  ready: true,
                  restartCount: index % 7 === 0 ? 1 : 0,
                  image: container,
                  imageID: "",
                  state: { running: { startedAt: now } },
                })),
              },
            },
            "application/merge-patch+json",
          );
        }),
      );
    }
  } finally {
    admin.close();
  }
}

async function main(): Promise<void> {
  const reuse = process.env.CAPI_MCP_E2E_FLEET;
  const fleet = reuse
    ? undefined
    : await startFleet({ log: (message) => process.stderr.write(`[fleet] ${message}\n`) });
  const info = reuse ? await readFleetInfo(reuse) : (fleet?.info as FleetInfo);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-bench-"));
  // The per-client QPS limiter (default 20/s) would measure the limiter, not the gateway: lift it.
  const gateway = await startHttpGatewayProcess({
    kubeconfig: info.kubeconfig,
    context: cluster,
    extraArguments: [
      "--qps-limit",
      "10000",
      "--burst-limit",
      "10000",
      "--audit-log",
      path.join(scratch, "audit.jsonl"),
    ],
  });
  try {
    const direct = directReader(info);
    const session = await gatewaySession(gateway.endpoint);
    await timeCalls(warmupCalls, direct);
    await timeCalls(warmupCalls, session.read);
    const directLatency = await timeCalls(sequentialCalls, direct);
    const gatewayLatency = await timeCalls(sequentialCalls, session.read);
    const raw = await rawSession(gateway.endpoint);
    await timeCalls(warmupCalls, raw);
    const rawLatency = await timeCalls(sequentialCalls, raw);

    const directReaders = Array.from({ length: concurrency }, () => directReader(info));
    const sessions = await Promise.all(Array.from({ length: concurrency }, () => gatewaySession(gateway.endpoint)));
    const directRate = await throughput(directReaders, concurrentSeconds);
    const gatewayRate = await throughput(
      sessions.map((item) => item.read),
      concurrentSeconds,
    );
    await Promise.all([session, ...sessions].map((item) => item.close()));

    const namespace = `bench-${randomBytes(3).toString("hex")}`;
    await createPods(info, namespace);
    const listing = await gatewaySession(gateway.endpoint);
    const listText = await listing.call("k8s_list_resources", {
      cluster,
      resource: "pods",
      namespace,
      limit: podCount,
    });
    await listing.close();
    const list = { text: listText, bytes: Buffer.byteLength(listText) };

    const format = (value: number) => value.toFixed(2);
    const lines = [
      "capi-mcp benchmark: k8s_get_resource (ConfigMap) via streamable HTTP vs client-node reusing its connection",
      `machine: ${os.cpus().length} cores, Node ${process.version}, kube-apiserver ${info.kubernetesVersion}`,
      "",
      `latency, ${sequentialCalls} sequential reads, one session (ms)   p50        p95`,
      `  direct (client-node)                                     ${format(directLatency.p50).padEnd(10)} ${format(directLatency.p95)}`,
      `  through capi-mcp                                         ${format(gatewayLatency.p50).padEnd(10)} ${format(gatewayLatency.p95)}`,
      `  gateway - direct                                         ${format(gatewayLatency.p50 - directLatency.p50).padEnd(10)} ${format(gatewayLatency.p95 - directLatency.p95)}   (target: p50 within 1 ms)`,
      `  through capi-mcp, bare JSON-RPC POST (no SDK client)     ${format(rawLatency.p50).padEnd(10)} ${format(rawLatency.p95)}`,
      `  bare - direct                                            ${format(rawLatency.p50 - directLatency.p50).padEnd(10)} ${format(rawLatency.p95 - directLatency.p95)}`,
      "",
      `throughput, ${concurrency} concurrent readers for ${concurrentSeconds} s (calls/s)`,
      `  direct (${concurrency} client-node readers)                          ${format(directRate)}`,
      `  through capi-mcp (${concurrency} MCP sessions)                       ${format(gatewayRate)}`,
      `  ratio gateway / direct                                   ${format(gatewayRate / directRate)}   (target: at least 0.50)`,
      "",
      `answer size of k8s_list_resources for ${podCount} pods, default output: ${list.bytes} bytes (${(list.bytes / 1024).toFixed(1)} KiB; target: under 25 KB)`,
      `  first lines:\n${list.text
        .split("\n")
        .slice(0, 3)
        .map((line) => `    ${line}`)
        .join("\n")}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await gateway.stop();
    await fleet?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
