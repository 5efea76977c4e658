// Starting, watching and stopping the fleet's processes. Every process is started in its own
// process group and recorded by PID, so `down` can stop exactly what `up` started, and nothing
// else, even from another invocation of the CLI.
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /**
   * How it was started, so it can be started again (`restartApiServer`). Absent in fleet.json
   * files written before this was recorded.
   */
  readonly command?: string;
  readonly args?: readonly string[];
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Starts a process detached from this one, stdout and stderr into its log file. */
export function startDetached(options: StartOptions): StartedProcess {
  const log = openSync(options.logFile, "a");
  const child = spawn(options.command, options.args as string[], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", log, log],
  });
  if (child.pid === undefined) {
    throw new Error(`could not start ${options.name} (${options.command}); see ${options.logFile}`);
  }
  child.unref();
  return {
    name: options.name,
    pid: child.pid,
    logFile: options.logFile,
    command: options.command,
    args: [...options.args],
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // A negative PID signals the whole group the detached process leads.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Stops processes: SIGTERM, a grace period, then SIGKILL for any survivor. */
export async function stopProcesses(processes: readonly StartedProcess[], graceMilliseconds = 5000): Promise<void> {
  for (const started of processes) signalGroup(started.pid, "SIGTERM");
  const deadline = Date.now() + graceMilliseconds;
  while (Date.now() < deadline && processes.some((started) => isAlive(started.pid))) {
    await sleep(50);
  }
  for (const started of processes) {
    if (isAlive(started.pid)) signalGroup(started.pid, "SIGKILL");
  }
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && processes.some((started) => isAlive(started.pid))) {
    await sleep(20);
  }
}

/** Waits until `check` resolves true, or fails naming what was awaited and the log to read. */
export async function waitFor(
  description: string,
  check: () => Promise<boolean>,
  options: { timeoutMilliseconds: number; process?: StartedProcess },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMilliseconds;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (options.process && !isAlive(options.process.pid)) {
      throw new Error(
        `${options.process.name} exited while waiting for ${description}; see ${options.process.logFile}`,
      );
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  const where = options.process ? `; see ${options.process.logFile}` : "";
  const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${options.timeoutMilliseconds} ms waiting for ${description}${why}${where}`);
}

/** Finds free TCP ports on 127.0.0.1 by binding port 0, holding them all until every one is known. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("unexpected listener address");
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** True when something already listens on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
