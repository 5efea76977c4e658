// The metrics listener: a second HTTP server, apart from the MCP port, that serves only
// GET /metrics in the Prometheus text format. Apart so that the Ingress and the MCP port never
// expose it, and so a scrape never waits behind MCP traffic or its Host checks (Prometheus
// scrapes by pod IP). It carries counts and durations only: no user, token or object name.
import type { AddressInfo } from "node:net";
import { GatewayError } from "@capi-mcp/core";
import { prometheusContentType } from "@capi-mcp/telemetry";
import { serve as serveHttp } from "@hono/node-server";
import { Hono } from "hono";

export const metricsPath = "/metrics";

/** `host:port`, `[v6]:port` or `:port` (every interface, as the chart writes it). */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const index = address.lastIndexOf(":");
  const host = address.slice(0, index).replace(/^\[|\]$/g, "");
  return { host: host === "" ? undefined : host, port: Number(address.slice(index + 1)) };
}

export function createMetricsApp(scrape: () => Promise<string>, onError: (error: unknown) => void): Hono {
  const app = new Hono();
  app.get(metricsPath, async (context) => {
    const text = await scrape();
    return context.body(text, 200, { "content-type": prometheusContentType });
  });
  app.all(metricsPath, (context) =>
    context.json({ error: { code: "method_not_allowed", message: "Use GET on /metrics." } }, 405),
  );
  app.notFound((context) =>
    context.json(
      { error: { code: "not_found", message: `Nothing is served at ${context.req.path}; metrics are at /metrics.` } },
      404,
    ),
  );
  app.onError((error, context) => {
    onError(error);
    return context.json({ error: { code: "internal", message: "Metrics could not be collected." } }, 500);
  });
  return app;
}

export interface MetricsListener {
  /** The URL of /metrics as this process can reach it. */
  readonly url: string;
  close(): Promise<void>;
}

export async function listenMetrics(address: string, app: Hono): Promise<MetricsListener> {
  const { host, port } = parseListenAddress(address);
  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve, reject) => {
    const listening = serveHttp({ fetch: app.fetch, port, ...(host ? { hostname: host } : {}) }, () =>
      resolve(listening),
    );
    listening.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new GatewayError(
          "unavailable",
          error.code === "EADDRINUSE"
            ? `--metrics-addr ${address} is already in use.`
            : `Cannot listen on --metrics-addr ${address}: ${error.message}`,
        ),
      ),
    );
  });
  const bound = server.address() as AddressInfo;
  const urlHost = host === undefined ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${bound.port}${metricsPath}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
