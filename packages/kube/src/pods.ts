import { type AddressInfo, createServer, type Socket } from "node:net";
import {
  type AccessAnswer,
  type ExecRequest,
  type ExecResult,
  GatewayError,
  type LogRequest,
  type LogResult,
  type PortForwardHandle,
  type PortForwardRequest,
} from "@capi-mcp/core";
import type WebSocket from "ws";
import type { AccessContext } from "./access-context.js";
import {
  channelProtocolV4,
  channelProtocolV5,
  closeFrame,
  createPortPrefixStripper,
  cutUtf8,
  decodeFrame,
  encodeFrame,
  exitOutcomeFromStatus,
  portForwardDataChannel,
  portForwardErrorChannel,
  statusChannel,
  stderrChannel,
  stdinChannel,
  stdoutChannel,
} from "./channel-protocol.js";
import { gatewayErrorFrom } from "./errors.js";
import { pathSegment } from "./resource-paths.js";
import { whenOpen } from "./web-socket.js";

function podPath(namespace: string, pod: string, subresource: string): string {
  return `/api/v1/namespaces/${pathSegment("namespace", namespace)}/pods/${pathSegment("pod name", pod)}/${subresource}`;
}

function wholeNumber(what: string, value: number | undefined, minimum: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw new GatewayError("invalid_input", `${what} must be a whole number of at least ${minimum}, not ${value}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Logs

export async function podLogs(context: AccessContext, request: LogRequest): Promise<LogResult> {
  wholeNumber("limitBytes", request.limitBytes, 1);
  wholeNumber("tailLines", request.tailLines, 0);
  wholeNumber("sinceSeconds", request.sinceSeconds, 1);
  const query = new URLSearchParams();
  if (request.container) query.set("container", request.container);
  if (request.previous) query.set("previous", "true");
  if (request.tailLines !== undefined) query.set("tailLines", String(request.tailLines));
  if (request.sinceSeconds !== undefined) query.set("sinceSeconds", String(request.sinceSeconds));
  if (request.timestamps) query.set("timestamps", "true");
  // One byte more than allowed tells a log of exactly `limitBytes` from a cut one. The body is
  // cut here too, so a server that ignores `limitBytes` cannot fill memory.
  query.set("limitBytes", String(request.limitBytes + 1));
  const operation = context.operation("get", "pods/log", request.pod, request.namespace);
  const response = await context.run(operation, () =>
    context.connection.request({
      method: "GET",
      path: podPath(request.namespace, request.pod, "log"),
      query,
      accept: "text/plain, */*",
      truncateAfterBytes: request.limitBytes + 1,
    }),
  );
  const truncated = response.truncated || response.body.length > request.limitBytes;
  return { text: cutUtf8(response.body, request.limitBytes).toString("utf8"), truncated };
}

// ---------------------------------------------------------------------------------------------
// Exec

function decodeKept(chunks: readonly Buffer[], truncated: boolean): string {
  const buffer = Buffer.concat(chunks);
  // A cut can fall inside a character: a streaming decode holds back the incomplete tail.
  return truncated ? new TextDecoder("utf-8").decode(buffer, { stream: true }) : buffer.toString("utf8");
}

export async function execInPod(context: AccessContext, request: ExecRequest): Promise<ExecResult> {
  if (request.command.length === 0 || request.command.some((part) => typeof part !== "string")) {
    throw new GatewayError(
      "invalid_input",
      'Give the command as a non-empty list of strings, for example ["ls", "/"].',
    );
  }
  wholeNumber("timeoutMilliseconds", request.timeoutMilliseconds, 1);
  wholeNumber("maxOutputBytes", request.maxOutputBytes, 0);
  const operation = context.operation("create", "pods/exec", request.pod, request.namespace);
  const query = new URLSearchParams();
  for (const part of request.command) query.append("command", part);
  query.set("stdout", "true");
  query.set("stderr", "true");
  if (request.stdin !== undefined) query.set("stdin", "true");
  if (request.container) query.set("container", request.container);
  const path = podPath(request.namespace, request.pod, "exec");
  const socket = await context.run(operation, () =>
    context.connection.webSocket(path, query, [channelProtocolV5, channelProtocolV4]),
  );

  return new Promise<ExecResult>((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let timedOut = false;
    let opened = false;
    let settled = false;
    const statusParts: Buffer[] = [];

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const statusText = Buffer.concat(statusParts).toString("utf8");
      const outcome =
        statusText.length > 0
          ? exitOutcomeFromStatus(statusText)
          : {
              exitCode: undefined,
              ...(timedOut || truncated
                ? {}
                : { failure: "The stream ended before the command reported its exit status." }),
            };
      resolve({
        stdout: decodeKept(stdout, truncated),
        stderr: decodeKept(stderr, truncated),
        exitCode: outcome.exitCode,
        truncated,
        timedOut,
        ...(outcome.failure === undefined ? {} : { failure: outcome.failure }),
      });
    };

    // The time limit covers the handshake too: a call never outlives it.
    const timer = setTimeout(() => {
      timedOut = true;
      socket.terminate();
      if (!opened) finish();
    }, request.timeoutMilliseconds);

    socket.on("message", (data: Buffer) => {
      if (truncated || timedOut) return;
      const frame = decodeFrame(data);
      if (!frame) return;
      if (frame.channel === stdoutChannel || frame.channel === stderrChannel) {
        const target = frame.channel === stdoutChannel ? stdout : stderr;
        const room = request.maxOutputBytes - kept;
        if (frame.payload.length > room) {
          target.push(frame.payload.subarray(0, room));
          kept = request.maxOutputBytes;
          truncated = true;
          // Stop the command's output at the source: closing the stream ends the exec.
          socket.terminate();
          return;
        }
        target.push(frame.payload);
        kept += frame.payload.length;
      } else if (frame.channel === statusChannel) {
        statusParts.push(frame.payload);
      }
    });
    socket.on("close", () => {
      if (opened) finish();
    });

    whenOpen(socket).then(
      () => {
        opened = true;
        if (request.stdin !== undefined) {
          socket.send(encodeFrame(stdinChannel, request.stdin));
          // Only v5 can say "end of input"; under v4 a command reading stdin to its end runs
          // until the time limit.
          if (socket.protocol === channelProtocolV5) socket.send(closeFrame(stdinChannel));
        }
      },
      (error: unknown) => {
        if (timedOut) return finish();
        settled = true;
        clearTimeout(timer);
        reject(gatewayErrorFrom(error, operation));
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Port-forward

const localAddress = "127.0.0.1";

function listen(server: ReturnType<typeof createServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE") {
        reject(
          new GatewayError(
            "invalid_input",
            `Local port ${port} on ${localAddress} is in use; choose another, or 0 for any free port.`,
          ),
        );
      } else if (error.code === "EACCES") {
        reject(
          new GatewayError(
            "invalid_input",
            `Local port ${port} on ${localAddress} may not be used by this process; choose a port above 1023, or 0.`,
          ),
        );
      } else {
        reject(new GatewayError("internal", `Could not listen on ${localAddress}:${port}.`, { detail: error.message }));
      }
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, localAddress);
  });
}

/**
 * Forwards a local TCP port on 127.0.0.1 to a pod's port. Every accepted connection gets its own
 * WebSocket to the pod's `portforward` subresource, so one failing connection never breaks
 * another. Before listening, a SelfSubjectAccessReview asks whether the caller may create
 * `pods/portforward` there, so a forbidden forward fails now, clearly, rather than as dropped
 * connections later.
 */
export async function portForwardToPod(
  context: AccessContext,
  request: PortForwardRequest,
  canI: (question: {
    verb: string;
    group: string;
    resource: string;
    subresource: string;
    namespace: string;
    name: string;
  }) => Promise<AccessAnswer>,
): Promise<PortForwardHandle> {
  wholeNumber("port", request.port, 1);
  wholeNumber("localPort", request.localPort, 0);
  if (request.port > 65_535 || (request.localPort ?? 0) > 65_535) {
    throw new GatewayError("invalid_input", "Ports are whole numbers from 1 to 65535 (0 for any free local port).");
  }
  const path = podPath(request.namespace, request.pod, "portforward");
  const answer = await canI({
    verb: "create",
    group: "",
    resource: "pods",
    subresource: "portforward",
    namespace: request.namespace,
    name: request.pod,
  });
  if (!answer.allowed) {
    throw new GatewayError(
      "forbidden",
      `Forbidden: you may not port-forward to pod ${request.pod} in namespace ${request.namespace} on cluster ${context.cluster}.`,
      { detail: "SelfSubjectAccessReview for create pods/portforward was not allowed" },
    );
  }

  const sockets = new Set<Socket>();
  const webSockets = new Set<WebSocket>();
  const query = new URLSearchParams({ ports: String(request.port) });

  function forward(socket: Socket): void {
    socket.pause();
    sockets.add(socket);
    let webSocket: WebSocket | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      sockets.delete(socket);
      socket.destroy();
      if (webSocket) {
        webSockets.delete(webSocket);
        webSocket.terminate();
      }
    };
    socket.on("error", end);
    socket.on("close", end);
    context.connection.webSocket(path, query, [channelProtocolV4]).then((opened) => {
      if (ended) {
        opened.terminate();
        return;
      }
      webSocket = opened;
      webSockets.add(opened);
      const strip = createPortPrefixStripper();
      opened.on("message", (data: Buffer) => {
        const frame = decodeFrame(data);
        if (!frame) return;
        const payload = strip(frame.channel, frame.payload);
        if (payload.length === 0) return;
        if (frame.channel === portForwardDataChannel) {
          if (!socket.write(payload)) {
            opened.pause();
            socket.once("drain", () => opened.resume());
          }
        } else if (frame.channel === portForwardErrorChannel) {
          // The kubelet could not reach the port (nothing listening, not declared): this
          // connection is over; the listener stays for the next one.
          end();
        }
      });
      opened.on("close", end);
      whenOpen(opened).then(() => {
        socket.on("data", (chunk: Buffer) => {
          socket.pause();
          opened.send(encodeFrame(portForwardDataChannel, chunk), () => socket.resume());
        });
        socket.on("end", end);
        socket.resume();
      }, end);
    }, end);
  }

  const server = createServer(forward);
  await listen(server, request.localPort ?? 0);
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    namespace: request.namespace,
    pod: request.pod,
    remotePort: request.port,
    localAddress,
    localPort: port,
    activeConnections: () => sockets.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        for (const webSocket of webSockets) webSocket.terminate();
        sockets.clear();
        webSockets.clear();
      });
      return closing;
    },
  };
}
