// The metrics SDK behind the one instrumentation API: a MeterProvider whose only reader is the
// OpenTelemetry Prometheus exporter, used as a pull reader (its own HTTP server is never started;
// the gateway serves the text on its metrics listener). Instruments are made through
// @opentelemetry/api everywhere; this module only turns them into the Prometheus text format.
import { type Meter, metrics } from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { instrumentationScope } from "./tool-telemetry.js";

/** The content type of the Prometheus text exposition format. */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

export interface PrometheusMetricsOptions {
  /** `service.name` of the resource (OTEL_SERVICE_NAME). */
  readonly serviceName: string;
  /** `service.version` of the resource. */
  readonly serviceVersion: string;
  /** More resource attributes (OTEL_RESOURCE_ATTRIBUTES, the pod's namespace and name). */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
}

export interface PrometheusMetrics {
  /** The meter every instrument of the gateway is made on. */
  readonly meter: Meter;
  readonly meterProvider: MeterProvider;
  /** Collects every instrument now and renders the Prometheus text format. */
  scrape(): Promise<string>;
  /**
   * Makes this the process's meter provider, so instruments made through the API's global
   * (`metrics.getMeter`) in any package land here. Only instruments made after this call do: the
   * API hands out no-op instruments before a provider is registered.
   */
  registerGlobally(): void;
  /** Stops collecting, and unregisters the global provider if it was this one. */
  shutdown(): Promise<void>;
}

/**
 * Metric names are exposed as they are created: the exporter turns `.` into `_` and appends
 * `_total` to a monotonic counter only when the name does not already end with it, and writes a
 * unit only as a `# UNIT` comment, never as a name suffix. So an instrument created as
 * `http_requests_total` is scraped as `http_requests_total`. Scope labels (`otel_scope_name`) are
 * left out: there is one scope, and a label on every series would only add bytes. The resource
 * is exposed once, as `target_info`.
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      "service.name": options.serviceName,
      "service.version": options.serviceVersion,
    }),
    readers: [exporter],
  });
  const meter = meterProvider.getMeter(instrumentationScope, options.serviceVersion);
  let registered = false;
  return {
    meter,
    meterProvider,
    async scrape() {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
    registerGlobally() {
      if (!metrics.setGlobalMeterProvider(meterProvider)) {
        throw new Error("A global meter provider is already registered in this process.");
      }
      registered = true;
    },
    async shutdown() {
      if (registered) metrics.disable();
      registered = false;
      await meterProvider.shutdown();
    },
  };
}
