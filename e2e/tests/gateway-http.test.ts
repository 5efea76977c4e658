// The HTTP surface and the command line of the real `capi-mcp`: health, readiness, the MCP
// session lifecycle, exit codes and messages, graceful shutdown.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { FleetInfo } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { gatewayCli, type HttpGatewayProcess, startHttpGatewayProcess } from "../gateway/harness.ts";

const run = promisify(execFile);
let info: FleetInfo;
let scratch: string;
let gateway: HttpGatewayProcess;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-http-"));
  gateway = await startHttpGatewayProcess({ kubeconfig: info.kubeconfig, context: "org-acme/dev" });
});

afterAll(async () => {
  await gateway?.stop();
  await rm(scratch, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [gatewayCli, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" };

function rpc(method: string, id: number, params: Record<string, unknown> = {}) {
  return JSON.stringify({ jsonrpc: "2.0", id, method, params });
}

describe("capi-mcp's HTTP endpoints", () => {
  it("answers /healthz, and /readyz once the default cluster is reachable", async () => {
    const base = gateway.endpoint.replace(/\/mcp$/, "");
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    // Unauthenticated callers learn ready or not, nothing about the clusters behind it.
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("reports not ready, quickly, when the default cluster cannot be reached", async () => {
    const kubeconfig = path.join(scratch, "unreachable.kubeconfig");
    await writeFile(
      kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "gone",
        clusters: [{ name: "gone", cluster: { server: "https://127.0.0.1:1", "insecure-skip-tls-verify": true } }],
        users: [{ name: "nobody", user: { token: "not-a-real-token" } }],
        contexts: [{ name: "gone", context: { cluster: "gone", user: "nobody" } }],
      }),
    );
    const unreachable = await startHttpGatewayProcess({ kubeconfig });
    try {
      const started = performance.now();
      const response = await fetch(unreachable.endpoint.replace(/\/mcp$/, "/readyz"));
      expect(performance.now() - started).toBeLessThan(8000);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; error?: string };
      expect(body.status).toBe("unavailable");
      expect(JSON.stringify(body)).not.toContain("not-a-real-token");
    } finally {
      await unreachable.stop();
    }
  });

  it("issues an unguessable session id, serves the session's GET stream, and ends the session on DELETE", async () => {
    const initialize = await fetch(gateway.endpoint, {
      method: "POST",
      headers: mcpHeaders,
      body: rpc("initialize", 1, {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "raw-http", version: "1.0.0" },
      }),
    });
    expect(initialize.status).toBe(200);
    const sessionId = initialize.headers.get("mcp-session-id") ?? "";
    expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const initialized = (await initialize.json()) as {
      result: { protocolVersion: string; serverInfo: { name: string } };
    };
    expect(initialized.result.serverInfo.name).toBe("capi-mcp");
    const session = {
      ...mcpHeaders,
      "mcp-session-id": sessionId,
      "mcp-protocol-version": initialized.result.protocolVersion,
    };
    await fetch(gateway.endpoint, {
      method: "POST",
      headers: session,
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    });

    const stream = new AbortController();
    const get = await fetch(gateway.endpoint, {
      method: "GET",
      headers: { accept: "text/event-stream", "mcp-session-id": sessionId },
      signal: stream.signal,
    });
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toContain("text/event-stream");
    stream.abort();

    const listed = await fetch(gateway.endpoint, { method: "POST", headers: session, body: rpc("tools/list", 2) });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(await listed.json())).toContain("k8s_get_resource");

    const deleted = await fetch(gateway.endpoint, { method: "DELETE", headers: session });
    expect(deleted.status).toBe(200);
    const afterDelete = await fetch(gateway.endpoint, { method: "POST", headers: session, body: rpc("tools/list", 3) });
    expect(afterDelete.status).toBe(404);
  });

  it("answers an unknown session id with 404 and a request without one (not initialize) with 400", async () => {
    const unknown = await fetch(gateway.endpoint, {
      method: "POST",
      headers: { ...mcpHeaders, "mcp-session-id": "00000000-0000-4000-8000-000000000000" },
      body: rpc("tools/list", 1),
    });
    expect(unknown.status).toBe(404);
    const withoutSession = await fetch(gateway.endpoint, {
      method: "POST",
      headers: mcpHeaders,
      body: rpc("tools/list", 1),
    });
    expect(withoutSession.status).toBe(400);
  });
});

describe("the capi-mcp command line", () => {
  it("prints help and its version", async () => {
    const help = await cli("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--allow-operations");
    expect(help.stdout).toContain("CAPI_MCP_NON_DESTRUCTIVE");
    const version = await cli("version");
    expect(version.stdout).toMatch(/^capi-mcp \d+\.\d+\.\d+\n$/);
  });

  it("refuses a bad flag or a missing kubeconfig with a clear message and a non-zero exit, no stack trace", async () => {
    const bad = await cli("serve", "--qps-limit", "fast");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('capi-mcp: --qps-limit: expected a number, got "fast".\n');
    const unknown = await cli("serve", "--kubeconfg", "/x");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Did you mean --kubeconfig?");
    const missing = await cli("serve", "--kubeconfig", path.join(scratch, "absent.kubeconfig"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^capi-mcp: Cannot load kubeconfig .*absent\.kubeconfig/);
    for (const result of [bad, unknown, missing]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("shuts down cleanly on SIGTERM", async () => {
    const second = await startHttpGatewayProcess({ kubeconfig: info.kubeconfig, context: "org-acme/dev" });
    second.process.kill("SIGTERM");
    const [code] = (await once(second.process, "exit")) as [number | null];
    expect(code).toBe(0);
    await second.stop();
  });
});
