// `npm run fleet -- up` and `down` work twice in a row, `up` is idempotent, and `down` leaves no
// process behind. Runs the CLI as a user would, in a directory of its own.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { freePorts, isAlive } from "../fleet/processes.ts";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../fleet/cli.ts", import.meta.url));
const directories: string[] = [];

async function fleetCli(directory: string, gatewayPort: number, command: string) {
  try {
    const { stdout } = await run(process.execPath, [cli, command], {
      env: { ...process.env, CAPI_MCP_FLEET_DIR: directory, CAPI_MCP_GATEWAY_PORT: String(gatewayPort) },
      timeout: 150_000,
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

afterAll(async () => {
  for (const directory of directories) {
    await fleetCli(directory, 1, "down");
    await rm(directory, { recursive: true, force: true });
  }
});

describe("the fleet CLI", () => {
  it("brings a fleet up and down twice in a row, idempotently, leaving no process behind", {
    timeout: 400_000,
  }, async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-fleet-cli-"));
    directories.push(directory);
    const [gatewayPort = 0] = await freePorts(1);
    for (let round = 1; round <= 2; round += 1) {
      const up = await fleetCli(directory, gatewayPort, "up");
      expect(up.code, up.stdout).toBe(0);
      expect(up.stdout).toContain("org-globex/prod");
      const info = JSON.parse(await readFile(path.join(directory, "fleet.json"), "utf8")) as FleetInfo;
      expect(info.gateway.port).toBe(gatewayPort);
      expect(info.oidc.gatewayClient.redirectUri).toBe(`http://127.0.0.1:${gatewayPort}/oauth/callback`);
      expect(existsSync(path.join(directory, "kubeconfig"))).toBe(true);
      expect(info.processes.length).toBe(6);
      expect(info.processes.every((started) => isAlive(started.pid))).toBe(true);

      const status = await fleetCli(directory, gatewayPort, "status");
      expect(status.code, status.stdout).toBe(0);
      expect(status.stdout).toContain("All API servers are ready");
      expect(status.stdout).toMatch(/total RSS \d+ MiB/);

      const again = await fleetCli(directory, gatewayPort, "up");
      expect(again.code, again.stdout).toBe(0);
      expect(again.stdout).toContain("already up");
      const unchanged = JSON.parse(await readFile(path.join(directory, "fleet.json"), "utf8")) as FleetInfo;
      expect(unchanged.processes.map((started) => started.pid)).toEqual(info.processes.map((started) => started.pid));

      const down = await fleetCli(directory, gatewayPort, "down");
      expect(down.code, down.stdout).toBe(0);
      expect(info.processes.filter((started) => isAlive(started.pid))).toEqual([]);
      expect(existsSync(info.stateDirectory)).toBe(false);
      expect(existsSync(path.join(directory, "fleet.json"))).toBe(false);

      const after = await fleetCli(directory, gatewayPort, "status");
      expect(after.code).toBe(1);
      expect(after.stdout).toContain("No fleet is up");
    }
  });
});
