// The instrumentation environment, named as giantswarm/mcp-kubernetes and the OpenTelemetry
// specification name it (not CAPI_MCP_…), so a deployment's existing values keep working:
// INSTRUMENTATION_ENABLED, METRICS_EXPORTER, TRACING_EXPORTER, METRICS_DETAILED_LABELS and the
// standard OTEL_* variables. Parsed and validated here, once; a bad value is a start-up error
// naming the variable, the value and what is accepted.
import { GatewayError } from "@capi-mcp/core";

export const metricsExporters = ["prometheus", "otlp", "none"] as const;
export const tracingExporters = ["otlp", "none"] as const;
export const metricsTemporalities = ["cumulative", "delta"] as const;
export const otlpProtocols = ["http/protobuf", "http/json", "grpc"] as const;
export const tracesSamplers = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

export interface InstrumentationConfig {
  /** INSTRUMENTATION_ENABLED (default true): false turns metrics and traces off together. */
  readonly enabled: boolean;
  /**
   * METRICS_EXPORTER (default prometheus): `prometheus` serves /metrics on the metrics listener,
   * `otlp` pushes to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics (no listener); `none` when
   * instrumentation is off.
   */
  readonly metricsExporter: (typeof metricsExporters)[number];
  /** OTEL_METRIC_EXPORT_INTERVAL (default 60000, the specification's): ms between OTLP pushes. */
  readonly metricExportIntervalMilliseconds: number;
  /** OTEL_METRIC_EXPORT_TIMEOUT (default 30000, at most the interval): ms one push may take. */
  readonly metricExportTimeoutMilliseconds: number;
  /** OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE (default cumulative, as Prometheus counts). */
  readonly metricsTemporality: (typeof metricsTemporalities)[number];
  /** TRACING_EXPORTER (default none); `none` when instrumentation is off. Parsed, not yet wired. */
  readonly tracingExporter: (typeof tracingExporters)[number];
  /** OTEL_EXPORTER_OTLP_ENDPOINT as a URL (a scheme-less host:port gets one, see below). */
  readonly otlpEndpoint: string | undefined;
  /** OTEL_EXPORTER_OTLP_PROTOCOL (default http/protobuf). */
  readonly otlpProtocol: "http/protobuf" | "http/json";
  /** OTEL_EXPORTER_OTLP_INSECURE (default false): plain http for a scheme-less endpoint. */
  readonly otlpInsecure: boolean;
  /** OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else capi-mcp. */
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES plus the pod's namespace, name and instance id when set. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** OTEL_TRACES_SAMPLER (default parentbased_traceidratio, as giantswarm samples by ratio). */
  readonly tracesSampler: (typeof tracesSamplers)[number];
  /** OTEL_TRACES_SAMPLER_ARG (default 0.1, giantswarm's): the ratio for the ratio samplers. */
  readonly tracesSamplerRatio: number;
  /** METRICS_DETAILED_LABELS (default false): add a `cluster` label to per-cluster metrics. */
  readonly detailedLabels: boolean;
}

export const defaultServiceName = "capi-mcp";

type Environment = Readonly<Record<string, string | undefined>>;

function invalid(variable: string, value: string, expected: string): GatewayError {
  return new GatewayError("invalid_input", `${variable}: expected ${expected}, got ${JSON.stringify(value)}.`);
}

function readBoolean(environment: Environment, variable: string, fallback: boolean): boolean {
  const raw = environment[variable];
  if (raw === undefined || raw.trim() === "") return fallback;
  const text = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(text)) return true;
  if (["false", "0", "no"].includes(text)) return false;
  throw invalid(variable, raw, "true or false");
}

function readChoice<T extends string>(
  environment: Environment,
  variable: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = environment[variable];
  if (raw === undefined || raw.trim() === "") return fallback;
  const text = raw.trim().toLowerCase();
  const choice = choices.find((candidate) => candidate === text);
  if (choice === undefined) throw invalid(variable, raw, `${choices.join(", ")} (one of)`);
  return choice;
}

/**
 * A duration in whole milliseconds, as the OpenTelemetry specification gives
 * OTEL_METRIC_EXPORT_INTERVAL and _TIMEOUT: a positive integer, no unit. Capped at a day, so a
 * typo (an extra digit or three) is a start-up error rather than metrics that never leave.
 */
function readMilliseconds(environment: Environment, variable: string, fallback: number): number {
  const raw = environment[variable];
  if (raw === undefined || raw.trim() === "") return fallback;
  const text = raw.trim();
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > 86_400_000) {
    throw invalid(variable, raw, "a whole number of milliseconds from 1 to 86400000, such as 60000");
  }
  return value;
}

/**
 * The OTLP endpoint as a URL. giantswarm documents a scheme-less `host:port` (e.g.
 * `otel-collector:4318`, with OTEL_EXPORTER_OTLP_INSECURE for plain text); the OpenTelemetry
 * specification wants a URL. A value without a scheme gets `https://`, or `http://` when
 * OTEL_EXPORTER_OTLP_INSECURE is true, and is then read as a URL. Only http and https are taken.
 */
export function normalizeOtlpEndpoint(raw: string, insecure: boolean): string {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${insecure ? "http" : "https"}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid("OTEL_EXPORTER_OTLP_ENDPOINT", raw, "a URL such as http://otel-collector:4318 or a host:port");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid("OTEL_EXPORTER_OTLP_ENDPOINT", raw, "an http:// or https:// URL, or a host:port");
  }
  if (url.username !== "" || url.password !== "") {
    throw new GatewayError(
      "invalid_input",
      "OTEL_EXPORTER_OTLP_ENDPOINT: must not carry a user name or password in the URL.",
    );
  }
  if (url.hostname === "") {
    throw invalid("OTEL_EXPORTER_OTLP_ENDPOINT", raw, "a URL such as http://otel-collector:4318 or a host:port");
  }
  return url.toString().replace(/\/$/, "");
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, values percent-encoded (the
 * W3C Baggage form the specification uses). A pair without `=` or with an empty key is refused
 * rather than dropped, so a typo does not silently lose an attribute.
 */
export function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (raw === undefined || raw.trim() === "") return attributes;
  for (const pair of raw.split(",")) {
    if (pair.trim() === "") continue;
    const index = pair.indexOf("=");
    const key = index < 0 ? "" : pair.slice(0, index).trim();
    if (index < 0 || key === "" || !/^[\x21-\x7e]+$/.test(key)) {
      throw invalid("OTEL_RESOURCE_ATTRIBUTES", pair, "key=value pairs separated by commas");
    }
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(index + 1).trim());
    } catch {
      throw invalid("OTEL_RESOURCE_ATTRIBUTES", pair, "percent-encoded values");
    }
    attributes[key] = value;
  }
  return attributes;
}

export function loadInstrumentationConfig(environment: Environment): InstrumentationConfig {
  const enabled = readBoolean(environment, "INSTRUMENTATION_ENABLED", true);
  const metricsChoice = readChoice(environment, "METRICS_EXPORTER", metricsExporters, "prometheus");
  const tracingExporter = readChoice(environment, "TRACING_EXPORTER", tracingExporters, "none");
  const otlpInsecure = readBoolean(environment, "OTEL_EXPORTER_OTLP_INSECURE", false);
  const endpointText = environment.OTEL_EXPORTER_OTLP_ENDPOINT;
  const otlpEndpoint =
    endpointText === undefined || endpointText.trim() === ""
      ? undefined
      : normalizeOtlpEndpoint(endpointText, otlpInsecure);
  const protocol = readChoice(environment, "OTEL_EXPORTER_OTLP_PROTOCOL", otlpProtocols, "http/protobuf");
  if (protocol === "grpc") {
    throw new GatewayError(
      "invalid_input",
      "OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported; use http/protobuf (port 4318 on a collector) or http/json.",
    );
  }
  if (enabled && tracingExporter === "otlp" && otlpEndpoint === undefined) {
    throw new GatewayError(
      "invalid_input",
      "TRACING_EXPORTER=otlp needs OTEL_EXPORTER_OTLP_ENDPOINT (for example http://otel-collector:4318).",
    );
  }
  if (enabled && metricsChoice === "otlp") {
    if (otlpEndpoint === undefined) {
      throw new GatewayError(
        "invalid_input",
        "METRICS_EXPORTER=otlp needs OTEL_EXPORTER_OTLP_ENDPOINT (for example http://otel-collector:4318).",
      );
    }
    if (protocol !== "http/protobuf") {
      throw new GatewayError(
        "invalid_input",
        `OTEL_EXPORTER_OTLP_PROTOCOL: metrics are exported as http/protobuf only, got ${protocol}; unset it or set http/protobuf.`,
      );
    }
  }
  const metricExportIntervalMilliseconds = readMilliseconds(environment, "OTEL_METRIC_EXPORT_INTERVAL", 60_000);
  const timeoutSet = (environment.OTEL_METRIC_EXPORT_TIMEOUT ?? "").trim() !== "";
  const timeoutAsked = readMilliseconds(environment, "OTEL_METRIC_EXPORT_TIMEOUT", 30_000);
  if (timeoutSet && timeoutAsked > metricExportIntervalMilliseconds) {
    throw new GatewayError(
      "invalid_input",
      `OTEL_METRIC_EXPORT_TIMEOUT: ${timeoutAsked} ms is longer than OTEL_METRIC_EXPORT_INTERVAL (${metricExportIntervalMilliseconds} ms); an export must end before the next begins.`,
    );
  }
  // The default timeout (30 s) is cut to a shorter interval, as the SDK does.
  const metricExportTimeoutMilliseconds = Math.min(timeoutAsked, metricExportIntervalMilliseconds);
  const metricsTemporality = readChoice(
    environment,
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    metricsTemporalities,
    "cumulative",
  );
  const tracesSampler = readChoice(environment, "OTEL_TRACES_SAMPLER", tracesSamplers, "parentbased_traceidratio");
  const ratioText = environment.OTEL_TRACES_SAMPLER_ARG;
  let tracesSamplerRatio = 0.1;
  if (ratioText !== undefined && ratioText.trim() !== "") {
    tracesSamplerRatio = Number(ratioText.trim());
    if (!Number.isFinite(tracesSamplerRatio) || tracesSamplerRatio < 0 || tracesSamplerRatio > 1) {
      throw invalid("OTEL_TRACES_SAMPLER_ARG", ratioText, "a ratio from 0 to 1, such as 0.1");
    }
  }
  const fromResource = parseResourceAttributes(environment.OTEL_RESOURCE_ATTRIBUTES);
  const namespace = environment.K8S_NAMESPACE ?? environment.POD_NAMESPACE;
  const podName = environment.K8S_POD_NAME;
  const instanceId = environment.OTEL_SERVICE_INSTANCE_ID;
  const resourceAttributes: Record<string, string> = {
    ...(namespace ? { "k8s.namespace.name": namespace } : {}),
    ...(podName ? { "k8s.pod.name": podName } : {}),
    ...(instanceId ? { "service.instance.id": instanceId } : {}),
    ...fromResource,
  };
  const serviceNameText = environment.OTEL_SERVICE_NAME?.trim();
  const serviceName =
    serviceNameText !== undefined && serviceNameText !== ""
      ? serviceNameText
      : (resourceAttributes["service.name"] ?? defaultServiceName);
  return {
    enabled,
    metricsExporter: enabled ? metricsChoice : "none",
    metricExportIntervalMilliseconds,
    metricExportTimeoutMilliseconds,
    metricsTemporality,
    tracingExporter: enabled ? tracingExporter : "none",
    otlpEndpoint,
    otlpProtocol: protocol,
    otlpInsecure,
    serviceName,
    resourceAttributes,
    tracesSampler,
    tracesSamplerRatio,
    detailedLabels: readBoolean(environment, "METRICS_DETAILED_LABELS", false),
  };
}
