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
  /** HTTP request headers copied into each audit record (`--audit-request-headers`), lower-case. */
  readonly auditRequestHeaders?: readonly string[];
}

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>> | undefined;

/** The longest header value a record or trace carrier takes from a request. */
const longestHeaderValue = 1024;

function headerText(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(", ") : value;
  return text === undefined ? undefined : text.slice(0, longestHeaderValue);
}

/** The headers named by the operator, as sent (several values joined by ", "). */
function recordedHeaders(names: readonly string[] | undefined, headers: RequestHeaders): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const name of names ?? []) {
    const value = headerText(headers?.[name]);
    if (value !== undefined) recorded[name] = value;
  }
  return recorded;
}

/**
 * W3C trace context for the call: from the request's `params._meta` (what the MCP semantic
 * conventions recommend: one HTTP request can carry several MCP messages), else from the HTTP
 * request's own `traceparent` header.
 */
function traceCarrierOrNone(
  meta: unknown,
  headers: RequestHeaders,
): { traceCarrier: Record<string, string> } | undefined {
  const carrier = traceCarrierOf(meta, headers);
  return carrier === undefined ? undefined : { traceCarrier: carrier };
}

function traceCarrierOf(meta: unknown, headers: RequestHeaders): Record<string, string> | undefined {
  const fromMeta = typeof meta === "object" && meta !== null ? (meta as Record<string, unknown>) : {};
  if (typeof fromMeta.traceparent === "string") {
    return {
      traceparent: fromMeta.traceparent.slice(0, longestHeaderValue),
      ...(typeof fromMeta.tracestate === "string"
        ? { tracestate: fromMeta.tracestate.slice(0, longestHeaderValue) }
        : {}),
    };
  }
  const traceparent = headerText(headers?.traceparent);
  if (traceparent === undefined) return undefined;
  const tracestate = headerText(headers?.tracestate);
  return { traceparent, ...(tracestate === undefined ? {} : { tracestate }) };
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
      requestHeaders: recordedHeaders(dependencies.auditRequestHeaders, extra.requestInfo?.headers),
      ...(traceCarrierOrNone(request.params._meta, extra.requestInfo?.headers) ?? {}),
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
