// Trace export from the instrumentation environment (instrumentation-config.ts): TRACING_EXPORTER
// otlp sends spans over OTLP/HTTP protobuf to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces.
import { GatewayError } from "@capi-mcp/core";
import { startTracing, type TracingSetup } from "@capi-mcp/telemetry";
import type { InstrumentationConfig } from "./instrumentation-config.js";

/** The OTLP/HTTP traces URL for a base endpoint, as the OTLP exporter specification builds it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

/** The OTLP/HTTP metrics URL for a base endpoint (METRICS_EXPORTER=otlp), built the same way. */
export function metricsUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/metrics`;
}

/** Starts trace export when TRACING_EXPORTER=otlp; undefined (spans stay no-ops) otherwise. */
export function startConfiguredTracing(
  instrumentation: InstrumentationConfig,
  version: string,
  options: { readonly scheduledDelayMilliseconds?: number } = {},
): TracingSetup | undefined {
  if (instrumentation.tracingExporter !== "otlp" || instrumentation.otlpEndpoint === undefined) return undefined;
  if (instrumentation.otlpProtocol !== "http/protobuf") {
    throw new GatewayError(
      "invalid_input",
      `OTEL_EXPORTER_OTLP_PROTOCOL: traces are exported as http/protobuf only, got ${instrumentation.otlpProtocol}; unset it or set http/protobuf.`,
    );
  }
  return startTracing({
    url: tracesUrl(instrumentation.otlpEndpoint),
    serviceName: instrumentation.serviceName,
    serviceVersion: version,
    resourceAttributes: instrumentation.resourceAttributes,
    sampler: instrumentation.tracesSampler,
    samplerRatio: instrumentation.tracesSamplerRatio,
    ...options,
  });
}
