import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { loadInstrumentationConfig, normalizeOtlpEndpoint, parseResourceAttributes } from "./instrumentation-config.js";

describe("the instrumentation environment", () => {
  it("defaults to Prometheus metrics, no traces, service capi-mcp, no detailed labels", () => {
    expect(loadInstrumentationConfig({})).toEqual({
      enabled: true,
      metricsExporter: "prometheus",
      metricExportIntervalMilliseconds: 60_000,
      metricExportTimeoutMilliseconds: 30_000,
      metricsTemporality: "cumulative",
      tracingExporter: "none",
      otlpEndpoint: undefined,
      otlpProtocol: "http/protobuf",
      otlpInsecure: false,
      serviceName: "capi-mcp",
      resourceAttributes: {},
      tracesSampler: "parentbased_traceidratio",
      tracesSamplerRatio: 0.1,
      detailedLabels: false,
    });
  });

  it("reads giantswarm's variables and the standard OTEL_* ones", () => {
    const config = loadInstrumentationConfig({
      METRICS_EXPORTER: "none",
      TRACING_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.observability:4318/",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "gateway-eu",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,team=platform%20security",
      OTEL_TRACES_SAMPLER: "always_on",
      OTEL_TRACES_SAMPLER_ARG: "0.5",
      METRICS_DETAILED_LABELS: "true",
      K8S_NAMESPACE: "capi-mcp",
      K8S_POD_NAME: "capi-mcp-7d9f-abcde",
    });
    expect(config).toMatchObject({
      metricsExporter: "none",
      tracingExporter: "otlp",
      otlpEndpoint: "http://collector.observability:4318",
      otlpProtocol: "http/json",
      serviceName: "gateway-eu",
      tracesSampler: "always_on",
      tracesSamplerRatio: 0.5,
      detailedLabels: true,
      resourceAttributes: {
        "deployment.environment": "prod",
        team: "platform security",
        "k8s.namespace.name": "capi-mcp",
        "k8s.pod.name": "capi-mcp-7d9f-abcde",
      },
    });
  });

  it("pushes metrics over OTLP with METRICS_EXPORTER=otlp, at OTEL_METRIC_EXPORT_INTERVAL, cumulative unless told", () => {
    const config = loadInstrumentationConfig({
      METRICS_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: "otel-collector:4318",
      OTEL_EXPORTER_OTLP_INSECURE: "true",
      OTEL_METRIC_EXPORT_INTERVAL: " 15000 ",
    });
    expect(config).toMatchObject({
      metricsExporter: "otlp",
      otlpEndpoint: "http://otel-collector:4318",
      metricExportIntervalMilliseconds: 15_000,
      // The default 30 s timeout is cut to the shorter interval.
      metricExportTimeoutMilliseconds: 15_000,
      metricsTemporality: "cumulative",
    });
    expect(
      loadInstrumentationConfig({
        METRICS_EXPORTER: "OTLP",
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example",
        OTEL_METRIC_EXPORT_TIMEOUT: "2000",
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "Delta",
      }),
    ).toMatchObject({
      metricsExporter: "otlp",
      metricExportIntervalMilliseconds: 60_000,
      metricExportTimeoutMilliseconds: 2000,
      metricsTemporality: "delta",
    });
    // Off is off: no endpoint needed when instrumentation is disabled.
    expect(loadInstrumentationConfig({ INSTRUMENTATION_ENABLED: "false", METRICS_EXPORTER: "otlp" })).toMatchObject({
      metricsExporter: "none",
    });
  });

  it("turns every exporter off when INSTRUMENTATION_ENABLED is false", () => {
    const config = loadInstrumentationConfig({ INSTRUMENTATION_ENABLED: "false", TRACING_EXPORTER: "otlp" });
    expect(config).toMatchObject({ enabled: false, metricsExporter: "none", tracingExporter: "none" });
  });

  it("gives giantswarm's scheme-less host:port a scheme: https, or http with OTEL_EXPORTER_OTLP_INSECURE", () => {
    expect(normalizeOtlpEndpoint("otel-collector:4318", false)).toBe("https://otel-collector:4318");
    expect(normalizeOtlpEndpoint("otel-collector:4318", true)).toBe("http://otel-collector:4318");
    expect(normalizeOtlpEndpoint("https://collector.example:443/otlp", true)).toBe("https://collector.example/otlp");
    expect(
      loadInstrumentationConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318", OTEL_EXPORTER_OTLP_INSECURE: "true" })
        .otlpEndpoint,
    ).toBe("http://localhost:4318");
  });

  it("takes service.name from OTEL_RESOURCE_ATTRIBUTES unless OTEL_SERVICE_NAME is set", () => {
    expect(loadInstrumentationConfig({ OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes" }).serviceName).toBe(
      "from-attributes",
    );
    expect(
      loadInstrumentationConfig({ OTEL_RESOURCE_ATTRIBUTES: "service.name=a", OTEL_SERVICE_NAME: "b" }).serviceName,
    ).toBe("b");
  });

  it.each([
    [
      { METRICS_EXPORTER: "otlp" },
      "METRICS_EXPORTER=otlp needs OTEL_EXPORTER_OTLP_ENDPOINT (for example http://otel-collector:4318).",
    ],
    [
      {
        METRICS_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      },
      "OTEL_EXPORTER_OTLP_PROTOCOL: metrics are exported as http/protobuf only, got http/json",
    ],
    [
      { OTEL_METRIC_EXPORT_INTERVAL: "10s" },
      'OTEL_METRIC_EXPORT_INTERVAL: expected a whole number of milliseconds from 1 to 86400000, such as 60000, got "10s".',
    ],
    [{ OTEL_METRIC_EXPORT_INTERVAL: "0" }, "OTEL_METRIC_EXPORT_INTERVAL: expected a whole number of milliseconds"],
    [{ OTEL_METRIC_EXPORT_INTERVAL: "-5" }, "OTEL_METRIC_EXPORT_INTERVAL: expected a whole number of milliseconds"],
    [{ OTEL_METRIC_EXPORT_INTERVAL: "1.5" }, "OTEL_METRIC_EXPORT_INTERVAL: expected a whole number of milliseconds"],
    [{ OTEL_METRIC_EXPORT_TIMEOUT: "abc" }, "OTEL_METRIC_EXPORT_TIMEOUT: expected a whole number of milliseconds"],
    [
      { OTEL_METRIC_EXPORT_INTERVAL: "5000", OTEL_METRIC_EXPORT_TIMEOUT: "10000" },
      "OTEL_METRIC_EXPORT_TIMEOUT: 10000 ms is longer than OTEL_METRIC_EXPORT_INTERVAL (5000 ms)",
    ],
    [
      { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "lowmemory" },
      'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: expected cumulative, delta (one of), got "lowmemory".',
    ],
    [{ METRICS_EXPORTER: "stdout" }, 'METRICS_EXPORTER: expected prometheus, otlp, none (one of), got "stdout".'],
    [{ TRACING_EXPORTER: "jaeger" }, 'TRACING_EXPORTER: expected otlp, none (one of), got "jaeger".'],
    [{ TRACING_EXPORTER: "otlp" }, "TRACING_EXPORTER=otlp needs OTEL_EXPORTER_OTLP_ENDPOINT"],
    [{ INSTRUMENTATION_ENABLED: "maybe" }, 'INSTRUMENTATION_ENABLED: expected true or false, got "maybe".'],
    [{ METRICS_DETAILED_LABELS: "2" }, 'METRICS_DETAILED_LABELS: expected true or false, got "2".'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported"],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" }, "OTEL_EXPORTER_OTLP_PROTOCOL: expected http/protobuf"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://collector:21" },
      "OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https://",
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://user:hunter2@collector:4318" }, "must not carry a user name or password"],
    [{ OTEL_TRACES_SAMPLER: "sometimes" }, "OTEL_TRACES_SAMPLER: expected always_on"],
    [
      { OTEL_TRACES_SAMPLER_ARG: "1.5" },
      'OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1, such as 0.1, got "1.5".',
    ],
    [{ OTEL_TRACES_SAMPLER_ARG: "ten" }, "OTEL_TRACES_SAMPLER_ARG: expected a ratio"],
    [
      { OTEL_RESOURCE_ATTRIBUTES: "team" },
      'OTEL_RESOURCE_ATTRIBUTES: expected key=value pairs separated by commas, got "team".',
    ],
    [{ OTEL_RESOURCE_ATTRIBUTES: "team=%zz" }, "OTEL_RESOURCE_ATTRIBUTES: expected percent-encoded values"],
  ])("refuses %o with a message naming the variable", (environment, message) => {
    expect(() => loadInstrumentationConfig(environment)).toThrow(message);
  });

  it("never repeats a password from the endpoint in its error", () => {
    expect(() =>
      loadInstrumentationConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://user:hunter2@collector:4318" }),
    ).not.toThrow(/hunter2/);
  });

  it("parses percent-encoded resource attributes and skips empty pairs", () => {
    expect(parseResourceAttributes("a=1,,b=x%2Cy")).toEqual({ a: "1", b: "x,y" });
  });

  it("travels in the gateway's configuration, and --metrics-addr takes :port (every interface)", () => {
    const config = loadConfig({
      flags: { metricsAddr: ":9090" },
      environment: { METRICS_DETAILED_LABELS: "true" },
      homeDirectory: "/nonexistent",
    });
    expect(config.metricsAddr).toBe(":9090");
    expect(config.instrumentation.detailedLabels).toBe(true);
    expect(() => loadConfig({ flags: { metricsAddr: "9090" }, environment: {} })).toThrow(
      "--metrics-addr: expected host:port or :port, for example 127.0.0.1:9090 or :9090",
    );
  });
});
