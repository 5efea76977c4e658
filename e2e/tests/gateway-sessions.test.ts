// MCP sessions of the real gateway on the real fleet: params errors over raw JSON-RPC (stdio and
// streamable HTTP), one OAuth user flooding sessions without locking another out, and a
// port-forward whose client vanished without DELETE being closed within the grace period.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { tcpRoundTrip } from "../fleet/tcp.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { gatewayCli, resultText } from "../gateway/harness.ts";
import {
  type LoggedInClient,
  loginThroughGateway,
  type OAuthGateway,
  startOAuthGateway,
} from "../gateway/oauth-flow.ts";

const frontendPod = "frontend-5d8f7c9b6-k2x4p";
const maxSessionsPerUser = 5;

interface RpcAnswer {
  readonly id?: number | string | null;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string };
}

const initialize = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw-e2e", version: "1.0.0" } },
};

/** Requests the SDK's own client would refuse to send, and the field each answer must name. */
const badParams = [
  { method: "tools/call", params: { name: 123 }, field: "params.name" },
  { method: "tools/call", params: { name: "k8s_list_contexts", arguments: "all" }, field: "params.arguments" },
  { method: "tools/call", params: "k8s_list_contexts", field: "params" },
  { method: "tools/list", params: { cursor: 7 }, field: "params.cursor" },
  { method: "ping", params: [1], field: "params" },
] as const;

function expectInvalidParams(answer: RpcAnswer | undefined, request: (typeof badParams)[number]): void {
  const label = `${request.method} ${JSON.stringify(request.params)}`;
  expect(answer?.error?.code, label).toBe(-32602);
  expect(answer?.error?.message, label).toContain(`Invalid params for ${request.method}: ${request.field}:`);
  expect(answer?.error?.message, label).not.toMatch(/"code":|invalid_type|Internal error/);
}

let info: FleetInfo;
let scratch: string;
let gateway: OAuthGateway;
const users: Record<string, LoggedInClient> = {};

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-sessions-"));
  gateway = await startOAuthGateway(info, scratch, {
    kubeAuth: "impersonation",
    extraArguments: [
      "--allow-operations",
      "port-forward",
      "--max-sessions",
      "20",
      "--max-sessions-per-user",
      String(maxSessionsPerUser),
      "--session-disconnect-grace",
      "1s",
    ],
  });
  for (const name of ["alice", "bob"]) users[name] = await loginThroughGateway(info, gateway, name);
});

afterAll(async () => {
  for (const user of Object.values(users)) await user.close().catch(() => undefined);
  await gateway?.stop();
  await rm(scratch, { recursive: true, force: true });
});

function tokenOf(name: string): string {
  const token = users[name]?.provider.tokens()?.access_token;
  if (!token) throw new Error(`${name} has no access token`);
  return token;
}

async function post(name: string, body: unknown, sessionId?: string): Promise<Response> {
  return fetch(gateway.endpoint, {
    method: "POST",
    headers: {
      authorization: `Bearer ${tokenOf(name)}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      ...(sessionId ? { "mcp-session-id": sessionId } : {}),
    },
    body: JSON.stringify(body),
  });
}

/** A raw session: initialize and the initialized notification, nothing else held open. */
async function rawSession(name: string): Promise<{ status: number; sessionId: string | null }> {
  const response = await post(name, initialize);
  await response.body?.cancel();
  const sessionId = response.headers.get("mcp-session-id");
  if (response.status === 200 && sessionId) {
    const initialized = await post(name, { jsonrpc: "2.0", method: "notifications/initialized" }, sessionId);
    await initialized.body?.cancel();
  }
  return { status: response.status, sessionId };
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

describe("gateway sessions on the fleet", () => {
  it("answers bad params with -32602 naming the field over streamable HTTP, as raw JSON-RPC", async () => {
    const { sessionId } = await rawSession("bob");
    expect(sessionId).toBeTruthy();
    for (const [index, request] of badParams.entries()) {
      const response = await post(
        "bob",
        { jsonrpc: "2.0", id: index + 1, method: request.method, params: request.params },
        sessionId ?? "",
      );
      expectInvalidParams((await response.json()) as RpcAnswer, request);
    }
    const badInitialize = await post("bob", { ...initialize, params: { ...initialize.params, protocolVersion: 1 } });
    const answer = (await badInitialize.json()) as RpcAnswer;
    expect(answer.error?.code).toBe(-32602);
    expect(answer.error?.message).toContain("params.protocolVersion:");
    expect(badInitialize.headers.get("mcp-session-id")).toBeNull();
  });

  it("answers bad params with -32602 naming the field over stdio, as raw JSON lines", async () => {
    const child = spawn(
      process.execPath,
      [gatewayCli, "serve", "--kubeconfig", info.kubeconfig, "--context", "org-acme/dev"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    try {
      const answers = new Map<number, RpcAnswer>();
      let buffered = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        for (let newline = buffered.indexOf("\n"); newline !== -1; newline = buffered.indexOf("\n")) {
          const answer = JSON.parse(buffered.slice(0, newline)) as RpcAnswer;
          buffered = buffered.slice(newline + 1);
          if (typeof answer.id === "number") answers.set(answer.id, answer);
        }
      });
      const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
      send(initialize);
      send({ jsonrpc: "2.0", method: "notifications/initialized" });
      for (const [index, request] of badParams.entries()) {
        send({ jsonrpc: "2.0", id: index + 1, method: request.method, params: request.params });
      }
      await expect.poll(() => answers.size, { timeout: 15_000 }).toBe(badParams.length + 1);
      for (const [index, request] of badParams.entries()) expectInvalidParams(answers.get(index + 1), request);
    } finally {
      child.kill();
    }
  });

  it("lets one user flood sessions without locking another out: the flooder's own oldest idle sessions go", async () => {
    const alice = users.alice as LoggedInClient;
    const bob = users.bob as LoggedInClient;
    const flood: { status: number; sessionId: string | null }[] = [];
    for (let index = 0; index < 40; index += 1) flood.push(await rawSession("alice"));
    // Every one of alice's initializes got in, each pushing out her own oldest idle session...
    expect(flood.map((opened) => opened.status)).toEqual(flood.map(() => 200));
    const [oldest] = flood;
    const gone = await post("alice", { jsonrpc: "2.0", id: 1, method: "ping" }, oldest?.sessionId ?? "");
    expect(gone.status).toBe(404);
    await gone.body?.cancel();
    // ...but never her connected client's session, whose GET stream is open.
    expect((await alice.client.listTools()).tools.length).toBeGreaterThan(0);

    // Bob still gets in, and his connected client keeps working.
    const bobs = await rawSession("bob");
    expect(bobs.status).toBe(200);
    const listed = await post("bob", { jsonrpc: "2.0", id: 2, method: "tools/list" }, bobs.sessionId ?? "");
    expect(((await listed.json()) as RpcAnswer).result?.tools).toBeInstanceOf(Array);
    const contexts = await bob.client.callTool({ name: "k8s_list_contexts", arguments: {} });
    expect(resultText(contexts)).toContain("org-acme/dev");
  });

  it("closes the port-forward of a client that disappeared without DELETE, within the grace period", async () => {
    const alice = users.alice as LoggedInClient;
    const client = new Client({ name: "capi-mcp-e2e-vanishing", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gateway.endpoint), { authProvider: alice.provider }),
    );
    const forward = await client.callTool({
      name: "k8s_port_forward_pod",
      arguments: { cluster: "org-acme/dev", name: frontendPod, namespace: "web", port: 8080 },
    });
    expect(forward.isError, resultText(forward)).toBeFalsy();
    const localPort = Number(/127\.0\.0\.1:(\d+)/.exec(resultText(forward))?.[1]);
    expect(await tcpRoundTrip(localPort, "before the client vanishes")).toBe("before the client vanishes");

    // The client goes away without ending its session: its GET stream closes, no DELETE is sent.
    const dropped = Date.now();
    await client.close();
    await expect.poll(() => connectionRefused(localPort), { timeout: 10_000, interval: 200 }).toBe(true);
    // The grace is 1 s and the sweep runs every 0.5 s: well within 5 s, not the 30-minute idle sweep.
    expect(Date.now() - dropped).toBeLessThan(5_000);
  });
});
