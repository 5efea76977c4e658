export { asGatewayError, errorText } from "./error-text.js";
export { createMcpServer, type McpServerDependencies, type SessionIdentity } from "./server.js";
export { createSessionState, maximumPortForwardsPerSession } from "./session.js";
export {
  defaultSessionLimits,
  type SessionEndReason,
  type SessionEvent,
  type SessionLimits,
} from "./session-table.js";
export { type RunningServer, type StdioStreams, serveStdio } from "./stdio.js";
export {
  createStreamableHttpHandler,
  type StreamableHttpHandler,
  type StreamableHttpOptions,
} from "./streamable-http.js";
export {
  type CallEnvironment,
  type CallGuard,
  type CallLogger,
  type CallOutcome,
  type CallTelemetry,
  enforceBudget,
  inputJsonSchema,
  type LocalActor,
  runTool,
  type ToolRunnerDependencies,
} from "./tool-runner.js";
