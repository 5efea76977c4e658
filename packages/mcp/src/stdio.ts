import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer, type McpServerDependencies, type SessionIdentity } from "./server.js";
import { createSessionState } from "./session.js";

export interface RunningServer {
  close(): Promise<void>;
}

/** Serves one MCP session on stdin/stdout. stdout carries protocol only. */
export async function serveStdio(
  dependencies: McpServerDependencies,
  identity: SessionIdentity,
): Promise<RunningServer> {
  const session = createSessionState("stdio");
  const server = createMcpServer(dependencies, session, () => identity);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  return {
    async close() {
      await session.portForwards.stopAll();
      await server.close();
    },
  };
}
