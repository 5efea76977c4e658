import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createOtlpMetrics } from "./otlp-metrics.js";

interface Received {
  readonly url: string | undefined;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function collector(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ url: request.url, contentType: request.headers["content-type"], body: Buffer.concat(chunks) });
      response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`, received };
}

describe("OTLP metric push", () => {
  it("sends nothing before the interval, and exports what was measured on shutdown", async () => {
    const { url, received } = await collector();
    const otlp = createOtlpMetrics({
      url,
      serviceName: "otlp-test",
      serviceVersion: "0.0.0",
      exportIntervalMilliseconds: 60_000,
      exportTimeoutMilliseconds: 30_000,
    });
    otlp.meter.createCounter("http_requests_total").add(3, { status: "200" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([]);
    await otlp.shutdown();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ url: "/v1/metrics", contentType: "application/x-protobuf" });
    expect(received[0]?.body.includes("http_requests_total")).toBe(true);
    expect(received[0]?.body.includes("otlp-test")).toBe(true);
  });

  it("exports on force flush, at the URL it was given", async () => {
    const { url, received } = await collector();
    const otlp = createOtlpMetrics({
      url,
      serviceName: "otlp-test",
      serviceVersion: "0.0.0",
      exportIntervalMilliseconds: 60_000,
      exportTimeoutMilliseconds: 1000,
    });
    try {
      otlp.meter.createHistogram("mcp_kubernetes_operation_duration_seconds").record(0.2);
      await otlp.forceFlush();
      expect(received.map((request) => request.url)).toEqual(["/v1/metrics"]);
      expect(received[0]?.body.includes("mcp_kubernetes_operation_duration_seconds")).toBe(true);
    } finally {
      await otlp.shutdown();
    }
  });
});
