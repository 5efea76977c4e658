// An OTLP/HTTP receiver for tests: POST /v1/traces and /v1/metrics with application/x-protobuf,
// decoded with the OTLP protobuf definitions (otlp-trace.proto, otlp-metrics.proto) by protobufjs,
// on a loopback port.
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

/** One data point of one metric in one metrics export request. */
export interface ReceivedMetricPoint {
  /** Which metrics export request (0, 1, ...) carried the point. */
  readonly exportIndex: number;
  readonly metric: string;
  readonly unit: string;
  readonly type: "gauge" | "sum" | "histogram" | "exponential_histogram" | "summary";
  readonly temporality: "unspecified" | "delta" | "cumulative";
  readonly monotonic: boolean;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** A gauge's or sum's value; a histogram's count. */
  readonly value: number;
  /** A histogram's sum and bucket counts. */
  readonly sum: number | undefined;
  readonly bucketCounts: readonly number[];
  readonly startTimeUnixNano: number;
  readonly timeUnixNano: number;
  readonly resource: Readonly<Record<string, string | number | boolean>>;
  readonly scope: string;
}

export interface OtlpReceiver {
  /** The base endpoint to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  readonly metricPoints: ReceivedMetricPoint[];
  /** How many export requests arrived, how many could not be decoded, how many were metrics exports. */
  readonly requests: { received: number; undecodable: number; metrics: number };
  /** Resolves once `predicate` holds for the spans received, or rejects after `timeoutMilliseconds`. */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMilliseconds?: number): Promise<void>;
  /** Resolves once `predicate` holds for the metric points received, or rejects after `timeoutMilliseconds`. */
  waitForMetrics(
    predicate: (points: readonly ReceivedMetricPoint[]) => boolean,
    timeoutMilliseconds?: number,
  ): Promise<void>;
  stop(): Promise<void>;
}

// otlp-metrics.proto imports otlp-trace.proto: loading it gives both exports' messages.
const protoFile = fileURLToPath(new URL("otlp-metrics.proto", import.meta.url));
const temporalities = ["unspecified", "delta", "cumulative"] as const;
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

interface DecodedNumberPoint {
  attributes?: DecodedKeyValue[];
  startTimeUnixNano?: number;
  timeUnixNano?: number;
  asDouble?: number;
  asInt?: number;
  count?: number;
  sum?: number;
  bucketCounts?: number[];
}
interface DecodedMetric {
  name?: string;
  unit?: string;
  gauge?: { dataPoints?: DecodedNumberPoint[] };
  sum?: { dataPoints?: DecodedNumberPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: DecodedNumberPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: DecodedNumberPoint[]; aggregationTemporality?: number };
  summary?: { dataPoints?: DecodedNumberPoint[] };
}

function decodeMetrics(type: protobuf.Type, body: Buffer, exportIndex: number): ReceivedMetricPoint[] {
  const decoded = type.toObject(type.decode(body), { enums: Number, longs: Number }) as {
    resourceMetrics?: {
      resource?: { attributes?: DecodedKeyValue[] };
      scopeMetrics?: { scope?: { name?: string }; metrics?: DecodedMetric[] }[];
    }[];
  };
  const points: ReceivedMetricPoint[] = [];
  for (const resourceMetrics of decoded.resourceMetrics ?? []) {
    const resource = attributesOf(resourceMetrics.resource?.attributes);
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      for (const metric of scopeMetrics.metrics ?? []) {
        const [kind, data] = (
          [
            ["gauge", metric.gauge],
            ["sum", metric.sum],
            ["histogram", metric.histogram],
            ["exponential_histogram", metric.exponentialHistogram],
            ["summary", metric.summary],
          ] as const
        ).find(([, value]) => value !== undefined) ?? ["gauge", undefined];
        if (data === undefined) throw new Error(`metric ${metric.name} carries no data`);
        const temporality =
          "aggregationTemporality" in data
            ? (temporalities[data.aggregationTemporality ?? 0] ?? "unspecified")
            : "unspecified";
        for (const point of data.dataPoints ?? []) {
          const histogramLike = kind !== "gauge" && kind !== "sum";
          points.push({
            exportIndex,
            metric: metric.name ?? "",
            unit: metric.unit ?? "",
            type: kind,
            temporality,
            monotonic: kind === "sum" && metric.sum?.isMonotonic === true,
            attributes: attributesOf(point.attributes),
            value: histogramLike ? (point.count ?? 0) : (point.asInt ?? point.asDouble ?? 0),
            sum: histogramLike ? point.sum : undefined,
            bucketCounts: point.bucketCounts ?? [],
            startTimeUnixNano: point.startTimeUnixNano ?? 0,
            timeUnixNano: point.timeUnixNano ?? 0,
            resource,
            scope: scopeMetrics.scope?.name ?? "",
          });
        }
      }
    }
  }
  return points;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const root = await protobuf.load(protoFile);
  const requestType = root.lookupType("opentelemetry.proto.ExportTraceServiceRequest");
  const responseType = root.lookupType("opentelemetry.proto.ExportTraceServiceResponse");
  const metricsRequestType = root.lookupType("opentelemetry.proto.ExportMetricsServiceRequest");
  const metricsResponseType = root.lookupType("opentelemetry.proto.ExportMetricsServiceResponse");
  const spans: ReceivedSpan[] = [];
  const metricPoints: ReceivedMetricPoint[] = [];
  const requests = { received: 0, undecodable: 0, metrics: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.received += 1;
      if (request.method === "POST" && request.url === "/v1/metrics") {
        try {
          metricPoints.push(...decodeMetrics(metricsRequestType, Buffer.concat(chunks), requests.metrics));
          requests.metrics += 1;
          response
            .writeHead(200, { "content-type": "application/x-protobuf" })
            .end(Buffer.from(metricsResponseType.encode(metricsResponseType.create({})).finish()));
        } catch {
          requests.undecodable += 1;
          response.writeHead(400).end();
        }
        return;
      }
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
    metricPoints,
    requests,
    async waitFor(predicate, timeoutMilliseconds = 20_000) {
      const deadline = Date.now() + timeoutMilliseconds;
      while (!predicate(spans)) {
        if (Date.now() > deadline) throw new Error(`the spans expected did not arrive (${spans.length} received)`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async waitForMetrics(predicate, timeoutMilliseconds = 20_000) {
      const deadline = Date.now() + timeoutMilliseconds;
      while (!predicate(metricPoints)) {
        if (Date.now() > deadline)
          throw new Error(
            `the metric points expected did not arrive (${metricPoints.length} in ${requests.metrics} exports)`,
          );
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
