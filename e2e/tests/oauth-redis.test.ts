// With the Redis token store, a login survives a gateway restart, and what Redis holds is
// encrypted: no identity, no token, nothing readable.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import {
  initializeWithBearer,
  loginThroughGateway,
  type OAuthGateway,
  type RedisTokenStore,
  startRedisOAuthGateway,
  startRedisTokenStore,
} from "../gateway/oauth-flow.ts";

let info: FleetInfo;
let store: RedisTokenStore;

beforeAll(async () => {
  info = await fleetInfo();
  store = await startRedisTokenStore("capi-mcp-redis-");
});

afterAll(async () => {
  await store?.stop();
});

function redisGateway(): Promise<OAuthGateway> {
  return startRedisOAuthGateway(info, store);
}

describe("capi-mcp with the Redis token store", () => {
  it("keeps a login across a gateway restart, and stores nothing readable in Redis", async () => {
    const first = await redisGateway();
    let accessToken: string;
    let refreshToken: string;
    try {
      const alice = await loginThroughGateway(info, first, "alice");
      accessToken = String(alice.provider.tokens()?.access_token);
      refreshToken = String(alice.provider.tokens()?.refresh_token);
      await alice.close();
    } finally {
      await first.stop();
    }

    const second = await redisGateway();
    try {
      const initialize = await initializeWithBearer(second.endpoint, accessToken, "after-restart");
      expect(initialize.status).toBe(200);
      const sessionId = String(initialize.headers.get("mcp-session-id"));
      const call = await fetch(second.endpoint, {
        method: "POST",
        headers: {
          authorization: `Bearer ${accessToken}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-session-id": sessionId,
          "mcp-protocol-version": "2025-11-25",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "k8s_list_resources", arguments: { resource: "pods", namespace: "web" } },
        }),
      });
      const answer = (await call.json()) as { result: { content: { text: string }[]; isError: boolean } };
      expect(answer.result.isError, resultText(answer.result as never)).toBe(false);
      expect(answer.result.content[0]?.text).toContain("frontend-5d8f7c9b6");
    } finally {
      await second.stop();
    }

    const raw = new Redis(store.redis.url);
    try {
      const keys = await raw.keys("capi-mcp:*");
      expect(keys.length).toBeGreaterThan(0);
      const values: string[] = [];
      for (const key of keys) {
        const type = await raw.type(key);
        if (type === "string") values.push(String(await raw.get(key)));
        if (type === "set") values.push(...(await raw.smembers(key)));
      }
      const everything = [...keys, ...values].join("\n");
      for (const secret of ["alice", "example.com", "acme-dev", accessToken, refreshToken, '"sub"']) {
        expect(everything).not.toContain(secret);
      }
      // No JWT in clear (an ID token from custody). Not the bare "eyJ" prefix: three characters
      // turn up by chance in a few kilobytes of base64 ciphertext, which made this test flaky.
      expect(everything).not.toMatch(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/);
    } finally {
      raw.disconnect();
    }
  });
});
