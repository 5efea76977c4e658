import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Debian's redis-server (the `redis-server` package). */
const redisServerPath = "/usr/bin/redis-server";
const startTimeoutMilliseconds = 10_000;
const stopTimeoutMilliseconds = 5_000;

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, with the password when the server requires one. */
  readonly url: string;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Makes the server require this password (`requirepass`). */
  readonly password?: string;
}

/**
 * Starts a throw-away redis-server on 127.0.0.1 and a free port, with persistence off and its
 * working directory in a fresh temporary directory; resolves once it answers PING.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  // The free port is found by binding and releasing it, so another process can take it in
  // between; a server that exits at start is retried on a new port.
  let lastFailure: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(await freeLoopbackPort(), options);
    } catch (error) {
      lastFailure = error;
    }
  }
  throw lastFailure;
}

async function startOnce(port: number, options: RedisServerOptions): Promise<RedisServer> {
  const directory = await mkdtemp(join(tmpdir(), "capi-mcp-redis-"));
  const settings = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  settings.push("--dir", directory, "--logfile", "", "--loglevel", "warning");
  if (options.password !== undefined) {
    // From a file only the owner can read rather than an argument, so it is not in the process list.
    const passwordFile = join(directory, "password.conf");
    await writeFile(passwordFile, `requirepass "${options.password}"\n`, { mode: 0o600 });
    settings.push("--include", passwordFile);
  }
  const child = spawn(redisServerPath, settings, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const server: RedisServer = {
    port,
    url:
      options.password === undefined
        ? `redis://127.0.0.1:${port}`
        : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    async stop() {
      await stopProcess(child, exited);
      await rm(directory, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + startTimeoutMilliseconds;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await server.stop();
      throw new Error(`redis-server exited at start (port ${port}): ${output.trim()}`);
    }
    if (await answersPing(port)) {
      return server;
    }
    await sleep(50);
  }
  await server.stop();
  throw new Error(`redis-server did not answer within ${startTimeoutMilliseconds} ms (port ${port}): ${output.trim()}`);
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  child.kill("SIGTERM");
  const stopped = await Promise.race([exited.then(() => true), sleep(stopTimeoutMilliseconds).then(() => false)]);
  if (!stopped) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** True when something on the port speaks Redis: PONG, or NOAUTH when a password is required. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) {
        finish(reply.startsWith("+PONG") || reply.startsWith("-NOAUTH"));
      }
    });
  });
}

/** A port on 127.0.0.1 that nothing listened on a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === "object") {
          resolve(address.port);
        } else {
          reject(new Error("no port assigned"));
        }
      });
    });
  });
}
