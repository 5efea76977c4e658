export { type AuditMetrics, createAuditMetrics } from "./audit-metrics.js";
export { type AuditSinkOptions, AuditWriteError, createAuditSink } from "./audit-sink.js";
export { type ClientPoolEvent, type ClientPoolMetrics, createClientPoolMetrics } from "./client-pool-metrics.js";
export {
  type AuthMode,
  createGatewayMetrics,
  type DiscoveryMode,
  type GatewayMetrics,
  type GatewayMetricsOptions,
  gatewayMetricNames,
  giantswarmDurationBuckets,
  kubernetesOperationOf,
  type ToolCallMeasurement,
} from "./gateway-metrics.js";
export {
  createOAuthMetrics,
  type OAuthMetrics,
  type OAuthSecurityEvent,
  type TokenStoreDecryptionFailureReason,
} from "./oauth-metrics.js";
export {
  createOtlpMetrics,
  type MetricsTemporality,
  type OtlpMetrics,
  type OtlpMetricsOptions,
} from "./otlp-metrics.js";
export {
  createPrometheusMetrics,
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
  prometheusContentType,
} from "./prometheus-metrics.js";
export {
  attributeNames,
  executeToolOperation,
  instrumentNames,
  operationDurationBuckets,
  otherErrorType,
  toolsCallMethod,
} from "./semantic-conventions.js";
export {
  createSessionMetrics,
  type SessionEvent,
  type SessionEventReason,
  type SessionMetrics,
} from "./session-metrics.js";
export {
  createToolTelemetry,
  instrumentationScope,
  type ToolCall,
  type ToolCallEnd,
  type ToolCallStart,
  type ToolTelemetry,
  type ToolTelemetryOptions,
} from "./tool-telemetry.js";
export { startTracing, type TracingOptions, type TracingSetup } from "./tracing.js";
