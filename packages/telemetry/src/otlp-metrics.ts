// Metric push: a MeterProvider whose one reader is the SDK's periodic exporting reader with the
// OTLP/HTTP protobuf metric exporter, for METRICS_EXPORTER=otlp. The same instruments as the
// Prometheus path (everything is made through @opentelemetry/api), the same resource; only the
// way out differs. Only `gateway` decides the settings; nothing here reads the environment.
import { type Meter, metrics } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { instrumentationScope } from "./tool-telemetry.js";

export type MetricsTemporality = "cumulative" | "delta";

export interface OtlpMetricsOptions {
  /** The OTLP/HTTP metrics URL, e.g. `http://collector:4318/v1/metrics`. */
  readonly url: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  /** More resource attributes (OTEL_RESOURCE_ATTRIBUTES, the pod's namespace and name). */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
  /** Time between exports (OTEL_METRIC_EXPORT_INTERVAL). */
  readonly exportIntervalMilliseconds: number;
  /** How long one export may take (OTEL_METRIC_EXPORT_TIMEOUT); at most the interval. */
  readonly exportTimeoutMilliseconds: number;
  /** Cumulative (the default: every export carries the running totals) or delta. */
  readonly temporality?: MetricsTemporality;
}

export interface OtlpMetrics {
  /** The meter every instrument of the gateway is made on. */
  readonly meter: Meter;
  readonly meterProvider: MeterProvider;
  /** Makes this the process's meter provider (see PrometheusMetrics.registerGlobally). */
  registerGlobally(): void;
  /** Collects and exports now, without waiting for the interval. */
  forceFlush(): Promise<void>;
  /** Exports what was measured since the last export, then stops and unregisters. */
  shutdown(): Promise<void>;
}

export function createOtlpMetrics(options: OtlpMetricsOptions): OtlpMetrics {
  const exporter = new OTLPMetricExporter({
    url: options.url,
    timeoutMillis: options.exportTimeoutMilliseconds,
    temporalityPreference:
      options.temporality === "delta" ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
  });
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      "service.name": options.serviceName,
      "service.version": options.serviceVersion,
    }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: options.exportIntervalMilliseconds,
        exportTimeoutMillis: Math.min(options.exportTimeoutMilliseconds, options.exportIntervalMilliseconds),
      }),
    ],
  });
  const meter = meterProvider.getMeter(instrumentationScope, options.serviceVersion);
  let registered = false;
  return {
    meter,
    meterProvider,
    registerGlobally() {
      if (!metrics.setGlobalMeterProvider(meterProvider)) {
        throw new Error("A global meter provider is already registered in this process.");
      }
      registered = true;
    },
    forceFlush: () => meterProvider.forceFlush(),
    async shutdown() {
      try {
        // The reader's shutdown collects and exports once more: nothing measured is lost.
        await meterProvider.shutdown();
      } finally {
        if (registered) metrics.disable();
        registered = false;
      }
    },
  };
}
