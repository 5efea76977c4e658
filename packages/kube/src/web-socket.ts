// The WebSocket side of a connection (exec, port-forward): the upgrade request with the
// connection's TLS material and headers, its client span, and waiting for the handshake. The
// connection (connection.ts) resolves credentials, rate-limits and builds the URL.
import WebSocket from "ws";
import type { HeaderValues } from "./impersonation.js";
import type { RequestTelemetry } from "./request-telemetry.js";
import { KubeHttpError, KubeTransportError, maximumErrorBodyBytes, transportErrorFrom } from "./transport-error.js";

export interface WebSocketTarget {
  /** The `wss:` URL of the API path, query included. */
  readonly url: URL;
  readonly protocols: readonly string[];
  /** The connection's CA, client certificate and key, verification and server name. */
  readonly tlsOptions: Readonly<Record<string, unknown>>;
  /** Credentials, impersonation, User-Agent and the request's telemetry headers. */
  readonly headers: HeaderValues;
  readonly handshakeTimeoutMilliseconds: number;
}

/**
 * Starts the upgrade request and returns the socket before the handshake, so listeners can be
 * attached first; `telemetry` ends with the handshake's outcome.
 */
export function openWebSocket(target: WebSocketTarget, telemetry: RequestTelemetry): WebSocket {
  const socket = new WebSocket(target.url, [...target.protocols], {
    ...target.tlsOptions,
    handshakeTimeout: target.handshakeTimeoutMilliseconds,
    perMessageDeflate: false,
    followRedirects: false,
    // Set headers here rather than through `headers`, so repeated ones (Impersonate-Group)
    // go out as separate header lines.
    finishRequest: (outgoing) => {
      for (const [name, value] of Object.entries(target.headers)) outgoing.setHeader(name, value);
      outgoing.end();
    },
  });
  socket.once("upgrade", () => telemetry.end({ status: 101 }));
  socket.once("unexpected-response", (_request, incoming) => telemetry.end({ status: incoming.statusCode ?? 0 }));
  socket.once("error", (error) => telemetry.end({ error }));
  socket.once("close", () => telemetry.end({ status: 0 }));
  return socket;
}

/**
 * Waits for a WebSocket's handshake. A refused upgrade (403, 404, …) becomes a `KubeHttpError`
 * carrying the API server's Status, so it maps to the same error as a REST call would.
 */
export function whenOpen(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve();
      else reject(error);
    };
    socket.once("open", () => settle());
    socket.once("unexpected-response", (outgoing, incoming) => {
      const chunks: Buffer[] = [];
      let size = 0;
      incoming.on("data", (chunk: Buffer) => {
        if (size < maximumErrorBodyBytes) chunks.push(chunk);
        size += chunk.length;
      });
      const finish = () => {
        settle(new KubeHttpError(incoming.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")));
        outgoing.destroy();
      };
      incoming.once("end", finish);
      incoming.once("error", finish);
    });
    socket.on("error", (error) => settle(transportErrorFrom(error, /timeout/i.test(error.message), false)));
    socket.once("close", () =>
      settle(new KubeTransportError("unreachable", "the WebSocket closed during the handshake")),
    );
  });
}
