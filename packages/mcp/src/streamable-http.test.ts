import { defineTool, type PortForwardHandle, type Principal } from "@capi-mcp/core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { SessionIdentity } from "./server.js";
import type { SessionEvent } from "./session-table.js";
import {
  createStreamableHttpHandler,
  type StreamableHttpHandler,
  type StreamableHttpOptions,
} from "./streamable-http.js";
import { echoTool, mutableCatalog, testDependencies } from "./testing/test-dependencies.js";

const catalog = mutableCatalog(["dev"], "dev").catalog;

function identityOf(subject: string): SessionIdentity {
  const principal: Principal = {
    subject,
    issuer: "https://issuer.example",
    username: `${subject}@example.com`,
    email: `${subject}@example.com`,
    emailVerified: true,
    groups: [],
    idTokenCustody: undefined,
  };
  return { principal, catalog };
}

const headers = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "test", version: "1" } },
};

let handlers: StreamableHttpHandler[] = [];
afterEach(async () => {
  for (const handler of handlers) await handler.closeAll();
  handlers = [];
});

/** Port-forward doubles the next `open_forward` calls hand to the session, in order. */
const pendingForwards: PortForwardHandle[] = [];
const openForwardTool = defineTool({
  name: "open_forward",
  title: "Open a forward",
  description: "Registers a port-forward double in this session.",
  operation: "port-forward",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({}),
  async handler(_input, context) {
    const handle = pendingForwards.shift();
    if (!handle) throw new Error("no forward double prepared");
    const entry = context.session.portForwards.add("dev", handle);
    return { text: `forward ${entry.id}` };
  },
});

function handlerWith(options: StreamableHttpOptions) {
  const events: SessionEvent[] = [];
  const handler = createStreamableHttpHandler(testDependencies([echoTool, openForwardTool] as never), {
    ...options,
    onSessionEvent: (event) => events.push(event),
  });
  handlers.push(handler);
  return { handler, events };
}

async function openSession(handler: StreamableHttpHandler, identity: SessionIdentity): Promise<Response> {
  return handler.handle(
    new Request("http://127.0.0.1/mcp", { method: "POST", headers, body: JSON.stringify(initialize) }),
    identity,
  );
}

async function ping(handler: StreamableHttpHandler, identity: SessionIdentity, sessionId: string): Promise<number> {
  const response = await handler.handle(
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: { ...headers, "mcp-session-id": sessionId },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }),
    }),
    identity,
  );
  return response.status;
}

async function openStream(handler: StreamableHttpHandler, identity: SessionIdentity, sessionId: string) {
  const response = await handler.handle(
    new Request("http://127.0.0.1/mcp", {
      method: "GET",
      headers: { accept: "text/event-stream", "mcp-protocol-version": "2025-11-25", "mcp-session-id": sessionId },
    }),
    identity,
  );
  expect(response.status).toBe(200);
  return response;
}

async function openForward(
  handler: StreamableHttpHandler,
  identity: SessionIdentity,
  sessionId: string,
  connections: { open: number },
) {
  const forward = forwardDouble(connections);
  pendingForwards.push(forward.handle);
  const response = await handler.handle(
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: { ...headers, "mcp-session-id": sessionId },
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "open_forward" } }),
    }),
    identity,
  );
  const answer = (await response.json()) as { result?: { isError?: boolean; content?: unknown } };
  expect(answer.result?.isError, JSON.stringify(answer.result?.content)).toBe(false);
  return forward;
}

function sessionIdOf(response: Response): string {
  const id = response.headers.get("mcp-session-id");
  expect(id).toBeTruthy();
  return id ?? "";
}

/** A port-forward double that says whether it was closed and how many connections it has. */
function forwardDouble(connections: { open: number }) {
  const closed = { value: false };
  const handle: PortForwardHandle = {
    namespace: "default",
    pod: "web",
    remotePort: 80,
    localAddress: "127.0.0.1",
    localPort: 40_000,
    activeConnections: () => connections.open,
    close: async () => {
      closed.value = true;
    },
  };
  return { handle, closed };
}

describe("streamable HTTP sessions", () => {
  it("lets one principal flood only their own sessions: their oldest idle ones go, and another principal still gets in", async () => {
    const { handler, events } = handlerWith({ maxSessions: 10, maxSessionsPerPrincipal: 3 });
    const flooder = identityOf("flooder");
    const first = sessionIdOf(await openSession(handler, flooder));
    for (let index = 0; index < 20; index += 1) expect((await openSession(handler, flooder)).status).toBe(200);
    expect(handler.sessionCount).toBe(3);
    // The flooder's first session was the oldest idle one: it went first.
    expect(await ping(handler, flooder, first)).toBe(404);
    const other = identityOf("other");
    const opened = await openSession(handler, other);
    expect(opened.status).toBe(200);
    expect(await ping(handler, other, sessionIdOf(opened))).toBe(200);
    expect(events.filter((event) => event.type === "closed" && event.reason === "principal-limit")).toHaveLength(18);
  });

  it("applies the caps to an initialize sent as a one-element batch too", async () => {
    const { handler } = handlerWith({ maxSessions: 10, maxSessionsPerPrincipal: 2 });
    const flooder = identityOf("batcher");
    for (let index = 0; index < 6; index += 1) {
      const response = await handler.handle(
        new Request("http://127.0.0.1/mcp", { method: "POST", headers, body: JSON.stringify([initialize]) }),
        flooder,
      );
      expect(response.status).toBe(200);
    }
    expect(handler.sessionCount).toBe(2);
  });

  it("keeps the caps when many initializes arrive at once", async () => {
    const { handler } = handlerWith({ maxSessions: 6, maxSessionsPerPrincipal: 3 });
    const flooder = identityOf("concurrent");
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => (await openSession(handler, flooder)).status),
    );
    expect(handler.sessionCount).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
  });

  it("at the global cap, a newcomer pushes out the oldest idle session of anyone rather than being refused", async () => {
    const { handler, events } = handlerWith({ maxSessions: 4, maxSessionsPerPrincipal: 4 });
    const users = ["a", "b", "c", "d"].map(identityOf);
    const ids: string[] = [];
    for (const user of users) ids.push(sessionIdOf(await openSession(handler, user)));
    // a's session is used again, so b's is now the oldest idle one.
    expect(await ping(handler, users[0] as SessionIdentity, ids[0] as string)).toBe(200);
    const newcomer = identityOf("e");
    expect((await openSession(handler, newcomer)).status).toBe(200);
    expect(handler.sessionCount).toBe(4);
    expect(await ping(handler, users[1] as SessionIdentity, ids[1] as string)).toBe(404);
    expect(await ping(handler, users[0] as SessionIdentity, ids[0] as string)).toBe(200);
    expect(events).toContainEqual({ type: "closed", reason: "global-limit" });
  });

  it("refuses a principal whose sessions are all in use with 429, and everyone with 503 when all are, counting both", async () => {
    const { handler, events } = handlerWith({ maxSessions: 3, maxSessionsPerPrincipal: 2 });
    const busy = identityOf("busy");
    const streams: Response[] = [];
    for (let index = 0; index < 2; index += 1) {
      const id = sessionIdOf(await openSession(handler, busy));
      streams.push(await openStream(handler, busy, id));
    }
    const refused = await openSession(handler, busy);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      "Too many open sessions",
    );
    const other = identityOf("other");
    streams.push(await openStream(handler, other, sessionIdOf(await openSession(handler, other))));
    expect((await openSession(handler, identityOf("third"))).status).toBe(503);
    expect(events.filter((event) => event.type === "refused")).toEqual([
      { type: "refused", reason: "principal-limit" },
      { type: "refused", reason: "global-limit" },
    ]);
    for (const stream of streams) await stream.body?.cancel();
  });

  it("ends the session of a client that dropped its GET stream, and its port-forwards, after the grace period", async () => {
    const { handler, events } = handlerWith({ clientGoneGraceMilliseconds: 300 });
    const user = identityOf("user");
    const id = sessionIdOf(await openSession(handler, user));
    const stream = await openStream(handler, user, id);
    const forward = await openForward(handler, user, id, { open: 0 });
    expect(handler.portForwardCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Still connected: while the stream is open, nothing ends however quiet the session is.
    expect(handler.sessionCount).toBe(1);
    await stream.body?.cancel();
    await expect.poll(() => handler.sessionCount, { timeout: 3000 }).toBe(0);
    expect(events).toContainEqual({ type: "closed", reason: "client-gone" });
    expect(forward.closed.value).toBe(true);
    expect(handler.portForwardCount).toBe(0);
  });

  it("stops the port-forwards of a quiet session after the port-forward idle bound, unless a connection is open", async () => {
    const { handler } = handlerWith({ portForwardIdleMilliseconds: 300 });
    const user = identityOf("user");
    const id = sessionIdOf(await openSession(handler, user));
    const unused = await openForward(handler, user, id, { open: 0 });
    const inUse = await openForward(handler, user, id, { open: 1 });
    await expect.poll(() => unused.closed.value, { timeout: 3000 }).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(inUse.closed.value).toBe(false);
    // The session itself stays until its own idle timeout: the client may come back.
    expect(await ping(handler, user, id)).toBe(200);
    expect(handler.portForwardCount).toBe(1);
  });
});
