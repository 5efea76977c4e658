import { randomUUID } from "node:crypto";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { screenInitialize, screenRawMessage } from "./raw-message-screen.js";
import { createMcpServer, type McpServerDependencies, type SessionIdentity } from "./server.js";
import { createSessionState } from "./session.js";
import {
  createSessionTable,
  defaultSessionLimits,
  type SessionEndReason,
  type SessionEvent,
  type SessionLimits,
  type TrackedSession,
} from "./session-table.js";

export interface StreamableHttpOptions extends Partial<SessionLimits> {
  readonly maxRequestBodyBytes?: number;
  /** Sessions opened, closed and refused, by reason (the metrics). */
  readonly onSessionEvent?: (event: SessionEvent) => void;
}

interface SessionResources {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: Server;
  readonly identity: SessionIdentity;
}

type Session = TrackedSession<SessionResources>;

export interface StreamableHttpHandler {
  /**
   * Serves one request. `identity` is who is calling, established before this point (with OAuth,
   * from the verified bearer token of this very request).
   */
  handle(request: Request, identity: SessionIdentity): Promise<Response>;
  readonly sessionCount: number;
  /** Port-forward listeners open in all sessions together. */
  readonly portForwardCount: number;
  closeAll(): Promise<void>;
}

function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The body of a POST, parsed once; undefined when it is not JSON (the SDK answers that). */
async function postedMessage(request: Request): Promise<unknown> {
  if (request.method !== "POST") return undefined;
  try {
    return JSON.parse(await request.clone().text());
  } catch {
    return undefined;
  }
}

/**
 * A POST whose request has params that are not an object, or an initialize with params that do
 * not fit: answered here with -32602 and the request's id (the SDK would call the first
 * unparseable and the second "not initialized").
 */
function screened(message: unknown, opensSession: boolean): Response | undefined {
  const refusal = screenRawMessage(message) ?? (opensSession ? screenInitialize(message) : undefined);
  return refusal
    ? new Response(JSON.stringify(refusal), { status: 400, headers: { "content-type": "application/json" } })
    : undefined;
}

/** Whether the body opens a session: an initialize, alone or as the one element of a batch. */
function isInitialize(message: unknown): boolean {
  const messages: unknown[] = Array.isArray(message) ? message : [message];
  return messages.some(
    (item) => typeof item === "object" && item !== null && (item as { method?: unknown }).method === "initialize",
  );
}

/** The same human on every request of a session: a session id alone grants nothing. */
function sameCaller(left: SessionIdentity, right: SessionIdentity): boolean {
  if (!left.principal || !right.principal) return left.principal === right.principal;
  return left.principal.issuer === right.principal.issuer && left.principal.subject === right.principal.subject;
}

function principalKeyOf(identity: SessionIdentity): string {
  // Without a principal (no OAuth), every caller is the gateway's own local user.
  return identity.principal ? JSON.stringify([identity.principal.issuer, identity.principal.subject]) : "local";
}

/**
 * The same response with a body that reports its end: the client closing the GET stream (the
 * HTTP server cancels the body) and the server ending it both count.
 */
function watchBody(response: Response, onEnd: () => void): Response {
  if (!response.body) {
    onEnd();
    return response;
  }
  const reader = response.body.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * MCP streamable HTTP (2025-11-25) with sessions: POST for messages, GET for the server's stream,
 * DELETE to end a session. Session ids are random UUIDs issued by the server.
 *
 * A session ends on DELETE; when its client, having held the GET stream, has been gone for the
 * grace period; or after the idle timeout. Its port-forwards end with it, and earlier when nobody
 * has used them or the session for the port-forward idle bound. Each principal may hold a
 * bounded number of sessions, and so may everyone together (see `SessionTable.admit`).
 */
export function createStreamableHttpHandler(
  dependencies: McpServerDependencies,
  options: StreamableHttpOptions,
): StreamableHttpHandler {
  const limits: SessionLimits = {
    idleTimeoutMilliseconds: options.idleTimeoutMilliseconds ?? defaultSessionLimits.idleTimeoutMilliseconds,
    maxSessions: options.maxSessions ?? defaultSessionLimits.maxSessions,
    maxSessionsPerPrincipal: options.maxSessionsPerPrincipal ?? defaultSessionLimits.maxSessionsPerPrincipal,
    clientGoneGraceMilliseconds:
      options.clientGoneGraceMilliseconds ?? defaultSessionLimits.clientGoneGraceMilliseconds,
    portForwardIdleMilliseconds:
      options.portForwardIdleMilliseconds ?? defaultSessionLimits.portForwardIdleMilliseconds,
  };
  const table = createSessionTable<SessionResources>(limits);
  const report = (event: SessionEvent) => options.onSessionEvent?.(event);

  async function closeSession(id: string, reason: SessionEndReason): Promise<void> {
    const session = table.get(id);
    if (!session || !table.remove(id)) return;
    report({ type: "closed", reason });
    await session.state.portForwards.stopAll();
    await session.resources.server.close().catch(() => undefined);
  }

  function sweep(): void {
    const { close, stopForwards } = table.sweep(Date.now());
    for (const { session, reason } of close) void closeSession(session.id, reason);
    for (const { session, forwardId } of stopForwards) {
      session.forwardActivity.delete(forwardId);
      void session.state.portForwards.stop(forwardId).catch(() => undefined);
    }
  }

  // Often enough that the shortest bound is kept to within half of itself, at most once a second
  // apart from tests' short bounds, and never more than a minute late.
  const shortestBound = Math.min(
    limits.idleTimeoutMilliseconds,
    limits.clientGoneGraceMilliseconds,
    limits.portForwardIdleMilliseconds,
  );
  const sweeper = setInterval(sweep, Math.max(100, Math.min(shortestBound / 2, 60_000)));
  sweeper.unref();

  /** Runs one request as activity of the session: in use while it runs, its stream watched. */
  async function serve(session: Session, request: Request): Promise<Response> {
    session.inFlight += 1;
    session.lastActivity = Date.now();
    let response: Response;
    try {
      response = await session.resources.transport.handleRequest(request);
    } finally {
      session.inFlight -= 1;
      session.lastActivity = Date.now();
    }
    if (request.method !== "GET" || response.status !== 200 || !response.body) return response;
    session.openStreams += 1;
    session.heldStream = true;
    return watchBody(response, () => {
      session.openStreams -= 1;
      session.lastActivity = Date.now();
    });
  }

  async function open(request: Request, identity: SessionIdentity, message: unknown): Promise<Response> {
    const principalKey = principalKeyOf(identity);
    const initializing = isInitialize(message);
    let evictions: readonly { session: Session; reason: SessionEndReason }[] = [];
    if (initializing) {
      const admission = table.admit(principalKey);
      if (!admission.admitted) {
        report({ type: "refused", reason: admission.reason });
        return admission.reason === "principal-limit"
          ? jsonRpcError(
              429,
              -32000,
              `Too many open sessions for you (${limits.maxSessionsPerPrincipal}), all in use: end one with DELETE, or try again later.`,
              { "retry-after": "30" },
            )
          : jsonRpcError(503, -32000, "Too many open sessions, all in use: try again later.", {
              "retry-after": "30",
            });
      }
      evictions = admission.evict;
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
      onsessionclosed: (closed) => closeSession(closed, "deleted"),
    });
    const session: Session = {
      id,
      principalKey,
      state,
      resources: { transport, server, identity },
      // Held in use until its initialize is answered, so no one else's admission evicts it.
      inFlight: 1,
      openStreams: 0,
      heldStream: false,
      lastActivity: Date.now(),
      forwardActivity: new Map(),
    };
    // Counted before the first await, in the same turn as its admission: concurrent initializes
    // each see the others, so together they cannot pass the caps.
    if (initializing) table.add(session);
    let response: Response;
    try {
      for (const { session: evicted, reason } of evictions) await closeSession(evicted.id, reason);
      await server.connect(transport);
      response = await serve(session, request);
    } catch (error) {
      table.remove(id);
      await server.close().catch(() => undefined);
      throw error;
    } finally {
      session.inFlight -= 1;
    }
    if (transport.sessionId === id) {
      if (!initializing) table.add(session);
      report({ type: "opened" });
    } else {
      // Not an initialize that succeeded: nothing was opened, so nothing may linger.
      table.remove(id);
      await server.close().catch(() => undefined);
    }
    return response;
  }

  return {
    get sessionCount() {
      return table.size;
    },
    get portForwardCount() {
      return table.all().reduce((total, session) => total + session.state.portForwards.list().length, 0);
    },
    async handle(request, identity) {
      const sessionId = request.headers.get("mcp-session-id");
      const message = await postedMessage(request);
      const refused = screened(message, !sessionId);
      if (refused) return refused;
      if (sessionId) {
        const session = table.get(sessionId);
        if (!session || !sameCaller(session.resources.identity, identity)) {
          // Unknown, expired, or someone else's: the client must start a new session.
          return jsonRpcError(404, -32001, "Session not found: start a new session with an initialize request.");
        }
        return serve(session, request);
      }
      if (request.method !== "POST") {
        return jsonRpcError(400, -32000, "Bad request: the Mcp-Session-Id header is required.");
      }
      return open(request, identity, message);
    },
    async closeAll() {
      clearInterval(sweeper);
      await Promise.allSettled(table.all().map((session) => closeSession(session.id, "shutdown")));
    },
  };
}
