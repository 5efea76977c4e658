import { randomBytes } from "node:crypto";
import { GatewayError } from "@capi-mcp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenStore } from "../contracts.js";
import { createEncryptedTokenStore } from "../store/encrypted-token-store.js";
import { createMemoryTokenStore } from "../store/memory-token-store.js";
import { createRedisTokenStore } from "../store/redis-token-store.js";
import { type RedisServer, startRedisServer } from "../store/testing/redis-server.js";
import {
  authorizationParameters,
  authorizePath,
  clientRedirect,
  createHarness,
  type Harness,
  mcpRequest,
  obtainCode,
  pkcePair,
  redeem,
  refresh,
  registerClient,
  registrationToken,
  signIn,
  type TokenResponse,
} from "./testing/harness.js";
import type { AuthorizationServerOptions } from "./types.js";

function register(harness: Harness, headers: Record<string, string> = {}): Promise<Response> {
  return harness.request("/oauth/register", {
    method: "POST",
    headers: { authorization: `Bearer ${registrationToken}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ redirect_uris: [clientRedirect], token_endpoint_auth_method: "none" }),
  });
}

function capped(maxClients: number, overrides: Partial<AuthorizationServerOptions> = {}): Harness {
  return createHarness({
    registration: { accessToken: registrationToken, allowPublic: false, maxClients },
    ...overrides,
  });
}

async function authorizeStatus(harness: Harness, clientId: string): Promise<number> {
  const response = await harness.request(
    authorizePath(authorizationParameters({ clientId, challenge: pkcePair().challenge })),
  );
  return response.status;
}

describe("the registered-client cap", () => {
  it("answers 503 temporarily_unavailable with Retry-After once the cap is reached, and stores nothing more", async () => {
    const harness = capped(3);
    for (let index = 0; index < 3; index += 1) {
      expect((await register(harness)).status).toBe(201);
    }
    const refused = await register(harness);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.headers.get("content-type")).toBe("application/json");
    const body = (await refused.json()) as { error: string; error_description: string };
    expect(body.error).toBe("temporarily_unavailable");
    expect(body.error_description).toContain("(3)");
    expect(harness.events.at(-1)).toMatchObject({ type: "registration_refused", code: "capacity" });
    const clientRecords = harness.store.dump().filter((entry) => entry.startsWith("authorization-server:client:"));
    expect(clientRecords).toHaveLength(3);
  });

  it("drops a client that never completed a sign-in after the unused lifetime, giving its place back", async () => {
    const harness = capped(1, { lifetimes: { unusedClientRegistrationSeconds: 600 } });
    const unused = await registerClient(harness);
    expect((await register(harness)).status).toBe(503);
    harness.advance(599);
    expect(await authorizeStatus(harness, unused.clientId)).toBe(302);
    harness.advance(1);
    expect(await authorizeStatus(harness, unused.clientId)).toBe(400);
    expect((await register(harness)).status).toBe(201);
  });

  it("keeps a client whose sign-in completed for the full registration lifetime, holding its place", async () => {
    const harness = capped(1, { lifetimes: { unusedClientRegistrationSeconds: 600 } });
    const { client } = await signIn(harness);
    harness.advance(24 * 60 * 60);
    expect(await authorizeStatus(harness, client.clientId)).toBe(302);
    expect((await register(harness)).status).toBe(503);
    harness.advance(180 * 24 * 60 * 60);
    expect(await authorizeStatus(harness, client.clientId)).toBe(400);
  });

  it("answers 503, not 500, when the store itself cannot keep state, on JSON and browser endpoints", async () => {
    const unavailable = () =>
      Promise.reject(new GatewayError("unavailable", "The token store is full; try again later."));
    const failures: unknown[] = [];
    const harness = createHarness({ onUnexpectedError: (error) => failures.push(error) });
    const client = await registerClient(harness);
    harness.store.set = unavailable;
    harness.store.addToBoundedSet = unavailable;
    const registration = await register(harness);
    expect(registration.status).toBe(503);
    expect(((await registration.json()) as { error: string }).error).toBe("temporarily_unavailable");
    const page = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkcePair().challenge })),
    );
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("Try again shortly");
    expect(failures).toHaveLength(2);
  });
});

// A flood of registrations against the real stores: before the cap, it filled the memory store
// and every sign-in and refresh answered 500; with Redis nothing bounded it at all.
const cap = 25;
let redis: RedisServer;
const opened: TokenStore[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await redis?.stop();
});

const stores: [string, () => Promise<TokenStore>][] = [
  // The gateway reserves room for the cap on top of what sign-in state may use (oauth-setup);
  // here the store holds only a little more than the registrations could, so starving shows.
  ["the memory store", async () => createMemoryTokenStore({ maxEntries: 2 * cap + 40 })],
  [
    "real Redis, encrypted",
    async () =>
      createEncryptedTokenStore(
        await createRedisTokenStore({ url: redis.url, keyPrefix: `cap-${randomBytes(6).toString("hex")}:` }),
        randomBytes(32),
      ),
  ],
];

describe.each(stores)("a registration flood against %s", (_name, open) => {
  it("is refused with 503 at the cap while earlier clients still authorize, sign in and refresh", async () => {
    const store = await open();
    opened.push(store);
    const harness = capped(cap, { store });
    const signedIn = await signIn(harness);
    const registeredEarlier = await registerClient(harness);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3 * cap; attempt += 1) {
      // Many source addresses, as in the report: the per-address limit is not what stops them.
      statuses.push((await register(harness, { "x-test-address": `10.0.${attempt >> 8}.${attempt & 255}` })).status);
    }
    expect(statuses.filter((status) => status === 201)).toHaveLength(cap - 2);
    expect(statuses.filter((status) => status === 503)).toHaveLength(2 * cap + 2);
    expect(statuses.every((status) => status === 201 || status === 503)).toBe(true);
    expect(await store.boundedSetSize("authorization-server:registered-clients")).toBe(cap);

    // A new client cannot register now, but one registered earlier signs in from the start…
    const pkce = pkcePair();
    const code = await obtainCode(harness, registeredEarlier, pkce);
    expect((await redeem(harness, registeredEarlier, code, pkce.verifier)).status).toBe(200);
    // …and one signed in earlier refreshes.
    const refreshed = await refresh(harness, signedIn.client, String(signedIn.tokens.refresh_token));
    expect(refreshed.status).toBe(200);
    const tokens = (await refreshed.json()) as TokenResponse;
    expect((await harness.server.authenticate(mcpRequest(tokens.access_token))).ok).toBe(true);
  });
});
