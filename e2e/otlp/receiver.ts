// An OTLP/HTTP trace receiver for tests: POST /v1/traces with application/x-protobuf, decoded
// with the OTLP protobuf definitions (otlp-trace.proto) by protobufjs, on a loopback port.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: "internal" | "server" | "client" | "producer" | "consumer" | "unspecified";
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly status: { readonly code: "unset" | "ok" | "error"; readonly message: string };
  readonly resource: Readonly<Record<string, string | number | boolean>>;
  readonly scope: string;
}

export interface OtlpReceiver {
  /** The base endpoint to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** How many export requests arrived, and how many could not be decoded. */
  readonly requests: { received: number; undecodable: number };
  /** Resolves once `predicate` holds for the spans received, or rejects after `timeoutMilliseconds`. */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMilliseconds?: number): Promise<void>;
  stop(): Promise<void>;
}

const protoFile = fileURLToPath(new URL("otlp-trace.proto", import.meta.url));
const kinds = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
const statusCodes = ["unset", "ok", "error"] as const;

interface DecodedValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | { toNumber(): number };
  doubleValue?: number;
}
interface DecodedKeyValue {
  key: string;
  value?: DecodedValue;
}

function attributesOf(list: readonly DecodedKeyValue[] | undefined): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value === undefined) continue;
    if (value.stringValue !== undefined) attributes[key] = value.stringValue;
    else if (value.boolValue !== undefined) attributes[key] = value.boolValue;
    else if (value.intValue !== undefined)
      attributes[key] = typeof value.intValue === "number" ? value.intValue : value.intValue.toNumber();
    else if (value.doubleValue !== undefined) attributes[key] = value.doubleValue;
  }
  return attributes;
}

const hex = (bytes: Uint8Array | undefined) =>
  bytes === undefined || bytes.length === 0 ? undefined : Buffer.from(bytes).toString("hex");

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const root = await protobuf.load(protoFile);
  const requestType = root.lookupType("opentelemetry.proto.ExportTraceServiceRequest");
  const responseType = root.lookupType("opentelemetry.proto.ExportTraceServiceResponse");
  const spans: ReceivedSpan[] = [];
  const requests = { received: 0, undecodable: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.received += 1;
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      try {
        const decoded = requestType.toObject(requestType.decode(Buffer.concat(chunks)), {
          enums: Number,
          longs: Number,
        }) as {
          resourceSpans?: {
            resource?: { attributes?: DecodedKeyValue[] };
            scopeSpans?: {
              scope?: { name?: string };
              spans?: {
                traceId?: Uint8Array;
                spanId?: Uint8Array;
                parentSpanId?: Uint8Array;
                name?: string;
                kind?: number;
                attributes?: DecodedKeyValue[];
                status?: { code?: number; message?: string };
              }[];
            }[];
          }[];
        };
        for (const resourceSpans of decoded.resourceSpans ?? []) {
          const resource = attributesOf(resourceSpans.resource?.attributes);
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
              spans.push({
                traceId: hex(span.traceId) ?? "",
                spanId: hex(span.spanId) ?? "",
                parentSpanId: hex(span.parentSpanId),
                name: span.name ?? "",
                kind: kinds[span.kind ?? 0] ?? "unspecified",
                attributes: attributesOf(span.attributes),
                status: { code: statusCodes[span.status?.code ?? 0] ?? "unset", message: span.status?.message ?? "" },
                resource,
                scope: scopeSpans.scope?.name ?? "",
              });
            }
          }
        }
        response
          .writeHead(200, { "content-type": "application/x-protobuf" })
          .end(Buffer.from(responseType.encode(responseType.create({})).finish()));
      } catch {
        requests.undecodable += 1;
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    async waitFor(predicate, timeoutMilliseconds = 20_000) {
      const deadline = Date.now() + timeoutMilliseconds;
      while (!predicate(spans)) {
        if (Date.now() > deadline) throw new Error(`the spans expected did not arrive (${spans.length} received)`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
