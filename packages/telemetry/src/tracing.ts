// Trace export: the SDK's tracer provider with a batch processor and the OTLP/HTTP protobuf
// exporter, registered as the global provider together with an AsyncLocalStorage context manager
// (so spans started deep in `kube` are children of the tool call's) and the W3C trace-context
// propagator (traceparent in from clients, out to every API server). Only `gateway` decides the
// settings; nothing here reads the environment.
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

export type TracesSampler =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

export interface TracingOptions {
  /** The OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  readonly url: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  /** More resource attributes (OTEL_RESOURCE_ATTRIBUTES, K8S_POD_NAME, …). */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
  readonly sampler?: TracesSampler;
  /** The ratio for the `traceidratio` samplers (default 1). */
  readonly samplerRatio?: number;
  /** How long spans wait in the batch before export (default 5 s; tests use less). */
  readonly scheduledDelayMilliseconds?: number;
}

export interface TracingSetup {
  /** Exports what is buffered and unregisters the provider. */
  shutdown(): Promise<void>;
}

function samplerOf(name: TracesSampler, ratio: number): Sampler {
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** Registers the global tracer provider, context manager and propagator; export goes to `url`. */
export function startTracing(options: TracingOptions): TracingSetup {
  const exporter = new OTLPTraceExporter({ url: options.url, timeoutMillis: 10_000 });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      "service.name": options.serviceName,
      "service.version": options.serviceVersion,
    }),
    sampler: samplerOf(options.sampler ?? "parentbased_always_on", options.samplerRatio ?? 1),
    // Attribute values are names and ids; a bound keeps a pathological one from bloating exports.
    spanLimits: { attributeValueLengthLimit: 1024, attributeCountLimit: 64 },
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: options.scheduledDelayMilliseconds ?? 5000,
        maxQueueSize: 4096,
      }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}
