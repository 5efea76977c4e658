import { defineTool, type PortForwardHandle, type ToolDefinition } from "@capi-mcp/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createMcpServer } from "./server.js";
import { createSessionState } from "./session.js";
import { echoTool, mutableCatalog, testDependencies } from "./testing/test-dependencies.js";

const currentTool = defineTool({
  name: "current",
  title: "Current",
  description: "Names the session's current cluster.",
  operation: "session",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  async handler(_input, context) {
    return { text: `current: ${context.session.currentCluster ?? "none"}` };
  },
});

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function connect() {
  const { catalog, remove } = mutableCatalog(["org-acme/dev", "org-acme/prod"]);
  const dependencies = testDependencies([echoTool, currentTool] as unknown as ToolDefinition[]);
  const session = createSessionState("session-1");
  const server = createMcpServer(dependencies, session, () => ({ principal: undefined, catalog }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "test", version: "1" });
  await client.connect(clientSide);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args });
    return { text: (result.content as { text: string }[])[0]?.text ?? "", isError: result.isError === true };
  };
  return { session, remove, call, audited: dependencies.audited };
}

describe("session state follows the catalog", () => {
  it("clears a current cluster that left the catalog, refuses the call that relied on it, and says how to choose another", async () => {
    const { session, remove, call, audited } = await connect();
    session.currentCluster = "org-acme/prod";
    expect((await call("echo")).text).toBe("echo  on org-acme/prod");
    remove("org-acme/prod");

    const refused = await call("echo", { text: "x" });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain("current cluster org-acme/prod is no longer available");
    expect(refused.text).toContain("k8s_switch_context");
    expect(refused.text).toContain("This call was not run");
    expect(session.currentCluster).toBeUndefined();
    // Refused inside the runner: audited like any failed call.
    expect(audited.at(-1)).toMatchObject({ tool: "echo", outcome: "error", errorCode: "cluster_not_found" });

    // Said once: the session simply has no current cluster from now on.
    expect((await call("current")).text).toBe("current: none");
    expect((await call("echo", { cluster: "org-acme/dev" })).text).toBe("echo  on org-acme/dev");
  });

  it("answers a call that names its cluster, noting that the current one is gone", async () => {
    const { session, remove, call } = await connect();
    session.currentCluster = "org-acme/prod";
    remove("org-acme/prod");
    const answer = await call("current");
    expect(answer.isError).toBe(false);
    expect(answer.text).toMatch(/^current: none\nNote: This session's current cluster org-acme\/prod is no longer/);
  });

  it("stops port-forwards whose cluster left the catalog, and keeps the others", async () => {
    const { session, remove, call } = await connect();
    const closed: string[] = [];
    const handle = (pod: string): PortForwardHandle => ({
      namespace: "default",
      pod,
      remotePort: 80,
      localAddress: "127.0.0.1",
      localPort: 40_000,
      close: async () => {
        closed.push(pod);
      },
    });
    session.portForwards.add("org-acme/prod", handle("on-prod"));
    session.portForwards.add("org-acme/dev", handle("on-dev"));
    remove("org-acme/prod");
    const answer = await call("echo", { cluster: "org-acme/dev" });
    expect(answer.text).toContain("were stopped: their cluster is no longer available");
    expect(closed).toEqual(["on-prod"]);
    expect(session.portForwards.list().map((entry) => entry.cluster)).toEqual(["org-acme/dev"]);
  });
});
