import {
  type Attributes,
  type Context,
  type Counter,
  context,
  createNoopMeter,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  type Meter,
  type MetricOptions,
  type Span,
  type SpanAttributeValue,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { createToolTelemetry } from "./tool-telemetry.js";

// Fakes implementing the OpenTelemetry API interfaces: they record what the code under test
// does with them, which is all these tests need (an SDK would add exporters and timing).

class RecordingSpan implements Span {
  readonly name: string;
  readonly options: SpanOptions;
  readonly attributes: Attributes;
  status: SpanStatus | undefined;
  endCount = 0;

  constructor(name: string, options: SpanOptions) {
    this.name = name;
    this.options = options;
    this.attributes = { ...options.attributes };
  }

  spanContext() {
    return INVALID_SPAN_CONTEXT;
  }
  setAttribute(key: string, value: SpanAttributeValue): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {
    this.endCount++;
  }
  isRecording(): boolean {
    return true;
  }
  recordException(): void {}
}

class RecordingTracer implements Tracer {
  readonly spans: RecordingSpan[] = [];
  readonly parents: (Context | undefined)[] = [];

  startSpan(name: string, options: SpanOptions = {}, parent?: Context): Span {
    const span = new RecordingSpan(name, options);
    this.spans.push(span);
    this.parents.push(parent);
    return span;
  }
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const run = rest.at(-1) as F;
    return run(this.startSpan(name)) as ReturnType<F>;
  }
}

interface Measurement {
  readonly instrument: string;
  readonly value: number;
  readonly attributes: Attributes | undefined;
}

function createRecordingMeter(): {
  meter: Meter;
  measurements: Measurement[];
  instruments: Map<string, MetricOptions>;
} {
  const noop = createNoopMeter();
  const measurements: Measurement[] = [];
  const instruments = new Map<string, MetricOptions>();
  const recorder = (instrument: string) => (value: number, attributes?: Attributes) => {
    measurements.push({ instrument, value, attributes });
  };
  const meter: Meter = {
    createGauge: (name, options) => noop.createGauge(name, options),
    createUpDownCounter: (name, options) => noop.createUpDownCounter(name, options),
    createObservableGauge: (name, options) => noop.createObservableGauge(name, options),
    createObservableCounter: (name, options) => noop.createObservableCounter(name, options),
    createObservableUpDownCounter: (name, options) => noop.createObservableUpDownCounter(name, options),
    addBatchObservableCallback: (callback, observables) => noop.addBatchObservableCallback(callback, observables),
    removeBatchObservableCallback: (callback, observables) => noop.removeBatchObservableCallback(callback, observables),
    createHistogram(name, options) {
      instruments.set(name, options ?? {});
      return { record: recorder(name) } as Histogram;
    },
    createCounter(name, options) {
      instruments.set(name, options ?? {});
      return { add: recorder(name) } as Counter;
    },
  };
  return { meter, measurements, instruments };
}

function setUp() {
  const tracer = new RecordingTracer();
  const { meter, measurements, instruments } = createRecordingMeter();
  let clock = 1000;
  const telemetry = createToolTelemetry({ tracer, meter, now: () => clock });
  return {
    tracer,
    measurements,
    instruments,
    telemetry,
    advance: (milliseconds: number) => {
      clock += milliseconds;
    },
  };
}

describe("tool telemetry", () => {
  it("names the span after the MCP conventions and sets their attributes at the start", () => {
    const { tracer, telemetry } = setUp();
    telemetry.startToolCall({
      tool: "k8s_get_resource",
      sessionId: "session-1",
      cluster: "org-acme/prod",
      protocolVersion: "2025-11-25",
    });
    const span = tracer.spans[0];
    expect(span?.name).toBe("tools/call k8s_get_resource");
    expect(span?.options.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes).toEqual({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "k8s_get_resource",
      "gen_ai.operation.name": "execute_tool",
      "mcp.session.id": "session-1",
      "mcp.protocol.version": "2025-11-25",
      "k8s.cluster.name": "org-acme/prod",
    });
  });

  it("leaves out attributes it does not know rather than recording empty values", () => {
    const { tracer, telemetry } = setUp();
    telemetry.startToolCall({ tool: "k8s_list_contexts" }).end({ outcome: "ok" });
    expect(Object.keys(tracer.spans[0]?.attributes ?? {}).sort()).toEqual([
      "capi_mcp.tool.outcome",
      "gen_ai.operation.name",
      "gen_ai.tool.name",
      "mcp.method.name",
    ]);
  });

  it("records a successful call: cluster and namespace on the span, duration in seconds, a call count", () => {
    const { tracer, measurements, instruments, telemetry, advance } = setUp();
    const call = telemetry.startToolCall({ tool: "k8s_list_resources", sessionId: "session-1" });
    advance(250);
    const { durationMilliseconds } = call.end({
      outcome: "ok",
      cluster: "org-acme/dev",
      namespace: "web",
      dryRun: false,
    });
    expect(durationMilliseconds).toBe(250);
    const span = tracer.spans[0];
    expect(span?.attributes).toMatchObject({
      "k8s.cluster.name": "org-acme/dev",
      "k8s.namespace.name": "web",
      "capi_mcp.tool.outcome": "ok",
      "capi_mcp.dry_run": false,
    });
    expect(span?.attributes).not.toHaveProperty("error.type");
    expect(span?.status).toBeUndefined();
    expect(span?.endCount).toBe(1);
    expect(measurements).toEqual([
      {
        instrument: "mcp.server.operation.duration",
        value: 0.25,
        attributes: { "mcp.method.name": "tools/call", "gen_ai.tool.name": "k8s_list_resources" },
      },
      {
        instrument: "capi_mcp.tool.calls",
        value: 1,
        attributes: { "gen_ai.tool.name": "k8s_list_resources", "capi_mcp.tool.outcome": "ok" },
      },
    ]);
    expect(instruments.get("mcp.server.operation.duration")?.unit).toBe("s");
    expect(instruments.get("mcp.server.operation.duration")?.advice?.explicitBucketBoundaries?.[0]).toBe(0.01);
  });

  it("records a failed call with error.type set to the gateway error code on the span and the histogram", () => {
    const { tracer, measurements, telemetry } = setUp();
    telemetry.startToolCall({ tool: "k8s_get_resource" }).end({ outcome: "error", errorCode: "forbidden" });
    const span = tracer.spans[0];
    expect(span?.attributes["error.type"]).toBe("forbidden");
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: "forbidden" });
    expect(measurements[0]?.attributes).toEqual({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "k8s_get_resource",
      "error.type": "forbidden",
    });
    expect(measurements[1]?.attributes).toEqual({
      "gen_ai.tool.name": "k8s_get_resource",
      "capi_mcp.tool.outcome": "error",
    });
  });

  it("types a denial without a code as denied_by_policy and an unknown failure as _OTHER", () => {
    const { tracer, telemetry } = setUp();
    telemetry.startToolCall({ tool: "k8s_delete_resource" }).end({ outcome: "denied" });
    telemetry.startToolCall({ tool: "k8s_get_resource" }).end({ outcome: "error" });
    expect(tracer.spans.map((span) => span.attributes["error.type"])).toEqual(["denied_by_policy", "_OTHER"]);
  });

  it("ends a call once, however often end is called", () => {
    const { tracer, measurements, telemetry, advance } = setUp();
    const call = telemetry.startToolCall({ tool: "k8s_get_resource" });
    advance(5);
    const first = call.end({ outcome: "ok" });
    advance(5);
    expect(call.end({ outcome: "error" })).toBe(first);
    expect(tracer.spans[0]?.endCount).toBe(1);
    expect(measurements).toHaveLength(2);
  });

  it("starts the span in the given parent context and hands back a context holding the span", () => {
    const { tracer, telemetry } = setUp();
    const parent = context.active();
    const call = telemetry.startToolCall({ tool: "k8s_get_resource", parentContext: parent });
    expect(tracer.parents[0]).toBe(parent);
    expect(trace.getSpan(call.context)).toBe(call.span);
  });

  it("works against the global no-op API when no tracer or meter is given", () => {
    const call = createToolTelemetry().startToolCall({ tool: "k8s_get_resource" });
    expect(call.end({ outcome: "ok" }).durationMilliseconds).toBeGreaterThanOrEqual(0);
  });
});
