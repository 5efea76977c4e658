// Starts the real `capi-mcp` CLI against the fleet and connects the MCP SDK's client to it,
// over stdio or streamable HTTP. Every process a test starts, it stops.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { stringify } from "yaml";
import type { FleetInfo } from "../fleet/fleet.ts";
import { loginAs } from "../fleet/login.ts";
import { freePorts } from "../fleet/processes.ts";

export const gatewayCli = fileURLToPath(new URL("../../packages/gateway/dist/cli.js", import.meta.url));

export interface AuditRecord {
  /** `started` records precede a change (written before it is sent); `completed` ends every call. */
  readonly stage: "started" | "completed";
  readonly callId: string;
  readonly traceId?: string;
  readonly tool: string;
  readonly outcome: "ok" | "denied" | "error" | "pending";
  readonly errorCode?: string;
  readonly cluster?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly dryRun: boolean;
  readonly arguments: Record<string, unknown>;
  readonly actor: { username: string; source: string };
  readonly client: { name?: string; version?: string; oauthClientId?: string };
  readonly sessionId?: string;
  readonly requestHeaders?: Record<string, string>;
  readonly kubernetesResponses?: { cluster: string; verb: string; resource?: string; status: number }[];
}

export interface GatewayUnderTest {
  readonly client: Client;
  readonly endpoint: string | undefined;
  readonly auditFile: string;
  auditRecords(): Promise<AuditRecord[]>;
  stop(): Promise<void>;
}

/** A kubeconfig acting as a fleet user: their ID token as bearer token, one context per workload cluster. */
export async function userKubeconfig(info: FleetInfo, userName: string, directory: string): Promise<string> {
  const { idToken } = await loginAs(info, userName);
  const clusters = await Promise.all(
    info.workloadClusters.map(async (cluster) => ({
      name: `${cluster.namespace}/${cluster.name}`,
      server: cluster.server,
      ca: Buffer.from(await readFile(cluster.caFile)).toString("base64"),
    })),
  );
  const file = path.join(directory, `${userName}.kubeconfig`);
  await writeFile(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": clusters[0]?.name,
      clusters: clusters.map((cluster) => ({
        name: cluster.name,
        cluster: { server: cluster.server, "certificate-authority-data": cluster.ca },
      })),
      users: [{ name: userName, user: { token: idToken } }],
      contexts: clusters.map((cluster) => ({ name: cluster.name, context: { cluster: cluster.name, user: userName } })),
    }),
    { mode: 0o600 },
  );
  return file;
}

/** The tool-call records of an audit file: one `completed` record per call (the `started` ones with `everyStage`). */
export async function readAudit(file: string, everyStage = false): Promise<AuditRecord[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as AuditRecord & { audit?: string })
    .filter((record) => record.audit === undefined && (everyStage || record.stage === "completed"));
}

export interface GatewayOptions {
  readonly kubeconfig: string;
  readonly context?: string;
  readonly extraArguments?: readonly string[];
  /** A fixed port (the OAuth redirect URI registered upstream names one); default: a free port. */
  readonly port?: number;
  /** More environment for the gateway process (TRACING_EXPORTER, OTEL_*, …), on top of this one's. */
  readonly environment?: Readonly<Record<string, string>>;
}

async function scratchDirectory(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "capi-mcp-gateway-"));
}

export async function startStdioGateway(options: GatewayOptions): Promise<GatewayUnderTest> {
  const directory = await scratchDirectory();
  const auditFile = path.join(directory, "audit.jsonl");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      gatewayCli,
      "serve",
      "--kubeconfig",
      options.kubeconfig,
      ...(options.context ? ["--context", options.context] : []),
      "--audit-log",
      auditFile,
      ...(options.extraArguments ?? []),
    ],
    stderr: "pipe",
  });
  const client = new Client({ name: "capi-mcp-e2e", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    endpoint: undefined,
    auditFile,
    auditRecords: () => readAudit(auditFile),
    async stop() {
      await client.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface HttpGatewayProcess {
  readonly endpoint: string;
  /** The gateway's separate metrics listener (a free loopback port unless the test set --metrics-addr). */
  readonly metricsUrl: string | undefined;
  readonly auditFile: string;
  readonly process: ChildProcess;
  stderr(): string;
  auditRecords(): Promise<AuditRecord[]>;
  stop(): Promise<void>;
}

export async function startHttpGatewayProcess(options: GatewayOptions): Promise<HttpGatewayProcess> {
  const directory = await scratchDirectory();
  const auditFile = path.join(directory, "audit.jsonl");
  const [freePort, metricsPort] = await freePorts(2);
  const port = options.port ?? freePort;
  // Never the default 127.0.0.1:9090: tests run gateways side by side.
  const ownMetricsAddress = options.extraArguments?.some((argument) => argument.startsWith("--metrics-addr"));
  const metricsArguments = ownMetricsAddress ? [] : ["--metrics-addr", `127.0.0.1:${metricsPort}`];
  const child = spawn(
    process.execPath,
    [
      gatewayCli,
      "serve",
      "--transport",
      "streamable-http",
      "--http-addr",
      `127.0.0.1:${port}`,
      "--kubeconfig",
      options.kubeconfig,
      ...(options.context ? ["--context", options.context] : []),
      "--audit-log",
      auditFile,
      ...metricsArguments,
      ...(options.extraArguments ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.environment } },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const endpoint = `http://127.0.0.1:${port}/mcp`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`capi-mcp exited early (${child.exitCode}): ${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    metricsUrl: ownMetricsAddress ? undefined : `http://127.0.0.1:${metricsPort}/metrics`,
    auditFile,
    process: child,
    stderr: () => stderr,
    auditRecords: () => readAudit(auditFile),
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function startHttpGateway(
  options: GatewayOptions,
): Promise<GatewayUnderTest & { process: HttpGatewayProcess }> {
  const gateway = await startHttpGatewayProcess(options);
  const client = new Client({ name: "capi-mcp-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.endpoint)));
  return {
    client,
    endpoint: gateway.endpoint,
    auditFile: gateway.auditFile,
    process: gateway,
    auditRecords: () => gateway.auditRecords(),
    async stop() {
      await client.close();
      await gateway.stop();
    },
  };
}

/** The text of a tool result. */
export function resultText(result: Awaited<ReturnType<Client["callTool"]>>): string {
  return (result.content as { type: string; text?: string }[]).map((part) => part.text ?? "").join("\n");
}
