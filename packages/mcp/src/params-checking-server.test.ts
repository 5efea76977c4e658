import { PassThrough } from "node:stream";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterEach, describe, expect, it } from "vitest";
import { createMcpServer } from "./server.js";
import { createSessionState } from "./session.js";
import { serveStdio } from "./stdio.js";
import { createStreamableHttpHandler } from "./streamable-http.js";
import { mutableCatalog, testDependencies } from "./testing/test-dependencies.js";

interface RpcAnswer {
  readonly id?: number | string | null;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string; data?: unknown };
}

const initializeParams = {
  protocolVersion: "2025-11-25",
  capabilities: {},
  clientInfo: { name: "raw-client", version: "1.0.0" },
};

/** Requests with params that do not fit their method, and the field each answer must name. */
const badRequests: readonly { method: string; params: unknown; field: string }[] = [
  { method: "tools/call", params: { name: 123 }, field: "params.name" },
  { method: "tools/call", params: { name: "echo", arguments: "text=hello" }, field: "params.arguments" },
  { method: "tools/call", params: "echo", field: "params" },
  { method: "tools/list", params: { cursor: 5 }, field: "params.cursor" },
  { method: "ping", params: "now", field: "params" },
  { method: "initialize", params: { ...initializeParams, protocolVersion: 2025 }, field: "params.protocolVersion" },
  {
    method: "initialize",
    params: { ...initializeParams, clientInfo: { name: ["x"], version: "1" } },
    field: "params.clientInfo.name",
  },
];

/** The SDK's in-memory pair carries objects, never text: only params that are objects go through it. */
const objectParamsRequests = badRequests.filter((request) => typeof request.params === "object");

/** What every Invalid params answer must be: -32602, the field named, no zod dump. */
function expectInvalidParams(answer: RpcAnswer | undefined, request: (typeof badRequests)[number]): void {
  const label = `${request.method} ${JSON.stringify(request.params)}`;
  expect(answer?.error?.code, label).toBe(-32602);
  const message = answer?.error?.message ?? "";
  expect(message, label).toContain(`Invalid params for ${request.method}`);
  expect(message, label).toContain(`${request.field}:`);
  // The raw zod dump (a JSON array of issue objects) is not a message.
  expect(message, label).not.toMatch(/"code":|invalid_type|\[\s*\{/);
  expect(message, label).not.toContain("Internal error");
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

describe("request params checking", () => {
  it("answers every request method's bad params with -32602 naming the field, over a raw in-memory connection", async () => {
    const dependencies = testDependencies();
    const server = createMcpServer(dependencies, createSessionState("raw"), () => ({
      principal: undefined,
      catalog: mutableCatalog(["dev"], "dev").catalog,
    }));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const answers = new Map<number, RpcAnswer>();
    clientSide.onmessage = (message) => {
      const answer = message as RpcAnswer;
      if (typeof answer.id === "number") answers.set(answer.id, answer);
    };
    await server.connect(serverSide);
    await clientSide.start();
    closers.push(() => server.close());

    await clientSide.send({ jsonrpc: "2.0", id: 0, method: "initialize", params: initializeParams });
    await clientSide.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    for (const [index, request] of objectParamsRequests.entries()) {
      await clientSide.send({ jsonrpc: "2.0", id: index + 1, method: request.method, params: request.params } as never);
    }
    await expect.poll(() => answers.size).toBe(objectParamsRequests.length + 1);
    expect(answers.get(0)?.result?.protocolVersion).toBe("2025-11-25");
    for (const [index, request] of objectParamsRequests.entries()) {
      expectInvalidParams(answers.get(index + 1), request);
    }
    expect(answers.get(1)?.error?.message).toBe(
      "Invalid params for tools/call: params.name: expected string, received number.",
    );
    // Nothing was run: a bad tools/call reaches no tool and leaves no audit record.
    expect(dependencies.audited).toEqual([]);
  });

  it("still answers good params as before: ping, tools/list and tools/call", async () => {
    const dependencies = testDependencies();
    const server = createMcpServer(dependencies, createSessionState("raw"), () => ({
      principal: undefined,
      catalog: mutableCatalog(["dev"], "dev").catalog,
    }));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const answers = new Map<number, RpcAnswer>();
    clientSide.onmessage = (message) => {
      const answer = message as RpcAnswer;
      if (typeof answer.id === "number") answers.set(answer.id, answer);
    };
    await server.connect(serverSide);
    await clientSide.start();
    closers.push(() => server.close());
    await clientSide.send({ jsonrpc: "2.0", id: 1, method: "initialize", params: initializeParams });
    await clientSide.send({ jsonrpc: "2.0", id: 2, method: "ping" });
    await clientSide.send({ jsonrpc: "2.0", id: 3, method: "tools/list", params: {} });
    await clientSide.send({
      jsonrpc: "2.0",
      id: 4,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "hi" } },
    });
    await expect.poll(() => answers.size).toBe(4);
    expect(answers.get(2)?.result).toEqual({});
    expect(((answers.get(3)?.result?.tools ?? []) as { name: string }[]).map((tool) => tool.name)).toEqual(["echo"]);
    expect(answers.get(4)?.result?.content).toEqual([{ type: "text", text: "echo hi on dev" }]);
  });

  it("answers bad params with -32602 over stdio, as raw JSON lines", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const running = await serveStdio(
      testDependencies(),
      { principal: undefined, catalog: mutableCatalog(["dev"], "dev").catalog },
      { input, output },
    );
    closers.push(() => running.close());
    const answers = new Map<number, RpcAnswer>();
    const unnumbered: RpcAnswer[] = [];
    let buffered = "";
    output.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline = buffered.indexOf("\n");
      while (newline !== -1) {
        const answer = JSON.parse(buffered.slice(0, newline)) as RpcAnswer;
        buffered = buffered.slice(newline + 1);
        if (typeof answer.id === "number") answers.set(answer.id, answer);
        else unnumbered.push(answer);
        newline = buffered.indexOf("\n");
      }
    });
    const send = (message: unknown) => input.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: "2.0", id: 0, method: "initialize", params: initializeParams });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    for (const [index, request] of badRequests.entries()) {
      send({ jsonrpc: "2.0", id: index + 1, method: request.method, params: request.params });
    }
    input.write("this is not json\n");
    await expect.poll(() => answers.size).toBe(badRequests.length + 1);
    for (const [index, request] of badRequests.entries()) expectInvalidParams(answers.get(index + 1), request);
    // A line that is not JSON is answered too, rather than dropped with the client left waiting.
    await expect.poll(() => unnumbered.map((answer) => answer.error?.code)).toEqual([-32700]);
  });

  it("answers bad params with -32602 over streamable HTTP, as raw POSTs in a session", async () => {
    const handler = createStreamableHttpHandler(testDependencies(), {});
    closers.push(() => handler.closeAll());
    const identity = { principal: undefined, catalog: mutableCatalog(["dev"], "dev").catalog };
    const post = (body: unknown, sessionId?: string) =>
      handler.handle(
        new Request("http://127.0.0.1/mcp", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25",
            ...(sessionId ? { "mcp-session-id": sessionId } : {}),
          },
          body: JSON.stringify(body),
        }),
        identity,
      );
    const opened = await post({ jsonrpc: "2.0", id: 0, method: "initialize", params: initializeParams });
    expect(opened.status).toBe(200);
    const sessionId = opened.headers.get("mcp-session-id") ?? "";
    expect(sessionId).not.toBe("");
    await post({ jsonrpc: "2.0", method: "notifications/initialized" }, sessionId);
    for (const [index, request] of badRequests.entries()) {
      if (request.method === "initialize") continue;
      const response = await post(
        { jsonrpc: "2.0", id: index + 1, method: request.method, params: request.params },
        sessionId,
      );
      expectInvalidParams((await response.json()) as RpcAnswer, request);
    }
    // An initialize whose params are wrong opens nothing and says what is wrong.
    for (const request of badRequests.filter((candidate) => candidate.method === "initialize")) {
      const response = await post({ jsonrpc: "2.0", id: 99, method: request.method, params: request.params });
      expectInvalidParams((await response.json()) as RpcAnswer, request);
      expect(response.headers.get("mcp-session-id")).toBeNull();
    }
    expect(handler.sessionCount).toBe(1);
  });
});
