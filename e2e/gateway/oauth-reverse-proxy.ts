// A real reverse proxy (Debian's haproxy) in front of the gateway on loopback, and a client that
// chooses its loopback source address, so tests can tell clients apart behind the proxy the way
// an ingress would see them. Every proxy a test starts, it stops.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { freePorts } from "../fleet/processes.ts";

export interface ReverseProxy {
  readonly url: string;
  readonly port: number;
  /** The source address the proxy connects to the gateway from (a loopback address of its own). */
  readonly sourceAddress: string;
  stop(): Promise<void>;
}

export async function startHaproxy(options: {
  backendPort: number;
  sourceAddress: string;
  /** Default: a free port. */
  port?: number;
}): Promise<ReverseProxy> {
  const port = options.port ?? (await freePorts(1))[0];
  if (port === undefined) throw new Error("no free port for haproxy");
  const directory = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-haproxy-"));
  const configFile = path.join(directory, "haproxy.cfg");
  await writeFile(
    configFile,
    [
      "global",
      "  maxconn 512",
      "defaults",
      "  mode http",
      "  timeout connect 5s",
      "  timeout client 30s",
      "  timeout server 30s",
      "frontend gateway",
      `  bind 127.0.0.1:${port}`,
      // Appends the address haproxy saw to X-Forwarded-For, as ingress controllers do.
      "  option forwardfor",
      "  default_backend gateway",
      "backend gateway",
      `  server gateway 127.0.0.1:${options.backendPort} source ${options.sourceAddress}`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("haproxy", ["-db", "-f", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await rm(directory, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${port}`, port, sourceAddress: options.sourceAddress, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface SentRequest {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request from a chosen loopback source address (127.0.0.0/8 is all loopback on Linux). */
export function sendFrom(
  sourceAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<SentRequest> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: init.method ?? "GET",
        localAddress: sourceAddress,
        headers: {
          ...init.headers,
          ...(init.body === undefined ? {} : { "content-length": Buffer.byteLength(init.body) }),
        },
        agent: false,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () =>
          resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        incoming.on("error", reject);
      },
    );
    outgoing.setTimeout(10_000, () => outgoing.destroy(new Error(`${url} timed out`)));
    outgoing.on("error", reject);
    if (init.body !== undefined) outgoing.write(init.body);
    outgoing.end();
  });
}
