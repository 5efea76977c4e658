// npm run fleet -- up | status | down
// Runs the real local fleet for development and demos. State lives in .fleet/ (git-ignored):
// fleet.json describes the fleet; kubeconfig has one context per cluster.

import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type FleetInfo, fleetAdminClient, fleetProcessStatus, readFleetInfo, startFleet, stopFleet } from "./fleet.ts";

const repositoryRoot = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
// CAPI_MCP_FLEET_DIR moves the CLI's state elsewhere (the lifecycle test uses its own).
const stateDirectory = path.resolve(process.env.CAPI_MCP_FLEET_DIR ?? path.join(repositoryRoot, ".fleet"));
const infoFile = path.join(stateDirectory, "fleet.json");
const kubeconfigFile = path.join(stateDirectory, "kubeconfig");
const defaultGatewayPort = 8080;

/** Resident memory of a process from /proc, in KiB; undefined when it is gone. */
function residentKibibytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function healthy(info: FleetInfo): Promise<boolean> {
  if (fleetProcessStatus(info).some((process) => !process.alive)) return false;
  const clusters = [
    "management" as const,
    ...info.workloadClusters.map((cluster) => `${cluster.namespace}/${cluster.name}` as const),
  ];
  const answers = await Promise.all(
    clusters.map(async (cluster) => {
      const client = await fleetAdminClient(info, cluster);
      try {
        return (await client.request("GET", "/readyz", undefined, { timeoutMilliseconds: 3000 })).status === 200;
      } catch {
        return false;
      } finally {
        client.close();
      }
    }),
  );
  return answers.every(Boolean);
}

async function currentFleet(): Promise<FleetInfo | undefined> {
  if (!existsSync(infoFile)) return undefined;
  try {
    return await readFleetInfo(infoFile);
  } catch {
    return undefined;
  }
}

function summary(info: FleetInfo): string {
  const lines = [
    `Fleet (Kubernetes ${info.kubernetesVersion}) on 127.0.0.1:`,
    `  management        ${info.management.server}`,
    ...info.workloadClusters.map(
      (cluster) => `  ${`${cluster.namespace}/${cluster.name}`.padEnd(18)}${cluster.server}`,
    ),
    `  OpenID provider   ${info.oidc.issuer}  (gateway client "${info.oidc.gatewayClient.clientId}", redirect ${info.oidc.gatewayClient.redirectUri})`,
    "",
    "Users (passwords generated for this run):",
    ...info.users.map(
      (user) => `  ${user.email.padEnd(22)}${user.password}  groups: ${user.groups.join(", ")}  (${user.note})`,
    ),
    "",
    `Files: ${infoFile}`,
    `       ${kubeconfigFile}  (contexts: management, ${info.workloadClusters.map((cluster) => `${cluster.namespace}/${cluster.name}`).join(", ")})`,
    "",
    "Try: kubectl --kubeconfig .fleet/kubeconfig --context org-acme/prod get pods -A",
    "Stop: npm run fleet -- down",
  ];
  return lines.join("\n");
}

async function up(): Promise<void> {
  const existing = await currentFleet();
  if (existing) {
    if (await healthy(existing)) {
      console.log("The fleet is already up.\n");
      console.log(summary(existing));
      return;
    }
    console.log("A previous fleet is partly down; stopping what is left of it.");
    await stopFleet(existing);
    await rm(stateDirectory, { recursive: true, force: true });
  }
  await mkdir(stateDirectory, { recursive: true });
  const fleet = await startFleet({
    gatewayPort: Number(process.env.CAPI_MCP_GATEWAY_PORT ?? defaultGatewayPort),
    log: (message) => console.log(`- ${message}`),
  });
  await copyFile(fleet.info.kubeconfig, kubeconfigFile);
  const info: FleetInfo = { ...fleet.info, kubeconfig: kubeconfigFile };
  await writeFile(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  console.log("");
  console.log(summary(info));
}

async function status(): Promise<number> {
  const info = await currentFleet();
  if (!info) {
    console.log("No fleet is up (no .fleet/fleet.json). Start one with: npm run fleet -- up");
    return 1;
  }
  let totalKibibytes = 0;
  for (const process of fleetProcessStatus(info)) {
    const rss = residentKibibytes(process.pid);
    totalKibibytes += rss ?? 0;
    const memory = rss === undefined ? "" : `, RSS ${(rss / 1024).toFixed(0)} MiB`;
    console.log(`${process.alive ? "running" : "STOPPED"}  ${process.name} (pid ${process.pid}${memory})`);
  }
  console.log(`total RSS ${(totalKibibytes / 1024).toFixed(0)} MiB`);
  const ok = await healthy(info);
  console.log(
    ok ? "\nAll API servers are ready.\n" : "\nThe fleet is not healthy: run `npm run fleet -- down` then `up`.\n",
  );
  if (ok) console.log(summary(info));
  return ok ? 0 : 1;
}

async function down(): Promise<void> {
  const info = await currentFleet();
  if (!info) {
    console.log("No fleet is up.");
    await rm(stateDirectory, { recursive: true, force: true });
    return;
  }
  await stopFleet(info);
  await rm(stateDirectory, { recursive: true, force: true });
  const survivors = fleetProcessStatus(info).filter((process) => process.alive);
  if (survivors.length > 0) {
    throw new Error(
      `processes still running after down: ${survivors.map((process) => `${process.name} (${process.pid})`).join(", ")}`,
    );
  }
  console.log(`Stopped ${info.processes.length} processes and removed the fleet's state.`);
}

const command = process.argv[2];
try {
  switch (command) {
    case "up":
      await up();
      break;
    case "status":
      process.exitCode = await status();
      break;
    case "down":
      await down();
      break;
    default:
      console.error("usage: npm run fleet -- up | status | down");
      process.exitCode = 2;
  }
} catch (error) {
  console.error(`fleet ${command}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
