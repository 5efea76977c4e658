import { gatewayErrorCodes } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { createHttpApp, defaultAllowedHosts, gatewayOrigins, type HttpAppOptions, httpStatusOf } from "./http-app.js";

const mcpRequests: Request[] = [];
const unexpected: unknown[] = [];

function app(overrides: Partial<HttpAppOptions> = {}) {
  return createHttpApp({
    endpoint: "/mcp",
    allowedHosts: defaultAllowedHosts("127.0.0.1", 8080),
    allowedOrigins: ["https://console.example.com"],
    maxBodyBytes: 1024,
    handleMcp: async (request) => {
      mcpRequests.push(request);
      return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
    },
    readiness: async () => ({ ready: true, detail: { cluster: "dev" } }),
    onUnexpectedError: (error) => unexpected.push(error),
    ...overrides,
  });
}

const local = { host: "127.0.0.1:8080" };

describe("the gateway's HTTP app", () => {
  it("serves /healthz and /readyz", async () => {
    expect(await (await app().request("/healthz", { headers: local })).json()).toEqual({ status: "ok" });
    const ready = await app().request("/readyz", { headers: local });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    const down = await app({ readiness: async () => ({ ready: false, detail: { error: "unreachable" } }) }).request(
      "/readyz",
      {
        headers: local,
      },
    );
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: "unavailable" });
  });

  it("answers probes whatever the Host (kubelet sends the pod IP), but keeps the Host check on /mcp", async () => {
    const podAddress = { host: "10.1.2.3:8080" };
    expect((await app().request("/healthz", { headers: podAddress })).status).toBe(200);
    const ready = await app().request("/readyz", { headers: podAddress });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    mcpRequests.length = 0;
    const mcp = await app().request("/mcp", { method: "POST", headers: podAddress, body: "{}" });
    expect(mcp.status).toBe(403);
    expect(await mcp.json()).toMatchObject({ error: { code: "invalid_host" } });
    expect(mcpRequests).toHaveLength(0);
    expect((await app().request("/.well-known/oauth-authorization-server", { headers: podAddress })).status).toBe(403);
  });

  it("measures every request by route template, unknown paths as other, refusals included", async () => {
    const measured: { method: string; path: string; status: number }[] = [];
    const measuring = app({
      onRequestMeasured: ({ method, path, status, durationSeconds }) => {
        expect(durationSeconds).toBeGreaterThanOrEqual(0);
        measured.push({ method, path, status });
      },
    });
    await measuring.request("/healthz", { headers: local });
    await measuring.request("/mcp", { method: "POST", headers: local, body: "{}" });
    await measuring.request("/wp-admin/secret-object-name", { headers: local });
    await measuring.request("/mcp", { method: "POST", headers: { host: "attacker.example:8080" } });
    await measuring.request("/mcp", { method: "PURGE", headers: local });
    expect(measured).toEqual([
      { method: "GET", path: "/healthz", status: 200 },
      { method: "POST", path: "/mcp", status: 200 },
      { method: "GET", path: "other", status: 404 },
      { method: "POST", path: "/mcp", status: 403 },
      { method: "OTHER", path: "/mcp", status: 405 },
    ]);
  });

  it("does not serve /metrics on the MCP port: it has its own listener", async () => {
    const response = await app().request("/metrics", { headers: local });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("answers a bad Origin with 403 and never reaches the MCP handler", async () => {
    mcpRequests.length = 0;
    const response = await app().request("/mcp", {
      method: "POST",
      headers: { ...local, origin: "https://evil.example", "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: { code: "invalid_origin", message: 'Origin "https://evil.example" is not allowed.' },
    });
    expect(mcpRequests).toHaveLength(0);
  });

  it("accepts no Origin (a non-browser client), the same origin, and configured origins", async () => {
    for (const origin of [undefined, "http://127.0.0.1:8080", "http://localhost:8080", "https://console.example.com"]) {
      const headers: Record<string, string> = { ...local, "content-type": "application/json" };
      if (origin) headers.origin = origin;
      const response = await app().request("/mcp", { method: "POST", headers, body: "{}" });
      expect(response.status, String(origin)).toBe(200);
    }
  });

  it("compares an Origin's scheme too: an https page is not the same origin as an http listener", async () => {
    mcpRequests.length = 0;
    for (const origin of [
      "https://127.0.0.1:8080",
      "https://localhost:8080",
      "ws://127.0.0.1:8080",
      "http://127.0.0.1:8081",
      "null",
      "file:///tmp/page.html",
      "not a url",
    ]) {
      const response = await app().request("/mcp", {
        method: "POST",
        headers: { ...local, origin, "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status, origin).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code, origin).toBe("invalid_origin");
    }
    expect(mcpRequests).toHaveLength(0);
  });

  it("behind a TLS proxy, takes the public base URL's scheme as the gateway's own and refuses plain http for it", async () => {
    const selfOrigins = gatewayOrigins({
      listenerHosts: defaultAllowedHosts("127.0.0.1", 8080),
      extraHosts: ["mcp.example.com"],
      baseUrl: "https://mcp.example.com",
    });
    expect(selfOrigins).toContain("https://mcp.example.com");
    expect(selfOrigins).toContain("http://127.0.0.1:8080");
    expect(selfOrigins).not.toContain("http://mcp.example.com");
    const behindProxy = app({
      allowedHosts: [...defaultAllowedHosts("127.0.0.1", 8080), "mcp.example.com"],
      allowedOrigins: [],
      selfOrigins,
    });
    const statusFor = async (origin: string) =>
      (
        await behindProxy.request("/mcp", {
          method: "POST",
          headers: { host: "mcp.example.com", origin, "content-type": "application/json" },
          body: "{}",
        })
      ).status;
    expect(await statusFor("https://mcp.example.com")).toBe(200);
    expect(await statusFor("http://mcp.example.com")).toBe(403);
    expect(await statusFor("https://mcp.example.com:8443")).toBe(403);
  });

  it("refuses a Host header it does not serve (DNS rebinding)", async () => {
    const response = await app().request("/mcp", { method: "POST", headers: { host: "attacker.example:8080" } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_host");
  });

  it("refuses a body over the limit with 413 JSON", async () => {
    const response = await app().request("/mcp", {
      method: "POST",
      headers: { ...local, "content-type": "application/json" },
      body: JSON.stringify({ padding: "x".repeat(2048) }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("too_large");
  });

  it("answers unknown paths and methods with JSON errors", async () => {
    const missing = await app().request("/nothing", { headers: local });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const put = await app().request("/mcp", { method: "PUT", headers: local });
    expect(put.status).toBe(405);
  });

  it("turns an unexpected failure into a 500 JSON error without its detail, and reports the detail", async () => {
    unexpected.length = 0;
    const failing = app({
      handleMcp: async () => {
        throw new Error("secret-ish internal detail");
      },
    });
    const response = await failing.request("/mcp", {
      method: "POST",
      headers: { ...local, "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("internal detail");
    expect(unexpected).toHaveLength(1);
  });

  it("maps every error code to an HTTP status: 401 only for a missing login, 403 for refusals, 503 when down", () => {
    expect(Object.keys(httpStatusOf).sort()).toEqual([...gatewayErrorCodes].sort());
    expect(httpStatusOf.unauthenticated).toBe(401);
    expect([httpStatusOf.forbidden, httpStatusOf.denied_by_policy]).toEqual([403, 403]);
    expect(httpStatusOf.cluster_not_found).toBe(httpStatusOf.not_found);
    expect(httpStatusOf.unavailable).toBe(503);
  });
});
