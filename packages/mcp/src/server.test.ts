import {
  type AuditEvent,
  type ClusterCatalog,
  defineTool,
  GatewayError,
  type ToolDefinition,
  type ToolSettings,
} from "@capi-mcp/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createMcpServer, type McpServerDependencies } from "./server.js";
import { createSessionState } from "./session.js";
import { testToolContinueTokens } from "./testing/test-dependencies.js";
import type { CallGuard } from "./tool-runner.js";

const settings: ToolSettings = {
  dryRun: false,
  outputBudgetBytes: 2000,
  execTimeoutMilliseconds: 5000,
  execMaxOutputBytes: 10_000,
  logMaxBytes: 10_000,
  logDefaultTailLines: 100,
  fanoutConcurrency: 4,
  fanoutTimeoutMilliseconds: 5000,
};

const catalog: ClusterCatalog = {
  defaultCluster: "dev",
  list: async () => [{ name: "dev" }],
  access: async (name) => {
    throw new GatewayError("cluster_not_found", `No cluster "${name}" here.`);
  },
};

const calls: string[] = [];
const echoTool = defineTool({
  name: "echo_namespace",
  title: "Echo",
  description: "Echoes its input.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ namespace: z.string().min(1).describe("a namespace"), count: z.number().int().max(5).optional() }),
  async handler(input, context) {
    calls.push(`echo:${input.namespace}:${context.settings.dryRun}`);
    return {
      text: `namespace ${input.namespace}`,
      target: { cluster: "dev", namespace: input.namespace, kind: "pods" },
    };
  },
});
const deleteTool = defineTool({
  name: "delete_thing",
  title: "Delete",
  description: "Deletes.",
  operation: "delete",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ name: z.string(), secretValue: z.string().optional() }),
  async handler() {
    calls.push("delete");
    return { text: "deleted" };
  },
});
const brokenTool = defineTool({
  name: "broken",
  title: "Broken",
  description: "Fails unexpectedly.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  async handler() {
    throw new TypeError("cannot read properties of undefined (reading 'token') at /srv/internal.js:42");
  },
});
const chattyTool = defineTool({
  name: "chatty",
  title: "Chatty",
  description: "Answers at length.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  async handler() {
    return { text: Array.from({ length: 500 }, (_, index) => `line ${index}`).join("\n") };
  },
});
const slowTool = defineTool({
  name: "slow",
  title: "Slow",
  description: "Never finishes in time.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  handler: () => new Promise(() => undefined),
});

function guard(options: { deleteAllowed: boolean }): CallGuard {
  return {
    offers: (tool) => tool.operation !== "delete" || options.deleteAllowed,
    decide: (tool) =>
      tool.operation === "delete" && !options.deleteAllowed
        ? { allowed: false, error: new GatewayError("denied_by_policy", "delete is disabled in non-destructive mode.") }
        : { allowed: true, dryRun: false },
    guardCatalog: (inner) => inner,
    toolContinueTokens: testToolContinueTokens,
    redactArguments: (_tool, args) =>
      Object.fromEntries(
        Object.entries(args).map(([key, value]) => [key, key === "secretValue" ? "<redacted>" : value]),
      ),
  };
}

interface Harness {
  client: Client;
  audit: AuditEvent[];
  logged: string[];
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
  calls.length = 0;
});

async function connect(options: { deleteAllowed: boolean; timeoutMilliseconds?: number }): Promise<Harness> {
  const audit: AuditEvent[] = [];
  const logged: string[] = [];
  const dependencies: McpServerDependencies = {
    tools: [echoTool, deleteTool, brokenTool, chattyTool, slowTool] as unknown as ToolDefinition[],
    serverInfo: { name: "capi-mcp-test", version: "0.0.0" },
    guard: guard(options),
    telemetry: { startToolCall: () => ({ end: () => undefined }) },
    audit: { record: (event) => audit.push(event), recordAuthorization: () => undefined, close: async () => undefined },
    logger: {
      warn: (_object, message) => logged.push(message),
      error: (object, message) => logged.push(`${message} ${JSON.stringify(object)}`),
    },
    settings,
    toolTimeoutMilliseconds: options.timeoutMilliseconds ?? 5000,
    localActor: { username: "kubeconfig-user", source: "kubeconfig" },
  };
  const server = createMcpServer(dependencies, createSessionState("session-1"), () => ({
    principal: undefined,
    catalog,
  }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "test-client", version: "1.2.3" });
  await client.connect(clientSide);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  return { client, audit, logged };
}

function textOf(result: Awaited<ReturnType<Client["callTool"]>>): string {
  const [first] = result.content as { type: string; text: string }[];
  return first?.text ?? "";
}

describe("the MCP server's tool pipeline", () => {
  it("lists only the tools the guard offers, each with a JSON schema of its input", async () => {
    const { client } = await connect({ deleteAllowed: false });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(["broken", "chatty", "echo_namespace", "slow"]);
    const echo = tools.find((tool) => tool.name === "echo_namespace");
    expect(echo?.inputSchema.properties).toHaveProperty("namespace");
    expect(echo?.inputSchema.required).toEqual(["namespace"]);
    expect(echo?.annotations?.readOnlyHint).toBe(true);
  });

  it("runs an allowed call and audits it once with the tool's target, the client and the actor", async () => {
    const { client, audit } = await connect({ deleteAllowed: false });
    const result = await client.callTool({ name: "echo_namespace", arguments: { namespace: "web" } });
    expect(result.isError).toBe(false);
    expect(textOf(result)).toBe("namespace web");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      sessionId: "session-1",
      tool: "echo_namespace",
      cluster: "dev",
      namespace: "web",
      kind: "pods",
      outcome: "ok",
      dryRun: false,
      actor: { username: "kubeconfig-user", source: "kubeconfig" },
      client: { name: "test-client", version: "1.2.3" },
      arguments: { namespace: "web" },
    });
  });

  it("refuses a call the guard denies without running it, and audits the denial", async () => {
    const { client, audit } = await connect({ deleteAllowed: false });
    const result = await client.callTool({ name: "delete_thing", arguments: { name: "x", secretValue: "hunter2" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe("Denied by the gateway's policy: delete is disabled in non-destructive mode.");
    expect(calls).toEqual([]);
    expect(audit[0]).toMatchObject({ tool: "delete_thing", outcome: "denied", errorCode: "denied_by_policy" });
    expect(JSON.stringify(audit[0])).not.toContain("hunter2");
  });

  it("answers invalid arguments with the fields at fault, and audits them as an error", async () => {
    const { client, audit } = await connect({ deleteAllowed: false });
    const result = await client.callTool({ name: "echo_namespace", arguments: { namespace: "", count: 9 } });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toContain("Invalid input: The arguments for echo_namespace are not valid.");
    expect(text).toMatch(/- namespace: .+/);
    expect(text).toMatch(/- count: .+/);
    expect(calls).toEqual([]);
    expect(audit[0]).toMatchObject({ outcome: "error", errorCode: "invalid_input" });
  });

  it("hides an unexpected failure's internals from the model and logs them instead", async () => {
    const { client, audit, logged } = await connect({ deleteAllowed: false });
    const result = await client.callTool({ name: "broken", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe("Internal error: The gateway failed to complete this call. The failure was logged.");
    expect(textOf(result)).not.toContain("internal.js");
    expect(logged.join("\n")).toContain("internal.js:42");
    expect(audit[0]).toMatchObject({ outcome: "error", errorCode: "internal" });
  });

  it("cuts an answer over the size budget at a line and says how to see the rest", async () => {
    const { client } = await connect({ deleteAllowed: false });
    const text = textOf(await client.callTool({ name: "chatty", arguments: {} }));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(settings.outputBudgetBytes);
    expect(text).toMatch(/\[Truncated by the gateway: \d+ more bytes were left out\./);
    expect(
      text
        .split("\n")
        .slice(0, -1)
        .every((line) => /^line \d+$/.test(line)),
    ).toBe(true);
  });

  it("ends a call that exceeds the tool timeout with a timeout error", async () => {
    const { client, audit } = await connect({ deleteAllowed: false, timeoutMilliseconds: 200 });
    const result = await client.callTool({ name: "slow", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Timed out: slow did not finish within/);
    expect(audit[0]).toMatchObject({ outcome: "error", errorCode: "timeout" });
  });

  it("answers an unknown tool with a tool error", async () => {
    const { client } = await connect({ deleteAllowed: true });
    const result = await client.callTool({ name: "k8s_nonexistent", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Unknown tool "k8s_nonexistent"');
  });
});
