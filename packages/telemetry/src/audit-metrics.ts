import { type Meter, metrics } from "@opentelemetry/api";
import { instrumentationScope } from "./tool-telemetry.js";

export interface AuditMetrics {
  /** One audit record lost: a `mutation` was refused (or its end went unrecorded), a `read` went on. */
  count(kind: "mutation" | "read"): void;
}

/**
 * `capi_mcp.audit.write_failures` (Prometheus: `capi_mcp_audit_write_failures_total`), by the kind
 * of call whose record could not be written. An alert on any increase is the operator's cue: a
 * full or revoked audit volume stops every change.
 */
export function createAuditMetrics(meter: Meter = metrics.getMeter(instrumentationScope)): AuditMetrics {
  const failures = meter.createCounter("capi_mcp.audit.write_failures", {
    description: "Audit records that could not be written, by the kind of call (mutation: refused; read: answered).",
    unit: "{record}",
  });
  return { count: (kind) => failures.add(1, { operation: kind }) };
}
