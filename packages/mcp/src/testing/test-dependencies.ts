// Small in-memory doubles for the MCP package's own tests: a catalog, a permissive guard, and
// server dependencies that record audit events. Never part of the build.
import {
  type AuditEvent,
  type ClusterCatalog,
  defineTool,
  GatewayError,
  type ToolDefinition,
  type ToolSettings,
} from "@capi-mcp/core";
import { createGuard } from "@capi-mcp/policy";
import { z } from "zod";
import type { McpServerDependencies } from "../server.js";

/** The policy guard's own sealer for a tool's continue tokens (one key for the whole test run). */
export const testToolContinueTokens = createGuard({
  nonDestructive: false,
  dryRun: false,
  allowOperations: [],
  deniedNamespaces: [],
  allowSecretValues: false,
}).toolContinueTokens;

export const testSettings: ToolSettings = {
  dryRun: false,
  outputBudgetBytes: 4000,
  execTimeoutMilliseconds: 5000,
  execMaxOutputBytes: 10_000,
  logMaxBytes: 10_000,
  logDefaultTailLines: 100,
  fanoutConcurrency: 4,
  fanoutTimeoutMilliseconds: 5000,
};

/** A catalog whose clusters can be removed while sessions use them, as Cluster API deletions do. */
export function mutableCatalog(names: readonly string[], defaultCluster?: string) {
  const present = new Set(names);
  const catalog: ClusterCatalog = {
    defaultCluster,
    list: async () => [...present].map((name) => ({ name })),
    access: async (name) => {
      if (!present.has(name)) throw new GatewayError("cluster_not_found", `No cluster "${name}" is available to you.`);
      return { cluster: name } as never;
    },
  };
  return { catalog, remove: (name: string) => present.delete(name) };
}

export const echoTool = defineTool({
  name: "echo",
  title: "Echo",
  description: "Says which cluster it would act on.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ cluster: z.string().optional(), text: z.string().max(100).optional() }),
  async handler(input, context) {
    const cluster = input.cluster ?? context.session.currentCluster ?? context.clusters.defaultCluster;
    return { text: `echo ${input.text ?? ""} on ${cluster ?? "no cluster"}` };
  },
});

export function testDependencies(
  tools: readonly ToolDefinition[] = [echoTool as unknown as ToolDefinition],
): McpServerDependencies & { readonly audited: AuditEvent[] } {
  const audited: AuditEvent[] = [];
  return {
    audited,
    tools,
    serverInfo: { name: "capi-mcp-test", version: "0.0.0" },
    guard: {
      offers: () => true,
      decide: () => ({ allowed: true, dryRun: false }),
      guardCatalog: (inner) => inner,
      toolContinueTokens: testToolContinueTokens,
      redactArguments: (_tool, args) => args,
    },
    telemetry: { startToolCall: () => ({ end: () => undefined }) },
    audit: {
      record: (event) => audited.push(event),
      recordAuthorization: () => undefined,
      close: async () => undefined,
    },
    logger: { warn: () => undefined, error: () => undefined },
    settings: testSettings,
    toolTimeoutMilliseconds: 5000,
    localActor: { username: "kubeconfig-user", source: "kubeconfig" },
  };
}
