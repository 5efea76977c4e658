// A stand-in kubelet: serves the kubelet API that kube-apiserver proxies to for pod logs, exec and
// port-forward, so those calls cross a real API server (authentication, RBAC, audit, proxying)
// end to end. It listens on loopback with a serving certificate from the cluster's CA, accepts
// only clients presenting a certificate from that CA (the API server's kubelet client cert), and
// looks pods up in its API server the way a real kubelet knows its pods.
//
// It speaks the WebSocket streaming protocol `v4.channel.k8s.io` (what a 1.20 kubelet speaks and
// what @kubernetes/client-node uses); SPDY upgrades are refused with a clear message.

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { KubeRestClient } from "./kube-rest.ts";

export interface StandInKubeletOptions {
  readonly clusterName: string;
  readonly nodeName: string;
  readonly port: number;
  readonly tlsCertPem: string;
  readonly tlsKeyPem: string;
  readonly clientCaPem: string;
  /** Reads pods from this kubelet's own API server. */
  readonly api: KubeRestClient;
}

interface PodContainer {
  readonly name: string;
  readonly ports?: readonly { readonly containerPort: number }[];
}

interface Pod {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly creationTimestamp?: string };
  readonly spec: { readonly nodeName?: string; readonly containers: readonly PodContainer[] };
  readonly status?: {
    readonly containerStatuses?: readonly { readonly name: string; readonly restartCount?: number }[];
  };
}

const streamingProtocol = "v4.channel.k8s.io";
const stdinChannel = 0;
const stdoutChannel = 1;
const stderrChannel = 2;
const errorChannel = 3;
const logLineCount = 200;
const logLineSpacingSeconds = 10;

class KubeletError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function findPod(options: StandInKubeletOptions, namespace: string, name: string): Promise<Pod> {
  const response = await options.api.request<Pod>(
    "GET",
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`,
  );
  if (response.status === 404) throw new KubeletError(404, `pod "${name}" not found in namespace "${namespace}"`);
  if (response.status !== 200) throw new KubeletError(500, `looking up pod ${namespace}/${name}: ${response.status}`);
  const pod = response.body;
  if (pod.spec.nodeName !== options.nodeName) {
    throw new KubeletError(404, `pod "${name}" is not running on node "${options.nodeName}"`);
  }
  return pod;
}

function findContainer(pod: Pod, containerName: string | undefined): PodContainer {
  const container =
    containerName === undefined
      ? pod.spec.containers[0]
      : pod.spec.containers.find((candidate) => candidate.name === containerName);
  if (!container) {
    throw new KubeletError(
      400,
      `container ${containerName ?? ""} is not valid for pod ${pod.metadata.name}`.replace("  ", " "),
    );
  }
  return container;
}

// ---------------------------------------------------------------------------------------------
// Logs

interface LogLine {
  readonly time: Date;
  readonly text: string;
}

function logLines(options: StandInKubeletOptions, pod: Pod, container: string, previous: boolean): LogLine[] {
  const now = Date.now();
  const identity = `${options.clusterName} ${pod.metadata.namespace}/${pod.metadata.name}/${container}`;
  if (previous) {
    return [
      { time: new Date(now - 3_600_000), text: `INFO ${identity} starting (previous instance)` },
      { time: new Date(now - 3_599_000), text: `ERROR ${identity} out of memory: killed` },
    ];
  }
  return Array.from({ length: logLineCount }, (_, index) => {
    const number = index + 1;
    return {
      time: new Date(now - (logLineCount - number) * logLineSpacingSeconds * 1000),
      text: `INFO ${identity} request ${number} GET /api/items/${number} 200 ${(number * 7) % 97}ms`,
    };
  });
}

function formatLogLine(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${line.time.toISOString().replace("Z", "000000Z")} ${line.text}\n` : `${line.text}\n`;
}

async function serveLogs(
  options: StandInKubeletOptions,
  request: IncomingMessage,
  response: ServerResponse,
  parts: readonly string[],
  query: URLSearchParams,
): Promise<void> {
  const [namespace = "", podName = "", containerName] = parts;
  const pod = await findPod(options, namespace, podName);
  const container = findContainer(pod, containerName);
  const previous = query.get("previous") === "true";
  if (previous) {
    const restarts = pod.status?.containerStatuses?.find((status) => status.name === container.name)?.restartCount ?? 0;
    if (restarts === 0) {
      throw new KubeletError(
        400,
        `previous terminated container "${container.name}" in pod "${pod.metadata.name}" not found`,
      );
    }
  }
  let lines = logLines(options, pod, container.name, previous);
  const sinceSeconds = Number(query.get("sinceSeconds") ?? "0");
  if (sinceSeconds > 0) {
    const since = Date.now() - sinceSeconds * 1000;
    lines = lines.filter((line) => line.time.getTime() >= since);
  }
  const sinceTime = query.get("sinceTime");
  if (sinceTime) {
    const since = Date.parse(sinceTime);
    if (!Number.isNaN(since)) lines = lines.filter((line) => line.time.getTime() >= since);
  }
  const tailLines = query.get("tailLines");
  if (tailLines !== null && Number(tailLines) >= 0) lines = lines.slice(Math.max(0, lines.length - Number(tailLines)));
  const timestamps = query.get("timestamps") === "true";
  const limitBytes = Number(query.get("limitBytes") ?? "0");
  let body = lines.map((line) => formatLogLine(line, timestamps)).join("");
  if (limitBytes > 0) body = Buffer.from(body).subarray(0, limitBytes).toString("utf8");
  response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  if (query.get("follow") !== "true" || limitBytes > 0) {
    response.end(body);
    return;
  }
  response.write(body);
  let number = logLineCount;
  const timer = setInterval(() => {
    number += 1;
    response.write(
      formatLogLine(
        {
          time: new Date(),
          text: `INFO ${options.clusterName} ${namespace}/${podName}/${container.name} request ${number} GET /api/items/${number} 200 1ms`,
        },
        timestamps,
      ),
    );
  }, 1000);
  // A follow stream ends when the client goes away, or after five minutes at most.
  const stop = setTimeout(() => response.end(), 300_000);
  request.on("close", () => {
    clearInterval(timer);
    clearTimeout(stop);
  });
}

// ---------------------------------------------------------------------------------------------
// Exec: a tiny, fixed set of commands, enough to test streams, exit codes, sizes and time limits.

interface ExecIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: AsyncIterable<Buffer>;
  closed(): boolean;
}

function fakeFiles(options: StandInKubeletOptions, pod: Pod): Record<string, string> {
  return {
    "/etc/hostname": `${pod.metadata.name}\n`,
    "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
    "/app/config.yaml": `cluster: ${options.clusterName}\nnamespace: ${pod.metadata.namespace}\nlogLevel: info\n`,
  };
}

function tokenize(script: string): string[] {
  const tokens: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of script.matchAll(pattern)) tokens.push(match[1] ?? match[2] ?? match[3] ?? "");
  return tokens;
}

async function runCommand(
  argv: readonly string[],
  options: StandInKubeletOptions,
  pod: Pod,
  io: ExecIo,
): Promise<number> {
  const [command = "", ...args] = argv;
  const name = command.split("/").pop() ?? command;
  const files = fakeFiles(options, pod);
  const environment: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOSTNAME: pod.metadata.name,
    HOME: "/root",
    POD_NAMESPACE: pod.metadata.namespace,
    CLUSTER_NAME: options.clusterName,
  };
  switch (name) {
    case "echo":
      io.stdout(`${args.join(" ")}\n`);
      return 0;
    case "hostname":
      io.stdout(`${pod.metadata.name}\n`);
      return 0;
    case "whoami":
      io.stdout("app\n");
      return 0;
    case "true":
      return 0;
    case "false":
      return 1;
    case "env":
    case "printenv": {
      if (args[0]) {
        const value = environment[args[0]];
        if (value === undefined) return 1;
        io.stdout(`${value}\n`);
        return 0;
      }
      io.stdout(
        Object.entries(environment)
          .map(([key, value]) => `${key}=${value}\n`)
          .join(""),
      );
      return 0;
    }
    case "ls": {
      const directory = (args[0] ?? "/").replace(/\/$/, "");
      const entries = new Set<string>();
      for (const file of Object.keys(files)) {
        if (file.startsWith(`${directory}/`)) entries.add(file.slice(directory.length + 1).split("/")[0] ?? "");
      }
      if (entries.size === 0) {
        io.stderr(`ls: cannot access '${args[0] ?? "/"}': No such file or directory\n`);
        return 2;
      }
      io.stdout(`${[...entries].sort().join("\n")}\n`);
      return 0;
    }
    case "cat": {
      if (args.length === 0) {
        for await (const chunk of io.stdin) io.stdout(chunk.toString("utf8"));
        return 0;
      }
      let status = 0;
      for (const file of args) {
        const content = files[file];
        if (content === undefined) {
          io.stderr(`cat: ${file}: No such file or directory\n`);
          status = 1;
        } else {
          io.stdout(content);
        }
      }
      return status;
    }
    case "seq": {
      const count = Math.min(Number(args[0] ?? "0"), 10_000_000);
      let chunk = "";
      for (let number = 1; number <= count && !io.closed(); number += 1) {
        chunk += `${number}\n`;
        if (chunk.length > 65_536) {
          io.stdout(chunk);
          chunk = "";
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      if (chunk) io.stdout(chunk);
      return 0;
    }
    case "sleep": {
      const seconds = Number(args[0] ?? "0");
      const deadline = Date.now() + seconds * 1000;
      while (Date.now() < deadline && !io.closed()) await new Promise((resolve) => setTimeout(resolve, 50));
      return 0;
    }
    case "sh":
    case "bash": {
      if (args[0] !== "-c" || args[1] === undefined) {
        io.stderr(`${name}: only '${name} -c <script>' is supported in this container\n`);
        return 2;
      }
      let status = 0;
      for (const statement of args[1].split(/;|&&|\n/)) {
        const tokens = tokenize(statement.trim());
        if (tokens.length === 0) continue;
        if (tokens[0] === "exit") return Number(tokens[1] ?? status);
        const toStderr = tokens.at(-1) === ">&2";
        const words = toStderr ? tokens.slice(0, -1) : tokens;
        const statementIo: ExecIo = toStderr ? { ...io, stdout: io.stderr } : io;
        status = await runCommand(words, options, pod, statementIo);
      }
      return status;
    }
    default:
      io.stderr(`${command}: command not found\n`);
      return 127;
  }
}

function exitStatus(code: number): string {
  if (code === 0) return JSON.stringify({ metadata: {}, status: "Success" });
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command, exit status ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  });
}

function send(socket: WebSocket, channel: number, data: Buffer | string): void {
  if (socket.readyState !== socket.OPEN) return;
  const payload = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  socket.send(Buffer.concat([Buffer.from([channel]), payload]));
}

function stdinFrom(socket: WebSocket, channel: number): AsyncIterable<Buffer> {
  const queue: Buffer[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  socket.on("message", (data: Buffer) => {
    if (data[0] === channel) {
      queue.push(data.subarray(1));
      wake?.();
    }
  });
  socket.on("close", () => {
    ended = true;
    wake?.();
  });
  return {
    async *[Symbol.asyncIterator]() {
      while (true) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}

async function serveExec(options: StandInKubeletOptions, socket: WebSocket, pod: Pod, query: URLSearchParams) {
  const argv = query.getAll("command");
  const io: ExecIo = {
    stdout: (text) => {
      if (query.get("stdout") !== "0" && query.get("stdout") !== "false") send(socket, stdoutChannel, text);
    },
    stderr: (text) => {
      if (query.get("stderr") !== "0" && query.get("stderr") !== "false") send(socket, stderrChannel, text);
    },
    stdin: stdinFrom(socket, stdinChannel),
    closed: () => socket.readyState !== socket.OPEN,
  };
  if (argv.length === 0) {
    send(
      socket,
      errorChannel,
      JSON.stringify({ metadata: {}, status: "Failure", message: "you must specify a command" }),
    );
    socket.close(1000);
    return;
  }
  const code = await runCommand(argv, options, pod, io);
  send(socket, errorChannel, exitStatus(code));
  socket.close(1000);
}

// ---------------------------------------------------------------------------------------------
// Port-forward: each forwarded port answers HTTP requests with the pod's identity and echoes
// any other bytes, so a test can make a real TCP round trip through the API server.

function servePortForward(options: StandInKubeletOptions, socket: WebSocket, pod: Pod, query: URLSearchParams) {
  // kube-apiserver passes the ports as `port`, repeated or comma-separated, as a kubelet expects.
  const ports = query
    .getAll("port")
    .flatMap((value) => value.split(","))
    .filter((port) => port.length > 0)
    .map(Number);
  const declared = new Set(
    pod.spec.containers.flatMap((container) => (container.ports ?? []).map((port) => port.containerPort)),
  );
  ports.forEach((port, index) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(socket, index * 2, portBytes);
    send(socket, index * 2 + 1, portBytes);
    if (!declared.has(port)) {
      send(
        socket,
        index * 2 + 1,
        `an error occurred forwarding ${port} -> ${port}: error forwarding port ${port} to pod ${pod.metadata.name}: connection refused`,
      );
    }
  });
  socket.on("message", (data: Buffer) => {
    const channel = data[0] ?? 255;
    if (channel % 2 !== 0) return;
    const index = channel / 2;
    const port = ports[index];
    if (port === undefined || !declared.has(port)) return;
    const payload = data.subarray(1);
    const text = payload.toString("latin1");
    if (/^(GET|HEAD|POST|PUT|DELETE|OPTIONS) /.test(text)) {
      const body = `hello from ${options.clusterName} ${pod.metadata.namespace}/${pod.metadata.name} port ${port}\n`;
      send(
        socket,
        channel,
        `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else {
      send(socket, channel, payload);
    }
  });
}

// ---------------------------------------------------------------------------------------------

function writeError(response: ServerResponse, error: unknown): void {
  const status = error instanceof KubeletError ? error.status : 500;
  const message = error instanceof Error ? error.message : "internal error";
  if (!response.headersSent) response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  response.end(message);
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  socket.end(
    `HTTP/1.1 ${status} Error\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n\r\n${message}`,
  );
}

export async function startStandInKubelet(options: StandInKubeletOptions): Promise<Server> {
  const sockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has(streamingProtocol) ? streamingProtocol : false),
  });
  const server = createServer(
    {
      cert: options.tlsCertPem,
      key: options.tlsKeyPem,
      ca: options.clientCaPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (request, response) => {
      const url = new URL(request.url ?? "/", "https://kubelet.invalid");
      const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      if (parts[0] === "healthz") {
        response.writeHead(200, { "content-type": "text/plain" });
        response.end("ok");
        return;
      }
      if (parts[0] === "containerLogs" && request.method === "GET") {
        serveLogs(options, request, response, parts.slice(1), url.searchParams).catch((error) =>
          writeError(response, error),
        );
        return;
      }
      if (parts[0] === "exec" || parts[0] === "portForward") {
        writeError(response, new KubeletError(400, "Upgrade request required"));
        return;
      }
      writeError(response, new KubeletError(404, `${url.pathname} is not served by this stand-in kubelet`));
    },
  );
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "https://kubelet.invalid");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if ((request.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      rejectUpgrade(socket, 400, "this kubelet speaks the websocket streaming protocol v4.channel.k8s.io only");
      return;
    }
    const kind = parts[0];
    const [namespace = "", podName = "", containerName] = parts.slice(1);
    findPod(options, namespace, podName)
      .then((pod) => {
        if (kind === "exec") findContainer(pod, containerName);
        else if (kind !== "portForward") throw new KubeletError(404, `${url.pathname} is not served here`);
        sockets.handleUpgrade(request, socket, head, (webSocket) => {
          if (kind === "exec") {
            serveExec(options, webSocket, pod, url.searchParams).catch(() => webSocket.close(1011));
          } else {
            servePortForward(options, webSocket, pod, url.searchParams);
          }
        });
      })
      .catch((error: unknown) => {
        const status = error instanceof KubeletError ? error.status : 500;
        rejectUpgrade(socket, status, error instanceof Error ? error.message : "internal error");
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  return server;
}
