import { createPrometheusMetrics } from "@capi-mcp/telemetry";
import { describe, expect, it } from "vitest";
import { createMetricsApp, listenMetrics, parseListenAddress } from "./metrics-listener.js";

describe("the metrics listener", () => {
  it("reads :port as every interface and host:port as that host", () => {
    expect(parseListenAddress(":9090")).toEqual({ host: undefined, port: 9090 });
    expect(parseListenAddress("127.0.0.1:9090")).toEqual({ host: "127.0.0.1", port: 9090 });
    expect(parseListenAddress("[::1]:9091")).toEqual({ host: "::1", port: 9091 });
  });

  it("serves GET /metrics in the Prometheus text format and nothing else", async () => {
    const app = createMetricsApp(
      async () => "up 1\n",
      () => {},
    );
    const metrics = await app.request("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await metrics.text()).toBe("up 1\n");
    const elsewhere = await app.request("/mcp");
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await app.request("/metrics", { method: "POST" })).status).toBe(405);
  });

  it("answers 500 with JSON, and reports the cause, when collection fails", async () => {
    const errors: unknown[] = [];
    const app = createMetricsApp(
      async () => {
        throw new Error("collector broke");
      },
      (error) => errors.push(error),
    );
    const response = await app.request("/metrics");
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("collector broke");
    expect(errors).toHaveLength(1);
  });

  it("serves the SDK's instruments on a loopback port and stops when closed", async () => {
    const prometheus = createPrometheusMetrics({ serviceName: "capi-mcp-test", serviceVersion: "9.9.9" });
    prometheus.meter.createCounter("http_requests_total").add(3, { method: "GET", path: "/mcp", status: "200" });
    const listener = await listenMetrics(
      "127.0.0.1:0",
      createMetricsApp(
        () => prometheus.scrape(),
        () => {},
      ),
    );
    try {
      const text = await (await fetch(listener.url)).text();
      expect(text).toContain('http_requests_total{method="GET",path="/mcp",status="200"} 3');
      expect(text).toContain('target_info{service_name="capi-mcp-test",service_version="9.9.9"} 1');
    } finally {
      await listener.close();
      await prometheus.shutdown();
    }
    await expect(fetch(listener.url)).rejects.toThrow();
  });

  it("says which option is at fault when the address is taken", async () => {
    const first = await listenMetrics(
      "127.0.0.1:0",
      createMetricsApp(
        async () => "",
        () => {},
      ),
    );
    try {
      const port = new URL(first.url).port;
      await expect(
        listenMetrics(
          `127.0.0.1:${port}`,
          createMetricsApp(
            async () => "",
            () => {},
          ),
        ),
      ).rejects.toThrow(`--metrics-addr 127.0.0.1:${port} is already in use.`);
    } finally {
      await first.close();
    }
  });
});
