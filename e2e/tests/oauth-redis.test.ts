// With the Redis token store, a login survives a gateway restart, and what Redis holds is
// encrypted: no identity, no token, nothing readable.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../../packages/oauth/src/store/testing/redis-server.ts";
import type { FleetInfo } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import { loginThroughGateway, type OAuthGateway, startOAuthGateway } from "../gateway/oauth-flow.ts";

let info: FleetInfo;
let scratch: string;
let redis: RedisServer;
let keyFile: string;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-redis-"));
  redis = await startRedisServer();
  keyFile = path.join(scratch, "token-encryption.key");
  await writeFile(keyFile, randomBytes(32).toString("base64"), { mode: 0o600 });
});

afterAll(async () => {
  await redis?.stop();
  await rm(scratch, { recursive: true, force: true });
});

function redisGateway(): Promise<OAuthGateway> {
  return startOAuthGateway(info, scratch, {
    kubeAuth: "impersonation",
    extraArguments: ["--token-store", "redis", "--redis-url", redis.url, "--token-encryption-key-file", keyFile],
  });
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
      const initialize = await fetch(second.endpoint, {
        method: "POST",
        headers: {
          authorization: `Bearer ${accessToken}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-11-25",
            capabilities: {},
            clientInfo: { name: "after-restart", version: "1" },
          },
        }),
      });
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

    const raw = new Redis(redis.url);
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
      for (const secret of ["alice", "example.com", "acme-dev", accessToken, refreshToken, "eyJ", '"sub"']) {
        expect(everything).not.toContain(secret);
      }
    } finally {
      raw.disconnect();
    }
  });
});
