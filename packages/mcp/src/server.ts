import type { ClusterCatalog, Principal, SessionState, ToolDefinition } from "@capi-mcp/core";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { ParamsCheckingServer } from "./params-checking-server.js";
import { followingCatalog } from "./session-clusters.js";
import { inputJsonSchema, runTool, type ToolRunnerDependencies } from "./tool-runner.js";

export interface McpServerDependencies extends ToolRunnerDependencies {
  readonly tools: readonly ToolDefinition[];
  readonly serverInfo: { readonly name: string; readonly version: string };
  /** Instructions shown to the model at initialization. */
  readonly instructions?: string;
}

export interface SessionIdentity {
  readonly principal: Principal | undefined;
  readonly oauthClientId?: string;
  /** The clusters this caller may see. */
  readonly catalog: ClusterCatalog;
}

interface ListedTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: ReturnType<typeof inputJsonSchema>;
  readonly annotations: Record<string, unknown>;
}

// What tools/list answers depends only on the tools and the guard, never on the session: built
// once and shared, so a session costs its own state, not another copy of every JSON Schema.
const listedByDependencies = new WeakMap<McpServerDependencies, readonly ListedTool[]>();

function listedTools(dependencies: McpServerDependencies): readonly ListedTool[] {
  const cached = listedByDependencies.get(dependencies);
  if (cached) return cached;
  const listed = dependencies.tools
    .filter((tool) => dependencies.guard.offers(tool))
    .map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: inputJsonSchema(tool),
      annotations: { title: tool.title, ...tool.annotations },
    }));
  listedByDependencies.set(dependencies, listed);
  return listed;
}

/**
 * Builds the MCP server for one session. Every request's params are checked against its method's
 * schema first (Invalid params otherwise); tools/list offers only what the guard allows; every
 * tools/call goes through `runTool`.
 */
export function createMcpServer(
  dependencies: McpServerDependencies,
  session: SessionState,
  identity: () => SessionIdentity,
): Server {
  const server = new ParamsCheckingServer(dependencies.serverInfo, {
    capabilities: { tools: { listChanged: false } },
    ...(dependencies.instructions ? { instructions: dependencies.instructions } : {}),
  });
  const byName = new Map(dependencies.tools.map((tool) => [tool.name, tool]));
  const listed = listedTools(dependencies);

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...listed] }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name);
    const { principal, catalog, oauthClientId } = identity();
    const client = server.getClientVersion();
    const environment = {
      session,
      catalog,
      principal,
      client: {
        ...(client?.name ? { name: client.name } : {}),
        ...(client?.version ? { version: client.version } : {}),
        ...(oauthClientId ? { oauthClientId } : {}),
      },
      protocolVersion: extra.requestInfo?.headers?.["mcp-protocol-version"]?.toString(),
      signal: extra.signal,
    };
    if (!tool) {
      return {
        content: [
          {
            type: "text" as const,
            text: `Unknown tool "${request.params.name}". Call tools/list to see the tools offered.`,
          },
        ],
        isError: true,
      };
    }
    const outcome = await runTool(
      dependencies,
      followingCatalog(tool, session, catalog),
      request.params.arguments,
      environment,
    );
    return {
      content: [{ type: "text" as const, text: outcome.text }],
      ...(outcome.structured ? { structuredContent: outcome.structured } : {}),
      isError: outcome.isError,
    };
  });
  return server;
}
