import { describe, expect, it } from "vitest";
import { createAuthorizationServer } from "./authorization-server.js";
import { createFakeUpstream } from "./testing/fake-upstream.js";
import {
  baseUrl,
  createHarness,
  mcpRequest,
  obtainCode,
  pkcePair,
  registerClient,
  signIn,
  type TokenResponse,
  testToPrincipal,
} from "./testing/harness.js";

const resourceMetadata = `${baseUrl}/.well-known/oauth-protected-resource/mcp`;

async function refusal(harness: ReturnType<typeof createHarness>, request: Request) {
  const result = await harness.server.authenticate(request);
  if (result.ok) {
    throw new Error("expected a refusal");
  }
  return {
    status: result.response.status,
    challenge: result.response.headers.get("www-authenticate") ?? "",
    body: (await result.response.json()) as { error: string; error_description: string },
  };
}

describe("authenticate (the /mcp resource-server check)", () => {
  it("answers 401 with resource_metadata and no error code when no token is presented", async () => {
    const harness = createHarness();
    const { status, challenge } = await refusal(harness, mcpRequest(undefined));
    expect(status).toBe(401);
    expect(challenge).toBe(`Bearer resource_metadata="${resourceMetadata}", scope="mcp"`);
  });

  it("treats another authentication scheme like no token", async () => {
    const harness = createHarness();
    const request = new Request(`${baseUrl}/mcp`, { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    const { status, challenge } = await refusal(harness, request);
    expect(status).toBe(401);
    expect(challenge).not.toContain("error=");
  });

  it("refuses the upstream provider's own ID token with 401 invalid_token: no passthrough", async () => {
    const harness = createHarness();
    await signIn(harness);
    const upstreamToken = harness.upstream.issuedIdTokens[0] ?? "";
    expect(upstreamToken.split(".")).toHaveLength(3);
    const { status, challenge, body } = await refusal(harness, mcpRequest(upstreamToken));
    expect(status).toBe(401);
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toContain(`resource_metadata="${resourceMetadata}"`);
    expect(body.error).toBe("invalid_token");
    expect(body.error_description).toContain("not issued by this server");
  });

  it("refuses an expired access token with 401 invalid_token", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    harness.advance(3601);
    const { status, challenge, body } = await refusal(harness, mcpRequest(tokens.access_token));
    expect(status).toBe(401);
    expect(challenge).toContain('error="invalid_token"');
    expect(body.error).toBe("invalid_token");
  });

  it("refuses an unknown token of the right shape with 401 invalid_token", async () => {
    const harness = createHarness();
    const { status } = await refusal(harness, mcpRequest(`cmcp_at_${"A".repeat(43)}`));
    expect(status).toBe(401);
  });

  it("refuses a token this store holds for another resource (audience) with 401 invalid_token", async () => {
    const harness = createHarness();
    // A second gateway sharing the store (as replicas share Redis) but serving another resource.
    const other = createAuthorizationServer({
      baseUrl: "http://127.0.0.1:9090",
      store: harness.store,
      upstream: createFakeUpstream(harness.now),
      toPrincipal: testToPrincipal,
      registration: { allowPublic: true },
      clientMetadataDocuments: { allowPrivateAddresses: false },
      scopes: ["mcp"],
      clientAddress: () => "127.0.0.1",
      now: harness.now,
    });
    const otherOrigin = "http://127.0.0.1:9090";
    const otherHarness = {
      ...harness,
      server: other,
      async request(path: string, init?: RequestInit) {
        // The harness posts consent with its own origin; the other server expects its own.
        const headers = new Headers(init?.headers);
        if (headers.has("origin")) headers.set("origin", otherOrigin);
        return other.routes.request(`${otherOrigin}${path}`, { ...init, headers });
      },
    };
    const client = await registerClient(otherHarness);
    const pkce = pkcePair();
    const code = await obtainCode(otherHarness, client, pkce, { resource: "http://127.0.0.1:9090/mcp" });
    const { redeem } = await import("./testing/harness.js");
    const response = await redeem(otherHarness, client, code, pkce.verifier, { resource: "http://127.0.0.1:9090/mcp" });
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as TokenResponse;
    expect(
      (
        await other.authenticate(
          new Request("http://127.0.0.1:9090/mcp", { headers: { authorization: `Bearer ${tokens.access_token}` } }),
        )
      ).ok,
    ).toBe(true);

    const { status, body } = await refusal(harness, mcpRequest(tokens.access_token));
    expect(status).toBe(401);
    expect(body.error).toBe("invalid_token");
    expect(body.error_description).toContain("another resource");
  });

  it("answers 403 insufficient_scope with the scope needed for a token lacking it", async () => {
    const harness = createHarness({ scopes: ["mcp", "mcp:read"], requiredScopes: ["mcp"] });
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce, { scope: "mcp:read" });
    const { redeem } = await import("./testing/harness.js");
    const tokens = (await (await redeem(harness, client, code, pkce.verifier)).json()) as TokenResponse;
    const { status, challenge, body } = await refusal(harness, mcpRequest(tokens.access_token));
    expect(status).toBe(403);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="mcp"');
    expect(challenge).toContain(`resource_metadata="${resourceMetadata}"`);
    expect(body.error).toBe("insufficient_scope");
  });

  it("does not accept a token from the query string", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    const request = new Request(`${baseUrl}/mcp?access_token=${tokens.access_token}`, { method: "POST" });
    expect((await refusal(harness, request)).status).toBe(401);
  });

  it("never echoes the presented token in the refusal", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    harness.advance(3601);
    const result = await harness.server.authenticate(mcpRequest(tokens.access_token));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const everything = `${[...result.response.headers].join("\n")}\n${await result.response.text()}`;
    expect(everything.includes(tokens.access_token)).toBe(false);
  });
});
