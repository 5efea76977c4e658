import { type Meter, metrics } from "@opentelemetry/api";

/** Why a session ended, or why a new one was refused. */
export type SessionEventReason =
  | "deleted"
  | "idle-timeout"
  | "client-gone"
  | "principal-limit"
  | "global-limit"
  | "shutdown";

export interface SessionEvent {
  readonly type: "opened" | "closed" | "refused";
  readonly reason?: SessionEventReason;
}

export interface SessionMetrics {
  record(event: SessionEvent): void;
}

/**
 * MCP sessions on streamable HTTP: opened, closed (by reason: DELETE, idle, client gone, evicted
 * for a per-principal or global cap, shutdown) and refused (by which cap), plus the sessions and
 * port-forward listeners open now (read when metrics are collected).
 */
export function createSessionMetrics(options: {
  meter?: Meter;
  sessions: () => number;
  portForwards: () => number;
}): SessionMetrics {
  const meter = options.meter ?? metrics.getMeter("capi-mcp");
  const events = meter.createCounter("capi_mcp.sessions.events", {
    description: "MCP sessions opened, closed and refused, by reason",
  });
  const open = meter.createObservableGauge("capi_mcp.sessions.open", {
    description: "MCP sessions open now",
  });
  open.addCallback((result) => result.observe(options.sessions()));
  // giantswarm's name (its dashboards read it); a gauge here, an up-down counter there: the same series.
  const listeners = meter.createObservableGauge("active_port_forward_sessions", {
    description: "Port-forward sessions open now, across all MCP sessions",
  });
  listeners.addCallback((result) => result.observe(options.portForwards()));
  return {
    record(event) {
      events.add(1, {
        "capi_mcp.session.event": event.type,
        ...(event.reason ? { "capi_mcp.session.reason": event.reason } : {}),
      });
    },
  };
}
