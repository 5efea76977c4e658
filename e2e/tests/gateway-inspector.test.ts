// The official MCP Inspector, in CLI mode, against capi-mcp over streamable HTTP: a real client we
// did not write lists the tools and calls one.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetInfo } from "../fleet/test-context.ts";
import { type HttpGatewayProcess, startHttpGatewayProcess } from "../gateway/harness.ts";

const run = promisify(execFile);
const inspector = fileURLToPath(
  new URL("../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js", import.meta.url),
);

let gateway: HttpGatewayProcess;
let scratch: string;

beforeAll(async () => {
  const info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-inspector-"));
  gateway = await startHttpGatewayProcess({ kubeconfig: info.kubeconfig, context: "org-acme/dev" });
});

afterAll(async () => {
  await gateway?.stop();
  await rm(scratch, { recursive: true, force: true });
});

async function inspect(...args: string[]): Promise<string> {
  // A scratch HOME keeps the Inspector from writing into the real home directory.
  const { stdout } = await run(process.execPath, [inspector, "--cli", ...args, gateway.endpoint], {
    timeout: 60_000,
    env: { ...process.env, HOME: scratch, NO_COLOR: "1" },
  });
  return stdout;
}

describe("the MCP Inspector in CLI mode", () => {
  it("lists capi-mcp's tools", async () => {
    const output = await inspect("--method", "tools/list");
    const listed = JSON.parse(output) as { tools: { name: string }[] };
    const names = listed.tools.map((tool) => tool.name);
    expect(names).toContain("k8s_get_resource");
    expect(names).toContain("k8s_list_contexts");
    expect(names).not.toContain("k8s_delete_resource");
  });

  it("calls a tool and gets the fleet's clusters back", async () => {
    const output = await inspect("--method", "tools/call", "--tool-name", "k8s_list_contexts");
    const result = JSON.parse(output) as { content: { text: string }[]; isError?: boolean };
    expect(result.isError ?? false).toBe(false);
    expect(result.content.map((part) => part.text).join("\n")).toContain("org-globex/prod");
  });
});
