import type { AuditEvent, GatewayErrorCode } from "@capi-mcp/core";
import {
  type Attributes,
  type Context,
  context as contextApi,
  type Meter,
  metrics,
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
}

export interface ToolCallEnd {
  readonly outcome: AuditEvent["outcome"];
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
      const parentContext = start.parentContext ?? contextApi.active();
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
          }),
        },
        parentContext,
      );
      let ended: { readonly durationMilliseconds: number } | undefined;
      return {
        span,
        context: trace.setSpan(parentContext, span),
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
