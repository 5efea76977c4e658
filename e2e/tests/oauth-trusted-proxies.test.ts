// Behind a reverse proxy every connection comes from the proxy. With --trusted-proxies the gateway
// reads the client's address from the proxy's X-Forwarded-For, so one anonymous client flooding
// the OAuth endpoints exhausts its own rate-limit bucket and nobody else's; a forged header,
// through the proxy or around it, changes nothing. A real haproxy runs in front of the real
// gateway on loopback, and each client sends from a loopback address of its own.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { freePorts } from "../fleet/processes.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { type OAuthGateway, startOAuthGateway } from "../gateway/oauth-flow.ts";
import { type ReverseProxy, sendFrom, startHaproxy } from "../gateway/oauth-reverse-proxy.ts";

const proxySource = "127.0.0.10";
const flooder = "127.0.0.2";
const bystander = "127.0.0.3";
/** Past the per-address burst (60) with room for the refill (1 per second) while sending. */
const floodRequests = 75;

let info: FleetInfo;
let scratch: string;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-proxies-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The gateway behind haproxy; each test gets a fresh pair, so rate-limit buckets start full. */
async function behindProxy(
  trustedProxies: string | undefined,
): Promise<{ gateway: OAuthGateway; proxy: ReverseProxy }> {
  const [proxyPort = 0] = await freePorts(1);
  const gateway = await startOAuthGateway(info, scratch, {
    kubeAuth: "impersonation",
    extraArguments: [
      // The Host the proxy passes on: in production the base URL's host; here the proxy's port.
      "--allowed-hosts",
      `127.0.0.1:${proxyPort}`,
      ...(trustedProxies === undefined ? [] : ["--trusted-proxies", trustedProxies]),
    ],
  });
  try {
    const proxy = await startHaproxy({ backendPort: info.gateway.port, sourceAddress: proxySource, port: proxyPort });
    return { gateway, proxy };
  } catch (error) {
    await gateway.stop();
    throw error;
  }
}

/** An anonymous token request: refused as 401 invalid_client, or 429 once over the limit. */
function tokenRequest(source: string, baseUrl: string, headers: Record<string, string> = {}) {
  return sendFrom(source, `${baseUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: "grant_type=authorization_code",
  });
}

async function flood(source: string, baseUrl: string, forge?: (index: number) => string): Promise<number[]> {
  const statuses: number[] = [];
  for (let index = 0; index < floodRequests; index += 1) {
    const headers: Record<string, string> = forge ? { "x-forwarded-for": forge(index) } : {};
    statuses.push((await tokenRequest(source, baseUrl, headers)).status);
  }
  return statuses;
}

describe("the OAuth rate limits behind a reverse proxy", () => {
  it("without --trusted-proxies, one flooding client locks every other client behind the proxy out", async () => {
    const { gateway, proxy } = await behindProxy(undefined);
    try {
      const statuses = await flood(flooder, proxy.url);
      expect(statuses.at(-1)).toBe(429);
      expect((await tokenRequest(bystander, proxy.url)).status).toBe(429);
    } finally {
      await proxy.stop();
      await gateway.stop();
    }
  });

  it("with --trusted-proxies, the flooding client exhausts only its own bucket", async () => {
    const { gateway, proxy } = await behindProxy(`${proxySource}/32`);
    try {
      const statuses = await flood(flooder, proxy.url);
      expect(statuses.slice(0, 50).every((status) => status === 401)).toBe(true);
      expect(statuses.at(-1)).toBe(429);
      const answer = await tokenRequest(bystander, proxy.url);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "invalid_client" });
      // Still limited a moment later: the bucket was the flooder's, not a shared one.
      expect((await tokenRequest(flooder, proxy.url)).status).toBe(429);
    } finally {
      await proxy.stop();
      await gateway.stop();
    }
  });

  it("a forged X-Forwarded-For through the proxy does not get the flooder a fresh bucket", async () => {
    const { gateway, proxy } = await behindProxy(`${proxySource}/32`);
    try {
      const statuses = await flood(flooder, proxy.url, (index) => `198.51.100.${index % 250}`);
      expect(statuses.at(-1)).toBe(429);
      // Nor does naming the trusted proxy itself, or a chain of addresses.
      expect(
        (await tokenRequest(flooder, proxy.url, { "x-forwarded-for": `${bystander}, ${proxySource}` })).status,
      ).toBe(429);
      expect((await tokenRequest(bystander, proxy.url)).status).toBe(401);
    } finally {
      await proxy.stop();
      await gateway.stop();
    }
  });

  it("a client that goes around the proxy cannot pose as another one with X-Forwarded-For", async () => {
    const { gateway, proxy } = await behindProxy(`${proxySource}/32`);
    try {
      // Straight to the gateway from an address that is not a trusted proxy: its header is ignored,
      // so every request counts against its own address whatever it claims.
      const statuses = await flood(flooder, gateway.baseUrl, (index) => `127.0.0.${100 + (index % 100)}`);
      expect(statuses.at(-1)).toBe(429);
      // Through the proxy the same client is the same client.
      expect((await tokenRequest(flooder, proxy.url)).status).toBe(429);
      expect((await tokenRequest(bystander, gateway.baseUrl)).status).toBe(401);
    } finally {
      await proxy.stop();
      await gateway.stop();
    }
  });
});
