import type { AuditOutcome, GatewayErrorCode } from "@capi-mcp/core";
import {
  type Attributes,
  type Context,
  context as contextApi,
  isSpanContextValid,
  type Meter,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import {
  attributeNames,
  executeToolOperation,
  instrumentNames,
  operationDurationBuckets,
  otherErrorType,
  toolsCallMethod,
} from "./semantic-conventions.js";

/** The instrumentation scope name for every span and metric of the gateway. */
export const instrumentationScope = "capi-mcp";

export interface ToolTelemetryOptions {
  /** Defaults to the global tracer provider's `capi-mcp` tracer (a no-op until an SDK is registered). */
  readonly tracer?: Tracer;
  /** Defaults to the global meter provider's `capi-mcp` meter. */
  readonly meter?: Meter;
  /** A monotonic clock in milliseconds; tests pass their own. */
  readonly now?: () => number;
}

/** What is known when a call starts. Never arguments, tokens or secret values. */
export interface ToolCallStart {
  readonly tool: string;
  readonly sessionId?: string | undefined;
  readonly cluster?: string | undefined;
  readonly protocolVersion?: string | undefined;
  /** The context to start the span in; defaults to the active one. */
  readonly parentContext?: Context;
  /** The call id (the audit record's, and the `Audit-ID` sent to API servers). */
  readonly callId?: string | undefined;
  /** W3C trace context from the caller (`traceparent`, `tracestate`): the span continues that trace. */
  readonly traceCarrier?: Readonly<Record<string, string>> | undefined;
}

export interface ToolCallEnd {
  readonly outcome: AuditOutcome;
  readonly errorCode?: GatewayErrorCode | undefined;
  /** The cluster the call resolved to, when it was not known at the start. */
  readonly cluster?: string | undefined;
  readonly namespace?: string | undefined;
  readonly dryRun?: boolean | undefined;
}

export interface ToolCall {
  readonly span: Span;
  /** `parentContext` with this call's span set: run the handler in it so nested spans attach. */
  readonly context: Context;
  /** The span's trace id, when it is recorded (an SDK is registered and sampled it in). */
  readonly traceId: string | undefined;
  /** Runs `work` in `context`, so every span started inside it (Kubernetes requests) is a child. */
  run<T>(work: () => T): T;
  /** Ends the span and records the metrics, once; later calls return the first duration. */
  end(result: ToolCallEnd): { readonly durationMilliseconds: number };
}

export interface ToolTelemetry {
  startToolCall(start: ToolCallStart): ToolCall;
}

function errorTypeOf(result: ToolCallEnd): string | undefined {
  if (result.outcome === "ok") return undefined;
  return result.errorCode ?? (result.outcome === "denied" ? "denied_by_policy" : otherErrorType);
}

function definedAttributes(attributes: Record<string, string | boolean | undefined>): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

/**
 * Spans and metrics for tool calls, named after the OpenTelemetry MCP conventions. Only names,
 * ids, the cluster, the namespace and outcomes are recorded: a call's arguments can carry
 * secret values and stay in the (redacted) audit record.
 */
export function createToolTelemetry(options: ToolTelemetryOptions = {}): ToolTelemetry {
  const tracer = options.tracer ?? trace.getTracer(instrumentationScope);
  const meter = options.meter ?? metrics.getMeter(instrumentationScope);
  const now = options.now ?? (() => performance.now());
  const duration = meter.createHistogram(instrumentNames.operationDuration, {
    description: "Duration of MCP requests handled by the server.",
    unit: "s",
    advice: { explicitBucketBoundaries: operationDurationBuckets },
  });
  const calls = meter.createCounter(instrumentNames.toolCalls, {
    description: "Tool calls handled by the gateway, by tool and outcome.",
    unit: "{call}",
  });

  return {
    startToolCall(start: ToolCallStart): ToolCall {
      const startedAt = now();
      const activeContext = start.parentContext ?? contextApi.active();
      // A malformed traceparent extracts to nothing, and the call starts a trace of its own.
      const parentContext =
        start.traceCarrier === undefined ? activeContext : propagation.extract(activeContext, start.traceCarrier);
      const span = tracer.startSpan(
        `${toolsCallMethod} ${start.tool}`,
        {
          kind: SpanKind.SERVER,
          attributes: definedAttributes({
            [attributeNames.mcpMethodName]: toolsCallMethod,
            [attributeNames.genAiToolName]: start.tool,
            [attributeNames.genAiOperationName]: executeToolOperation,
            [attributeNames.mcpSessionId]: start.sessionId,
            [attributeNames.mcpProtocolVersion]: start.protocolVersion,
            [attributeNames.k8sClusterName]: start.cluster,
            [attributeNames.callId]: start.callId,
          }),
        },
        parentContext,
      );
      let ended: { readonly durationMilliseconds: number } | undefined;
      const callContext = trace.setSpan(parentContext, span);
      const spanContext = span.spanContext();
      return {
        span,
        context: callContext,
        traceId: span.isRecording() && isSpanContextValid(spanContext) ? spanContext.traceId : undefined,
        run: (work) => contextApi.with(callContext, work),
        end(result: ToolCallEnd) {
          if (ended !== undefined) return ended;
          const durationMilliseconds = Math.max(0, now() - startedAt);
          ended = { durationMilliseconds };
          const errorType = errorTypeOf(result);
          span.setAttributes(
            definedAttributes({
              [attributeNames.k8sClusterName]: result.cluster,
              [attributeNames.k8sNamespaceName]: result.namespace,
              [attributeNames.toolOutcome]: result.outcome,
              [attributeNames.dryRun]: result.dryRun,
              [attributeNames.errorType]: errorType,
            }),
          );
          // The status message is the code, not the error's text: messages name objects and
          // users, which a trace backend should not collect.
          if (errorType !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
          span.end();
          duration.record(
            durationMilliseconds / 1000,
            definedAttributes({
              [attributeNames.mcpMethodName]: toolsCallMethod,
              [attributeNames.genAiToolName]: start.tool,
              [attributeNames.errorType]: errorType,
            }),
          );
          calls.add(1, { [attributeNames.genAiToolName]: start.tool, [attributeNames.toolOutcome]: result.outcome });
          return ended;
        },
      };
    },
  };
}
