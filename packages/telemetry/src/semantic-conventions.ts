// Attribute and instrument names, from the OpenTelemetry semantic conventions for MCP
// (`mcp.*`, `gen_ai.*`), for errors (`error.type`) and for Kubernetes (`k8s.*`). Our own
// names live under `capi_mcp.` so they cannot collide with a future convention.

export const attributeNames = {
  mcpMethodName: "mcp.method.name",
  mcpSessionId: "mcp.session.id",
  mcpProtocolVersion: "mcp.protocol.version",
  genAiToolName: "gen_ai.tool.name",
  genAiOperationName: "gen_ai.operation.name",
  errorType: "error.type",
  k8sClusterName: "k8s.cluster.name",
  k8sNamespaceName: "k8s.namespace.name",
  toolOutcome: "capi_mcp.tool.outcome",
  dryRun: "capi_mcp.dry_run",
  callId: "capi_mcp.call.id",
} as const;

export const instrumentNames = {
  operationDuration: "mcp.server.operation.duration",
  toolCalls: "capi_mcp.tool.calls",
} as const;

export const toolsCallMethod = "tools/call";
export const executeToolOperation = "execute_tool";

/** The MCP conventions' recommended boundaries for `mcp.server.operation.duration`, in seconds. */
export const operationDurationBuckets = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** The conventions' value for `error.type` when no more specific type is known. */
export const otherErrorType = "_OTHER";
