import { randomUUID } from "node:crypto";
import type { SessionState } from "@capi-mcp/core";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { screenInitialize, screenRawMessage } from "./raw-message-screen.js";
import { createMcpServer, type McpServerDependencies, type SessionIdentity } from "./server.js";
import { createSessionState } from "./session.js";

export interface StreamableHttpOptions {
  /** Sessions idle longer than this are closed (their port-forwards stop). */
  readonly idleTimeoutMilliseconds?: number;
  readonly maxSessions?: number;
  readonly maxRequestBodyBytes?: number;
}

interface SessionEntry {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: Server;
  readonly state: SessionState;
  readonly identity: SessionIdentity;
  lastSeen: number;
}

export interface StreamableHttpHandler {
  /**
   * Serves one request. `identity` is who is calling, established before this point (with OAuth,
   * from the verified bearer token of this very request).
   */
  handle(request: Request, identity: SessionIdentity): Promise<Response>;
  readonly sessionCount: number;
  closeAll(): Promise<void>;
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * A POST whose request has params that are not an object: answered here with -32602 and the
 * request's id (the SDK would call the whole body unparseable). Anything else passes on, the body
 * still unread.
 */
async function screenedPost(request: Request, opensSession: boolean): Promise<Response | undefined> {
  if (request.method !== "POST") return undefined;
  let message: unknown;
  try {
    message = JSON.parse(await request.clone().text());
  } catch {
    return undefined;
  }
  const refusal = screenRawMessage(message) ?? (opensSession ? screenInitialize(message) : undefined);
  return refusal
    ? new Response(JSON.stringify(refusal), { status: 400, headers: { "content-type": "application/json" } })
    : undefined;
}

/** The same human on every request of a session: a session id alone grants nothing. */
function sameCaller(left: SessionIdentity, right: SessionIdentity): boolean {
  if (!left.principal || !right.principal) return left.principal === right.principal;
  return left.principal.issuer === right.principal.issuer && left.principal.subject === right.principal.subject;
}

/**
 * MCP streamable HTTP (2025-11-25) with sessions: POST for messages, GET for the server's stream,
 * DELETE to end a session. Session ids are random UUIDs issued by the server.
 */
export function createStreamableHttpHandler(
  dependencies: McpServerDependencies,
  options: StreamableHttpOptions,
): StreamableHttpHandler {
  const sessions = new Map<string, SessionEntry>();
  const idleTimeout = options.idleTimeoutMilliseconds ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 1000;

  async function closeSession(id: string): Promise<void> {
    const entry = sessions.get(id);
    if (!entry) return;
    sessions.delete(id);
    await entry.state.portForwards.stopAll();
    await entry.server.close().catch(() => undefined);
  }

  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const [id, entry] of sessions) {
        if (now - entry.lastSeen > idleTimeout) void closeSession(id);
      }
    },
    Math.min(idleTimeout, 60_000),
  );
  sweeper.unref();

  return {
    get sessionCount() {
      return sessions.size;
    },
    async handle(request, identity) {
      const sessionId = request.headers.get("mcp-session-id");
      const refused = await screenedPost(request, !sessionId);
      if (refused) return refused;
      if (sessionId) {
        const entry = sessions.get(sessionId);
        if (!entry || !sameCaller(entry.identity, identity)) {
          // Unknown, expired, or someone else's: the client must start a new session.
          return jsonRpcError(404, -32001, "Session not found: start a new session with an initialize request.");
        }
        entry.lastSeen = Date.now();
        return entry.transport.handleRequest(request);
      }
      if (request.method !== "POST") {
        return jsonRpcError(400, -32000, "Bad request: the Mcp-Session-Id header is required.");
      }
      if (sessions.size >= maxSessions) {
        return jsonRpcError(503, -32000, "Too many open sessions: try again later.");
      }
      const id = randomUUID();
      const state = createSessionState(id);
      const server = createMcpServer(dependencies, state, () => identity);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => id,
        // Tool calls send no progress notifications, so a plain JSON answer carries everything and
        // costs less than an SSE stream per POST. GET still opens the server's stream.
        enableJsonResponse: true,
        ...(options.maxRequestBodyBytes ? { maxRequestBodySize: options.maxRequestBodyBytes } : {}),
        onsessioninitialized: (initialized) => {
          sessions.set(initialized, { transport, server, state, identity, lastSeen: Date.now() });
        },
        onsessionclosed: (closed) => closeSession(closed),
      });
      await server.connect(transport);
      const response = await transport.handleRequest(request);
      if (!sessions.has(id)) {
        // Not an initialize request: nothing was opened, so nothing may linger.
        await server.close().catch(() => undefined);
      }
      return response;
    },
    async closeAll() {
      clearInterval(sweeper);
      await Promise.allSettled([...sessions.keys()].map((id) => closeSession(id)));
    },
  };
}
