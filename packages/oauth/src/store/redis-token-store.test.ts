import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { GatewayError } from "@capi-mcp/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenStore } from "../contracts.js";
import { createEncryptedTokenStore } from "./encrypted-token-store.js";
import { createRedisTokenStore, scrubSecrets } from "./redis-token-store.js";
import { freeLoopbackPort, type RedisServer, startRedisServer } from "./testing/redis-server.js";
import { describeTokenStoreBehaviour } from "./testing/token-store-behaviour.js";

const password = `pw-${randomBytes(12).toString("hex")}`;
let redis: RedisServer;
let guarded: RedisServer;
let raw: Redis;
const opened: TokenStore[] = [];

beforeAll(async () => {
  // One after the other, so that a failure to start the second still leaves the first to afterAll.
  redis = await startRedisServer();
  guarded = await startRedisServer({ password });
  raw = new Redis({ host: "127.0.0.1", port: redis.port, lazyConnect: true });
  await raw.connect();
}, 30_000);

afterAll(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  raw?.disconnect();
  await Promise.all([redis?.stop(), guarded?.stop()]);
}, 30_000);

/** A store under a prefix of its own, so tests sharing the server never see each other's keys. */
async function openStore(keyPrefix = `test-${randomUUID()}:`, url = redis.url): Promise<TokenStore> {
  const store = await createRedisTokenStore({ url, keyPrefix, connectTimeoutMilliseconds: 2000 });
  opened.push(store);
  return store;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome instanceof GatewayError) {
    return outcome;
  }
  throw new Error(`expected a GatewayError, got ${String(outcome)}`);
}

describeTokenStoreBehaviour("the Redis token store", async () => ({
  store: await openStore(),
  // Redis keeps time itself; a little over the lifetime is enough for it to expire a key.
  elapse: (seconds) => sleep(seconds * 1000 + 150),
}));

describe("the Redis token store against a real redis-server", () => {
  it("puts every key under the prefix, with the lifetime on the Redis key", async () => {
    const prefix = `prefix-${randomUUID()}:`;
    const store = await openStore(prefix);
    await store.set("code:a", "v", 60);
    await store.addToSet("family:f", "token:a", 120);
    expect((await raw.keys(`${prefix}*`)).sort()).toEqual([`${prefix}code:a`, `${prefix}family:f`]);
    expect(await raw.get("code:a")).toBeNull();
    expect(await raw.ttl(`${prefix}code:a`)).toBeGreaterThan(55);
    expect(await raw.ttl(`${prefix}family:f`)).toBeGreaterThan(115);
  });

  it("hands a value to exactly one of 20 concurrent takes from five replicas", async () => {
    const prefix = `race-${randomUUID()}:`;
    const replicas = await Promise.all(Array.from({ length: 5 }, () => openStore(prefix)));
    for (let round = 0; round < 5; round += 1) {
      await replicas[0]?.set(`code:${round}`, `grant-${round}`, 60);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) => replicas[index % replicas.length]?.take(`code:${round}`)),
      );
      expect(results.filter((result) => result === `grant-${round}`)).toHaveLength(1);
      expect(results.filter((result) => result === undefined)).toHaveLength(19);
    }
  });

  it("keeps values and sets across a gateway restart (a new store on the same Redis)", async () => {
    const prefix = `restart-${randomUUID()}:`;
    const key = randomBytes(32);
    const before = createEncryptedTokenStore(await openStore(prefix), key);
    await before.set("refresh:a", '{"user":"ada"}', 60);
    await before.addToSet("family:f", "refresh:a", 60);
    await before.close();

    const after = createEncryptedTokenStore(await openStore(prefix), key);
    expect(await after.get("refresh:a")).toBe('{"user":"ada"}');
    expect(await after.members("family:f")).toEqual(["refresh:a"]);
    expect(await after.take("refresh:a")).toBe('{"user":"ada"}');
  });

  it("stores encrypted values that cannot be read in Redis", async () => {
    const prefix = `encrypted-${randomUUID()}:`;
    const store = createEncryptedTokenStore(await openStore(prefix), randomBytes(32));
    const secret = { idToken: "eyJhbGciOiJSUzI1NiJ9.custody", refreshToken: "upstream-refresh-1234" };
    await store.set("custody:ada", JSON.stringify(secret), 60);

    const stored = await raw.get(`${prefix}custody:ada`);
    expect(stored).not.toBeNull();
    const text = stored ?? "";
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(() => JSON.parse(text)).toThrow();
    for (const fragment of ["eyJhbGci", "custody", "upstream-refresh-1234", "refreshToken", '{"idToken"']) {
      expect(text).not.toContain(fragment);
      expect(Buffer.from(text, "base64url").includes(Buffer.from(fragment))).toBe(false);
    }
    expect(await store.get("custody:ada")).toBe(JSON.stringify(secret));
  });

  it("reads a value tampered with in Redis as absent and reports it", async () => {
    const prefix = `tamper-${randomUUID()}:`;
    const reasons: string[] = [];
    const store = createEncryptedTokenStore(await openStore(prefix), randomBytes(32), {
      onTamper: (event) => reasons.push(event.reason),
    });
    await store.set("token:alice", "alice's grant", 60);
    await raw.set(`${prefix}token:mallory`, (await raw.get(`${prefix}token:alice`)) ?? "", "EX", 60);
    expect(await store.get("token:mallory")).toBeUndefined();
    expect(reasons).toEqual(["authentication-failed"]);
  });

  it("authenticates with the password in the URL", async () => {
    const store = await openStore(undefined, guarded.url);
    await store.set("code:a", "v", 60);
    expect(await store.get("code:a")).toBe("v");
  });

  it("reports a refused connection as unavailable within the timeout, without the password", async () => {
    const port = await freeLoopbackPort();
    const url = `redis://capi:${password}@127.0.0.1:${port}/0`;
    const started = Date.now();
    const error = await failure(
      createRedisTokenStore({ url, keyPrefix: "capi-mcp:", connectTimeoutMilliseconds: 1500 }),
    );
    expect(Date.now() - started).toBeLessThan(1500 + 500);
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("The token store (Redis) is unreachable.");
    expect(error.detail).toContain("ECONNREFUSED");
    expectNoSecret(error);
  });

  it("gives up on a server that accepts and never answers, within the connect timeout", async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const error = await failure(
        createRedisTokenStore({
          url: `redis://:${password}@127.0.0.1:${silent.port}`,
          keyPrefix: "capi-mcp:",
          connectTimeoutMilliseconds: 800,
        }),
      );
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(750);
      expect(elapsed).toBeLessThan(800 + 500);
      expect(error).toMatchObject({ code: "unavailable", message: "The token store (Redis) is unreachable." });
      expect(error.detail).toContain("within 800 ms");
      expectNoSecret(error);
    } finally {
      await silent.close();
    }
  });

  it("reports a wrong password as unavailable, without the password", async () => {
    const wrong = `wrong-${password}`;
    const error = await failure(
      createRedisTokenStore({
        url: `redis://:${wrong}@127.0.0.1:${guarded.port}`,
        keyPrefix: "capi-mcp:",
        connectTimeoutMilliseconds: 2000,
      }),
    );
    expect(error.code).toBe("unavailable");
    expect(error.detail).toMatch(/WRONGPASS|NOAUTH|invalid/i);
    expect(`${error.message} ${error.detail}`).not.toContain(wrong);
  });

  it("fails calls as unavailable, promptly, once Redis has gone away", async () => {
    const doomed = await startRedisServer();
    try {
      const store = await openStore(undefined, doomed.url);
      await store.set("code:a", "v", 60);
      await doomed.stop();
      const started = Date.now();
      const error = await failure(store.get("code:a"));
      expect(Date.now() - started).toBeLessThan(2500);
      expect(error).toMatchObject({ code: "unavailable", message: "The token store (Redis) is unreachable." });
      await store.close();
    } finally {
      await doomed.stop();
    }
  });

  it("refuses a malformed URL without echoing it", async () => {
    const urls = [
      `not a url ${password}`,
      `http://user:${password}@127.0.0.1:6379`,
      `redis://:${password}@127.0.0.1:6379/not-a-db`,
      `redis://:${password}@127.0.0.1:6379/0?password=${password}`,
      `redis://:${password}@:6379`,
    ];
    for (const url of urls) {
      const error = await failure(createRedisTokenStore({ url, keyPrefix: "capi-mcp:" }));
      expect(error.code).toBe("invalid_input");
      expect(error.message).toMatch(/^--redis-url: /);
      expectNoSecret(error);
    }
  });

  it("refuses an empty key prefix", async () => {
    const error = await failure(createRedisTokenStore({ url: redis.url, keyPrefix: "" }));
    expect(error.code).toBe("invalid_input");
  });
});

describe("scrubbing credentials from error details", () => {
  it("masks known secrets and any user:password@ in a URL", () => {
    expect(scrubSecrets("AUTH failed for hunter2 (hunter2)", ["hunter2"])).toBe("AUTH failed for *** (***)");
    expect(scrubSecrets("see redis://admin:s3cr%40t@host:6379", [])).toBe("see redis://***@host:6379");
    expect(scrubSecrets("nothing to hide", ["absent"])).toBe("nothing to hide");
  });
});

function expectNoSecret(error: GatewayError): void {
  for (const text of [error.message, error.detail ?? "", String(error.stack)]) {
    expect(text).not.toContain(password);
  }
  expect(error.cause).toBeUndefined();
}

/** A loopback TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error("no port");
  }
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
