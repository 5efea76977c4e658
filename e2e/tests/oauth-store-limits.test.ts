// The Redis token store under abuse: a value that fails to decrypt is refused and reported (one
// log line with the key and the reason, never the value), and registrations stop at the cap with
// a 503 while a user who signed in earlier keeps refreshing. Real redis-server, real gateway.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { freePorts } from "../fleet/processes.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import {
  initializeWithBearer,
  loginThroughGateway,
  type OAuthGateway,
  type RedisTokenStore,
  registerClient,
  startRedisOAuthGateway,
  startRedisTokenStore,
} from "../gateway/oauth-flow.ts";

let info: FleetInfo;
let store: RedisTokenStore;

beforeAll(async () => {
  info = await fleetInfo();
  store = await startRedisTokenStore("capi-mcp-store-limits-");
});

afterAll(async () => {
  await store?.stop();
});

function redisGateway(extra: readonly string[] = []): Promise<OAuthGateway> {
  return startRedisOAuthGateway(info, store, extra);
}

function logLines(gateway: OAuthGateway, event: string): Record<string, unknown>[] {
  return gateway
    .stderr()
    .split("\n")
    .filter((line) => line.includes(event))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The gateway's log lines for an event once `expected` of them have been written: its stderr is a
 * pipe, read asynchronously, so a line can trail the answer that caused it by a few milliseconds.
 */
async function loggedLines(gateway: OAuthGateway, event: string, expected: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5_000;
  let lines = logLines(gateway, event);
  while (lines.length < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    lines = logLines(gateway, event);
  }
  return lines;
}

async function mcpStatus(gateway: OAuthGateway, accessToken: string): Promise<number> {
  const response = await initializeWithBearer(gateway.endpoint, accessToken, "limits");
  await response.body?.cancel();
  return response.status;
}

describe("the Redis token store under abuse", () => {
  it("refuses a tampered or moved token record and logs one event per failure with the key and reason, never the value", async () => {
    const gateway = await redisGateway();
    const raw = new Redis(store.redis.url);
    try {
      const alice = await loginThroughGateway(info, gateway, "alice");
      const accessToken = String(alice.provider.tokens()?.access_token);
      await alice.close();
      expect(await mcpStatus(gateway, accessToken)).toBe(200);

      const [accessKey, ...others] = await raw.keys("capi-mcp:authorization-server:access-token:*");
      expect(accessKey).toBeDefined();
      expect(others).toEqual([]);
      const [grantKey] = await raw.keys("capi-mcp:authorization-server:grant:*");
      // Another record's genuine ciphertext under this key: the key is the AAD, so it fails.
      const moved = String(await raw.get(String(grantKey)));
      const ttl = await raw.ttl(String(accessKey));
      await raw.set(String(accessKey), moved, "EX", ttl);
      expect(await mcpStatus(gateway, accessToken)).toBe(401);
      await raw.set(String(accessKey), "not-a-ciphertext!", "EX", ttl);
      expect(await mcpStatus(gateway, accessToken)).toBe(401);

      const storeKey = String(accessKey).slice("capi-mcp:".length);
      const failures = await loggedLines(gateway, "token_store_decryption_failed", 2);
      expect(failures.map((line) => [line.key, line.reason])).toEqual([
        [storeKey, "authentication-failed"],
        [storeKey, "malformed"],
      ]);
      const stderr = gateway.stderr();
      for (const secret of [accessToken, moved, "not-a-ciphertext!"]) expect(stderr).not.toContain(secret);
    } finally {
      raw.disconnect();
      await gateway.stop();
    }
  });

  it("stops registrations at the cap with 503 while a user who signed in earlier refreshes and calls tools", async () => {
    const gateway = await redisGateway(["--max-registered-clients", "3"]);
    const raw = new Redis(store.redis.url);
    try {
      await raw.del("capi-mcp:authorization-server:registered-clients");
      const alice = await loginThroughGateway(info, gateway, "alice");
      const tokens = alice.provider.tokens();
      const clientId = String(alice.provider.clientInformation()?.client_id);
      await alice.close();
      const [port] = await freePorts(1);
      const redirectUri = `http://127.0.0.1:${port}/callback`;
      await registerClient(gateway, redirectUri);
      await registerClient(gateway, redirectUri);
      const refused = await fetch(`${gateway.baseUrl}/oauth/register`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${gateway.registrationToken}` },
        body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: "none" }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("60");
      expect(await refused.json()).toMatchObject({ error: "temporarily_unavailable" });
      expect(await raw.zcard("capi-mcp:authorization-server:registered-clients")).toBe(3);
      expect(await loggedLines(gateway, "registration_capacity_reached", 1)).toHaveLength(1);

      const refreshed = await fetch(`${gateway.baseUrl}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: String(tokens?.refresh_token),
          client_id: clientId,
        }).toString(),
      });
      expect(refreshed.status).toBe(200);
      const fresh = (await refreshed.json()) as { access_token: string };
      expect(await mcpStatus(gateway, fresh.access_token)).toBe(200);
    } finally {
      raw.disconnect();
      await gateway.stop();
    }
  });
});
