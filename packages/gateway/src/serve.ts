// Wiring: configuration in, a running MCP server out. The only place that builds the pipeline.
import { execTimeoutWithin, GatewayError, type ToolSettings } from "@capi-mcp/core";
import {
  createStreamableHttpHandler,
  type McpServerDependencies,
  type StreamableHttpHandler,
  serveStdio,
} from "@capi-mcp/mcp";
import { loadTokenEncryptionKey } from "@capi-mcp/oauth";
import { createGuard } from "@capi-mcp/policy";
import {
  createAuditMetrics,
  createAuditSink,
  createOtlpMetrics,
  createPrometheusMetrics,
  createSessionMetrics,
  createToolTelemetry,
  type PrometheusMetrics,
} from "@capi-mcp/telemetry";
import { allTools } from "@capi-mcp/tools";
import { serve as serveHttp } from "@hono/node-server";
import { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { createClusterSources } from "./cluster-sources.js";
import { auditDestinations, type GatewayConfig } from "./config.js";
import { createHttpApp, defaultAllowedHosts, gatewayOrigins } from "./http-app.js";
import { loadInClusterKubeConfig } from "./in-cluster.js";
import { createMetricsApp, listenMetrics, type MetricsListener } from "./metrics-listener.js";
import { createGatewayInstruments } from "./metrics-wiring.js";
import { createOAuthSetup, type OAuthSetup } from "./oauth-setup.js";
import { metricsUrl, startConfiguredTracing } from "./tracing-setup.js";

export interface RunningGateway {
  /** The MCP endpoint URL (streamable HTTP), or undefined on stdio. */
  readonly endpoint: string | undefined;
  close(): Promise<void>;
}

const outputBudgetBytes = 64 * 1024;
const maxBodyBytes = 1024 * 1024;

function loadKubeConfig(config: GatewayConfig): KubeConfig {
  // In a pod: the service account's token file (re-read as the kubelet rotates it) and CA.
  if (config.inCluster) return loadInClusterKubeConfig(process.env);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(config.kubeconfig ?? "");
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new GatewayError("invalid_input", `Cannot load kubeconfig ${config.kubeconfig}: ${reason}`);
  }
  if (kubeConfig.getContexts().length === 0) {
    throw new GatewayError("invalid_input", `kubeconfig ${config.kubeconfig} has no contexts.`);
  }
  return kubeConfig;
}

function splitHostPort(address: string): { host: string; port: number } {
  const index = address.lastIndexOf(":");
  return { host: address.slice(0, index).replace(/^\[|\]$/g, ""), port: Number(address.slice(index + 1)) };
}

/** The most clusters one fleet-wide list may name (tools' own bound). */
const maximumFanoutClusters = 50;

/**
 * Each cluster's share of a fleet-wide list: the workload timeout, but short enough that the most
 * clusters one call may query, run in rounds of the configured concurrency, finish within 80% of
 * the tool timeout. Otherwise a few dead clusters would time the whole call out and lose every
 * other cluster's answer.
 */
function fanoutTimeout(config: GatewayConfig): number {
  const rounds = Math.ceil(maximumFanoutClusters / config.fanoutConcurrency);
  return Math.max(1000, Math.min(config.workloadTimeout, Math.floor((config.toolTimeoutMilliseconds * 0.8) / rounds)));
}

/** Where /metrics is served: the flag, else the default on streamable HTTP; on stdio only when asked. */
export function effectiveMetricsAddress(config: GatewayConfig): string | undefined {
  if (config.instrumentation.metricsExporter !== "prometheus") return undefined;
  return config.metricsAddr ?? (config.transport === "streamable-http" ? "127.0.0.1:9090" : undefined);
}

interface MetricsSetup {
  readonly prometheus: PrometheusMetrics | undefined;
  readonly listener: MetricsListener | undefined;
  close(): Promise<void>;
}

/**
 * The metrics SDK, registered as the process's meter provider so every instrument made through
 * @opentelemetry/api (in any package) lands in it, and its listener. One gateway per process (the
 * CLI), so the global registration is that process's; close() unregisters it.
 */
async function startMetrics(config: GatewayConfig, logger: Logger, version: string): Promise<MetricsSetup> {
  const instrumentation = config.instrumentation;
  if (instrumentation.metricsExporter === "otlp" && instrumentation.otlpEndpoint !== undefined) {
    // Push instead of pull: no /metrics listener. A --metrics-addr given anyway is said, not served.
    if (config.metricsAddr !== undefined) {
      logger.warn({ metricsAddr: config.metricsAddr }, "METRICS_EXPORTER=otlp: --metrics-addr is not served");
    }
    const otlp = createOtlpMetrics({
      url: metricsUrl(instrumentation.otlpEndpoint),
      serviceName: instrumentation.serviceName,
      serviceVersion: version,
      resourceAttributes: instrumentation.resourceAttributes,
      exportIntervalMilliseconds: instrumentation.metricExportIntervalMilliseconds,
      exportTimeoutMilliseconds: instrumentation.metricExportTimeoutMilliseconds,
      temporality: instrumentation.metricsTemporality,
    });
    otlp.registerGlobally();
    logger.info({ otlpEndpoint: instrumentation.otlpEndpoint }, "capi-mcp exporting metrics");
    return { prometheus: undefined, listener: undefined, close: () => otlp.shutdown() };
  }
  const address = effectiveMetricsAddress(config);
  if (address === undefined) return { prometheus: undefined, listener: undefined, async close() {} };
  const prometheus = createPrometheusMetrics({
    serviceName: config.instrumentation.serviceName,
    serviceVersion: version,
    resourceAttributes: config.instrumentation.resourceAttributes,
  });
  prometheus.registerGlobally();
  let listener: MetricsListener;
  try {
    listener = await listenMetrics(
      address,
      createMetricsApp(
        () => prometheus.scrape(),
        (error) => logger.error({ error: error instanceof Error ? error.message : String(error) }, "metrics failed"),
      ),
    );
  } catch (error) {
    await prometheus.shutdown();
    throw error;
  }
  logger.info({ metrics: listener.url }, "capi-mcp serving metrics");
  return {
    prometheus,
    listener,
    async close() {
      await listener.close();
      await prometheus.shutdown();
    },
  };
}

export async function startGateway(config: GatewayConfig, logger: Logger, version: string): Promise<RunningGateway> {
  const kubeConfig = loadKubeConfig(config);
  // Before anything makes an instrument: instruments made on the API's no-op provider stay no-ops.
  const metricsSetup = await startMetrics(config, logger, version);
  // Before any span is made: the tool call's span and the Kubernetes requests' spans go through it.
  const tracing = startConfiguredTracing(config.instrumentation, version);
  if (tracing) logger.info({ otlpEndpoint: config.instrumentation.otlpEndpoint }, "capi-mcp exporting traces");
  const sources = createClusterSources(config, kubeConfig, logger);
  const instruments = createGatewayInstruments(config, allTools, version);
  const discovered = sources.discoveredClusters;
  if (discovered) instruments.metrics.observeDiscoveredClusters(discovered);
  const guard = createGuard(
    {
      nonDestructive: config.nonDestructive,
      dryRun: config.dryRun,
      allowOperations: config.allowOperations,
      ...(config.allowedNamespaces ? { allowedNamespaces: config.allowedNamespaces } : {}),
      deniedNamespaces: config.deniedNamespaces,
      allowSecretValues: config.allowSecretValues,
    },
    {
      // Replicas behind one address share the token encryption key (it is required with Redis), so
      // a continue token from one opens on the next; the guard derives its own key from it. Without
      // one, a random key per process: a restart only asks the model to list again.
      continueTokens:
        config.tokenEncryptionKeyFile === undefined
          ? {}
          : { key: loadTokenEncryptionKey(config.tokenEncryptionKeyFile) },
    },
  );
  const auditTo = auditDestinations(config);
  const audit = createAuditSink({
    stream: auditTo.stream,
    ...(auditTo.file ? { file: auditTo.file } : {}),
    stdoutCarriesProtocol: config.transport === "stdio",
  });
  const settings: ToolSettings = {
    dryRun: config.dryRun,
    outputBudgetBytes,
    // Strictly inside the tool timeout: an exec stopped at its bound still answers with its output.
    execTimeoutMilliseconds: execTimeoutWithin(config.toolTimeoutMilliseconds),
    execMaxOutputBytes: 32 * 1024,
    logMaxBytes: 32 * 1024,
    logDefaultTailLines: 100,
    fanoutConcurrency: config.fanoutConcurrency,
    fanoutTimeoutMilliseconds: fanoutTimeout(config),
    onFanOut: instruments.onFanOut,
  };
  const currentUser = config.inCluster
    ? "in-cluster service account"
    : (kubeConfig.getCurrentUser()?.name ?? "unknown");
  const dependencies: McpServerDependencies = {
    tools: allTools,
    serverInfo: { name: "capi-mcp", version },
    instructions:
      "Kubernetes tools for the clusters listed by k8s_list_contexts. Every tool takes an optional `cluster`. " +
      "Lists are compact tables; page with limit and continue. Mutations may be disabled or run as dry runs by policy.",
    guard,
    telemetry: instruments.measureToolCalls(createToolTelemetry({})),
    audit,
    logger,
    settings,
    toolTimeoutMilliseconds: config.toolTimeoutMilliseconds,
    localActor: { username: currentUser, source: config.inCluster ? "in-cluster" : "kubeconfig" },
    auditFailures: createAuditMetrics(),
    auditRequestHeaders: config.auditRequestHeaders,
  };
  const identity = { principal: undefined, catalog: sources.local };

  if (config.transport === "stdio") {
    const running = await serveStdio(dependencies, identity);
    logger.info({ defaultCluster: sources.defaultCluster, capi: config.enableCapi }, "capi-mcp serving MCP on stdio");
    return {
      endpoint: undefined,
      async close() {
        await running.close();
        await sources.close();
        await audit.close();
        await metricsSetup.close();
        await tracing?.shutdown();
      },
    };
  }

  const { host, port } = splitHostPort(config.httpAddr);
  // With OAuth, every call acts as the logged-in user: impersonated, or with their own ID token.
  const oauth: OAuthSetup | undefined = config.enableOauth
    ? await createOAuthSetup(config, audit, { logger })
    : undefined;
  let handler: StreamableHttpHandler | undefined;
  const sessionMetrics = createSessionMetrics({
    sessions: () => handler?.sessionCount ?? 0,
    portForwards: () => handler?.portForwardCount ?? 0,
  });
  handler = createStreamableHttpHandler(dependencies, {
    maxRequestBodyBytes: maxBodyBytes,
    maxSessions: config.maxSessions,
    maxSessionsPerPrincipal: config.maxSessionsPerUser,
    idleTimeoutMilliseconds: config.sessionIdleTimeout,
    clientGoneGraceMilliseconds: config.sessionDisconnectGrace,
    portForwardIdleMilliseconds: config.portForwardIdleTimeout,
    onSessionEvent: (event) => sessionMetrics.record(event),
  });
  const sessions = handler;
  const listenerHosts = defaultAllowedHosts(host, port);
  const app = createHttpApp({
    endpoint: config.httpEndpoint,
    allowedHosts: [
      ...listenerHosts,
      ...config.allowedHosts,
      ...(config.oauthBaseUrl ? [new URL(config.oauthBaseUrl).host] : []),
    ],
    allowedOrigins: config.allowedOrigins,
    selfOrigins: gatewayOrigins({
      listenerHosts,
      extraHosts: config.allowedHosts,
      baseUrl: config.oauthBaseUrl,
    }),
    maxBodyBytes,
    handleMcp: async (request) => {
      if (!oauth) return sessions.handle(request, identity);
      let result: Awaited<ReturnType<typeof oauth.server.authenticate>>;
      try {
        result = await oauth.server.authenticate(request);
      } catch (error) {
        // The token store is down: the caller can retry; nothing about the cause is theirs to see.
        logger.error({ error: error instanceof Error ? error.message : String(error) }, "token check failed");
        return Response.json(
          { error: { code: "unavailable", message: "The gateway cannot check tokens right now; try again shortly." } },
          { status: 503, headers: { "retry-after": "5" } },
        );
      }
      instruments.metrics.recordDownstreamAuth(result.ok ? "success" : "failure");
      if (!result.ok) return result.response;
      return sessions.handle(request, {
        principal: result.principal,
        oauthClientId: result.clientId,
        catalog: sources.forPrincipal(result.principal),
      });
    },
    ...(oauth ? { routes: oauth.server.routes } : {}),
    onUnexpectedError: (error) =>
      logger.error({ error: error instanceof Error ? error.message : String(error) }, "HTTP request failed"),
    onRequestMeasured: (measured) => instruments.metrics.recordHttpRequest(measured),
    readiness: async () => {
      const readiness = await sources.readiness();
      // /readyz tells the caller only ready or not; why not is the operator's, in the log.
      if (!readiness.ready) logger.warn({ readiness: readiness.detail }, "not ready");
      return readiness;
    },
  });
  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve, reject) => {
    const listening = serveHttp({ fetch: app.fetch, hostname: host, port }, () => resolve(listening));
    listening.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new GatewayError(
          "unavailable",
          error.code === "EADDRINUSE"
            ? `--http-addr ${config.httpAddr} is already in use.`
            : `Cannot listen on ${config.httpAddr}: ${error.message}`,
        ),
      ),
    );
  });
  const endpoint = `http://${host.includes(":") ? `[${host}]` : host}:${port}${config.httpEndpoint}`;
  logger.info({ endpoint }, "capi-mcp serving MCP on streamable HTTP");
  return {
    endpoint,
    async close() {
      await sessions.closeAll();
      await oauth?.close();
      await sources.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Streams (GET /mcp) keep connections open; end them so shutdown does not hang.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await audit.close();
      await metricsSetup.close();
      await tracing?.shutdown();
    },
  };
}
