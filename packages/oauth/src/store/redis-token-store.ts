import { isIP } from "node:net";
import { GatewayError } from "@capi-mcp/core";
import { Redis, type RedisOptions } from "ioredis";
import type { TokenStore } from "../contracts.js";
import { wholeSeconds, wrongKindError } from "./entry-lifetime.js";

export interface RedisTokenStoreOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS. */
  readonly url: string;
  /** Put in front of every key (e.g. `capi-mcp:`), so the gateway can share a Redis. Not empty. */
  readonly keyPrefix: string;
  /**
   * Bound on connecting (TCP, TLS, authentication and the ready check) and on each command.
   * Default 5000.
   */
  readonly connectTimeoutMilliseconds?: number;
}

const defaultConnectTimeoutMilliseconds = 5000;
const unreachableMessage = "The token store (Redis) is unreachable.";

// SADD and EXPIRE in one atomic step. The set's lifetime only ever grows: a later, shorter-lived
// member must not cut short the members added before it. (`EXPIRE … GT` would say this, but it
// needs Redis 7 and ignores sets without a lifetime; PTTL is -1 for the set SADD just created.)
// PTTL rather than TTL, which rounds and could keep a lifetime up to half a second too short.
const addToSetScript = `
redis.call("SADD", KEYS[1], ARGV[1])
if redis.call("PTTL", KEYS[1]) < tonumber(ARGV[2]) * 1000 then
  redis.call("EXPIRE", KEYS[1], ARGV[2])
end
return 1
`;

// A bounded set is a sorted set scored by each member's expiry (ms, on Redis's own clock, so
// replicas with skewed clocks agree). Dropping the expired, counting, and adding happen in one
// script: two replicas cannot both take the last place. The key lives as long as its
// longest-lived member.
const dropExpiredMembers = `
local clock = redis.call("TIME")
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
`;
const addToBoundedSetScript = `${dropExpiredMembers}
if redis.call("ZSCORE", KEYS[1], ARGV[1]) == false and redis.call("ZCARD", KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call("ZADD", KEYS[1], now + tonumber(ARGV[3]) * 1000, ARGV[1])
local last = redis.call("ZRANGE", KEYS[1], -1, -1, "WITHSCORES")
redis.call("PEXPIREAT", KEYS[1], last[2])
return 1
`;
const boundedSetSizeScript = `${dropExpiredMembers}
return redis.call("ZCARD", KEYS[1])
`;

interface ParsedUrl {
  readonly connection: RedisOptions;
  /** Every spelling of the password (and the whole URL) that could appear in an error text. */
  readonly secrets: readonly string[];
}

/**
 * The store for several replicas. `take` is `GETDEL` (Redis ≥ 6.2), atomic across replicas.
 *
 * Connects before resolving, so a gateway with an unreachable Redis fails at start-up with an
 * `unavailable` error rather than on its first login. Afterwards ioredis reconnects on its own;
 * while it is disconnected, commands fail at once as `unavailable` (no offline queue), so a
 * request never waits on a Redis that is not there.
 *
 * Errors carry a detail for operators with any credentials removed, and never the ioredis error
 * itself as `cause`: ioredis attaches the command's arguments (the stored values) to its errors.
 */
export async function createRedisTokenStore(options: RedisTokenStoreOptions): Promise<TokenStore> {
  if (options.keyPrefix === "") {
    throw new GatewayError("invalid_input", "The Redis token store needs a key prefix (for example `capi-mcp:`).");
  }
  const timeout = options.connectTimeoutMilliseconds ?? defaultConnectTimeoutMilliseconds;
  if (!Number.isSafeInteger(timeout) || timeout < 1) {
    throw new GatewayError("invalid_input", "The Redis connect timeout must be a positive number of milliseconds.");
  }
  const { connection, secrets } = parseRedisUrl(options.url);
  const scrub = (text: string): string => scrubSecrets(text, secrets);

  const client = new Redis({
    ...connection,
    lazyConnect: true,
    connectTimeout: timeout,
    commandTimeout: timeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // CLIENT SETINFO is Redis 7.2+; older servers answer with an error nobody needs to see.
    disableClientInfo: true,
  });
  let lastConnectionError: string | undefined;
  // Without a listener ioredis prints its errors to the console; here they become the detail of
  // the next failing call instead.
  client.on("error", (error: unknown) => {
    lastConnectionError = scrub(describe(error));
  });
  client.on("ready", () => {
    lastConnectionError = undefined;
  });
  // Where, without credentials: worth knowing for an operator, never a secret.
  const target = `${connection.host}:${connection.port}/${connection.db}`;

  await connect(client, timeout, target, () => lastConnectionError);

  const prefix = options.keyPrefix;
  let closed = false;

  async function run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    if (closed) {
      throw new GatewayError("unavailable", "The token store is closed.");
    }
    try {
      return await command();
    } catch (error) {
      const text = scrub(describe(error));
      if (text.startsWith("WRONGTYPE")) {
        throw wrongKindError(`${operation}: ${text}`);
      }
      const connectionNote =
        client.status === "ready" ? "" : ` (connection to ${target} ${client.status}${suffix(lastConnectionError)})`;
      throw new GatewayError("unavailable", unreachableMessage, { detail: `${operation}: ${text}${connectionNote}` });
    }
  }

  return {
    async set(key, value, ttlSeconds) {
      const lifetime = wholeSeconds(ttlSeconds);
      await run("SET", () => client.set(prefix + key, value, "EX", lifetime));
    },
    async get(key) {
      return (await run("GET", () => client.get(prefix + key))) ?? undefined;
    },
    async take(key) {
      return (await run("GETDEL", () => client.getdel(prefix + key))) ?? undefined;
    },
    async delete(...keys) {
      if (keys.length === 0) {
        return;
      }
      await run("DEL", () => client.del(...keys.map((key) => prefix + key)));
    },
    async addToSet(key, member, ttlSeconds) {
      const lifetime = wholeSeconds(ttlSeconds);
      await run("SADD", () => client.eval(addToSetScript, 1, prefix + key, member, lifetime));
    },
    async members(key) {
      return await run("SMEMBERS", () => client.smembers(prefix + key));
    },
    async addToBoundedSet(key, member, limit, ttlSeconds) {
      const lifetime = wholeSeconds(ttlSeconds);
      const added = await run("ZADD", () =>
        client.eval(addToBoundedSetScript, 1, prefix + key, member, limit, lifetime),
      );
      return added === 1;
    },
    async removeFromBoundedSet(key, member) {
      await run("ZREM", () => client.zrem(prefix + key, member));
    },
    async boundedSetSize(key) {
      return Number(await run("ZCARD", () => client.eval(boundedSetSizeScript, 1, prefix + key)));
    },
    async close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        // QUIT lets pending replies arrive; when Redis is already gone it fails, and
        // disconnect below still stops the reconnect loop.
        await client.quit();
      } catch {
        // Nothing to report: the connection is being dropped either way.
      } finally {
        client.disconnect();
      }
    },
  };
}

async function connect(
  client: Redis,
  timeout: number,
  target: string,
  lastError: () => string | undefined,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timed out">((resolve) => {
    // ioredis bounds the TCP connect; this also bounds a server that accepts and never answers.
    timer = setTimeout(() => resolve("timed out"), timeout);
  });
  try {
    const outcome = await Promise.race([client.connect().then(() => "connected" as const), timedOut]);
    if (outcome === "timed out") {
      client.disconnect();
      throw new GatewayError("unavailable", unreachableMessage, {
        detail: `no ready connection to ${target} within ${timeout} ms${suffix(lastError())}`,
      });
    }
  } catch (error) {
    if (error instanceof GatewayError) {
      throw error;
    }
    // A failed first connection is final: stop ioredis from retrying in the background.
    client.disconnect();
    throw new GatewayError("unavailable", unreachableMessage, {
      detail: `connecting to ${target} failed${suffix(lastError())}`,
    });
  } finally {
    clearTimeout(timer);
  }
}

function suffix(text: string | undefined): string {
  return text === undefined ? "" : `: ${text}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The URL's parts as ioredis options. Parsed here rather than by ioredis so that a bad URL is
 * refused without echoing it (it may hold a password) and query parameters cannot quietly change
 * the client's options.
 */
function parseRedisUrl(text: string): ParsedUrl {
  const expected = "expected redis://[user:password@]host[:port][/db] or rediss://… for TLS";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayError("invalid_input", `--redis-url: not a valid URL (${expected}).`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new GatewayError("invalid_input", `--redis-url: the scheme must be redis: or rediss: (${expected}).`);
  }
  // Brackets belong to the URL syntax of an IPv6 address, not to the address.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") {
    throw new GatewayError("invalid_input", `--redis-url: no host (${expected}).`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new GatewayError(
      "invalid_input",
      `--redis-url: query parameters and fragments are not supported (${expected}).`,
    );
  }
  const path = url.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,5}$/.test(path)) {
    throw new GatewayError("invalid_input", `--redis-url: the path must be a database number (${expected}).`);
  }
  const username = safeDecode(url.username);
  const password = safeDecode(url.password);
  const connection: RedisOptions = {
    host,
    port: url.port === "" ? 6379 : Number(url.port),
    db: path === "" ? 0 : Number(path),
    ...(username === "" ? {} : { username }),
    ...(password === "" ? {} : { password }),
    // Node sends the host name for SNI and checks the certificate against it; an IP address
    // is checked against the certificate's IP entries instead.
    ...(url.protocol === "rediss:" ? { tls: isIP(host) === 0 ? { servername: host } : {} } : {}),
  };
  // The user name is not a secret, and masking a common word like "default" would garble details.
  return { connection, secrets: [text, url.password, password].filter((secret) => secret !== "") };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Removes credentials from a text meant for operators. The known secrets are replaced wherever
 * they appear, and any `//user:password@` is masked too, in case a library quotes a URL we never
 * gave it in that form.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    scrubbed = scrubbed.split(secret).join("***");
  }
  return scrubbed.replace(/\/\/[^/\s@]*@/g, "//***@");
}
