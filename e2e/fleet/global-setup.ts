// Starts one real fleet for the whole e2e run and stops it at the end. Set CAPI_MCP_E2E_FLEET to
// the fleet.json of a fleet that is already up (e.g. .fleet/fleet.json) to reuse it instead.
import path from "node:path";
import type { TestProject } from "vitest/node";
import { type Fleet, readFleetInfo, startFleet } from "./fleet.ts";
import { isAlive } from "./processes.ts";

declare module "vitest" {
  export interface ProvidedContext {
    fleetInfoFile: string;
  }
}

let fleet: Fleet | undefined;

export async function setup(project: TestProject): Promise<void> {
  const existing = process.env.CAPI_MCP_E2E_FLEET;
  if (existing) {
    project.provide("fleetInfoFile", path.resolve(existing));
    return;
  }
  fleet = await startFleet({ log: (message) => process.stderr.write(`[fleet] ${message}\n`) });
  project.provide("fleetInfoFile", path.join(fleet.info.stateDirectory, "fleet.json"));
}

export async function teardown(): Promise<void> {
  if (!fleet) return;
  // Every process the run started — including API servers a test restarted — must be gone.
  const recorded = await readFleetInfo(path.join(fleet.info.stateDirectory, "fleet.json")).catch(() => fleet?.info);
  const pids = new Set([...fleet.info.processes, ...(recorded?.processes ?? [])].map((started) => started.pid));
  await fleet.stop();
  fleet = undefined;
  const survivors = [...pids].filter((pid) => isAlive(pid));
  if (survivors.length > 0) throw new Error(`fleet processes still running after the e2e run: ${survivors.join(", ")}`);
}
