import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToolTelemetry } from "./tool-telemetry.js";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(async () => {
  await provider.shutdown();
  propagation.disable();
  context.disable();
});

const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const callerSpan = "00f067aa0ba902b7";

describe("a tool call's span", () => {
  it("continues the caller's trace from its traceparent and parents the spans started while it runs", async () => {
    exporter.reset();
    const telemetry = createToolTelemetry({ tracer: provider.getTracer("test") });
    const call = telemetry.startToolCall({
      tool: "k8s_list_resources",
      sessionId: "session-1",
      callId: "call-1",
      traceCarrier: { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    expect(call.traceId).toBe(callerTrace);
    await call.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      trace.getTracer("capi-mcp").startSpan("list pods").end();
      provider.getTracer("kube").startSpan("list pods", {}, context.active()).end();
    });
    call.end({ outcome: "ok", cluster: "org-acme/dev" });
    const spans = exporter.getFinishedSpans();
    const server = spans.find((span) => span.name === "tools/call k8s_list_resources");
    const child = spans.find((span) => span.name === "list pods");
    expect(server?.spanContext().traceId).toBe(callerTrace);
    expect(server?.parentSpanContext?.spanId).toBe(callerSpan);
    expect(server?.attributes).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "k8s_list_resources",
      "gen_ai.operation.name": "execute_tool",
      "mcp.session.id": "session-1",
      "capi_mcp.call.id": "call-1",
      "k8s.cluster.name": "org-acme/dev",
    });
    expect(child?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  });

  it("starts a trace of its own when the traceparent is malformed", () => {
    exporter.reset();
    const call = createToolTelemetry({ tracer: provider.getTracer("test") }).startToolCall({
      tool: "t",
      traceCarrier: { traceparent: "00-not-a-trace-01" },
    });
    call.end({ outcome: "error", errorCode: "forbidden" });
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(call.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span?.attributes["error.type"]).toBe("forbidden");
  });
});
