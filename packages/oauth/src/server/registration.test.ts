import { describe, expect, it } from "vitest";
import { createHarness, registrationToken } from "./testing/harness.js";

function register(harness: ReturnType<typeof createHarness>, body: unknown, authorization?: string) {
  return harness.request("/oauth/register", {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify(body),
  });
}

const valid = {
  redirect_uris: ["http://127.0.0.1:5555/callback"],
  token_endpoint_auth_method: "none",
  client_name: "Client",
};

describe("POST /oauth/register", () => {
  it("refuses a registration without the initial access token with 401", async () => {
    const harness = createHarness();
    const response = await register(harness, valid);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_token");
    expect(harness.events.at(-1)).toMatchObject({ type: "registration_refused" });
  });

  it("refuses a wrong initial access token with 401 invalid_token", async () => {
    const harness = createHarness();
    const response = await register(harness, valid, "Bearer not-the-token");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("refuses every registration with 401 when registration is disabled", async () => {
    const harness = createHarness({ registration: { allowPublic: false } });
    expect((await register(harness, valid, `Bearer ${registrationToken}`)).status).toBe(401);
  });

  it("registers a public client with the token and answers 201 without a secret", async () => {
    const harness = createHarness();
    const response = await register(harness, valid, `Bearer ${registrationToken}`);
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      redirect_uris: valid.redirect_uris,
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      client_name: "Client",
    });
    expect(body.client_id).toEqual(expect.any(String));
    expect(body.client_secret).toBeUndefined();
    expect(harness.events.at(-1)).toMatchObject({ type: "client_registered", clientId: body.client_id });
  });

  it("registers without a token when public registration is allowed", async () => {
    const harness = createHarness({ registration: { allowPublic: true } });
    expect((await register(harness, valid)).status).toBe(201);
  });

  it("issues a secret to a confidential client and keeps only its hash", async () => {
    const harness = createHarness();
    const response = await register(
      harness,
      { ...valid, token_endpoint_auth_method: undefined },
      `Bearer ${registrationToken}`,
    );
    const body = (await response.json()) as {
      client_secret: string;
      token_endpoint_auth_method: string;
      client_secret_expires_at: number;
    };
    expect(body.token_endpoint_auth_method).toBe("client_secret_basic");
    expect(/^[A-Za-z0-9_-]{43}$/.test(body.client_secret ?? "")).toBe(true);
    expect(body.client_secret_expires_at).toBeGreaterThan(0);
    expect(harness.store.dump().join("\n").includes(body.client_secret)).toBe(false);
  });

  it.each([
    ["a fragment", "https://app.example.com/callback#frag"],
    ["a wildcard", "https://*.example.com/callback"],
    ["http to a non-loopback host", "http://app.example.com/callback"],
    ["a custom scheme", "myapp://callback"],
    ["credentials", "https://user:pass@app.example.com/callback"],
    ["a relative URL", "/callback"],
  ])("refuses a redirect URI with %s with invalid_redirect_uri", async (_label, uri) => {
    const harness = createHarness();
    const response = await register(harness, { ...valid, redirect_uris: [uri] }, `Bearer ${registrationToken}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_redirect_uri");
  });

  it.each([
    "http://127.0.0.1:1234/cb",
    "http://[::1]:1234/cb",
    "http://localhost:1234/cb",
    "https://app.example.com/oauth/callback?x=1",
  ])("accepts the redirect URI %s", async (uri) => {
    const harness = createHarness();
    expect((await register(harness, { ...valid, redirect_uris: [uri] }, `Bearer ${registrationToken}`)).status).toBe(
      201,
    );
  });

  it("refuses missing redirect URIs, unknown grant types and unknown scopes with 400", async () => {
    const harness = createHarness();
    const authorization = `Bearer ${registrationToken}`;
    const cases: [unknown, string][] = [
      [{ client_name: "x" }, "invalid_redirect_uri"],
      [{ ...valid, grant_types: ["client_credentials"] }, "invalid_client_metadata"],
      [{ ...valid, scope: "admin" }, "invalid_client_metadata"],
      [{ ...valid, token_endpoint_auth_method: "private_key_jwt" }, "invalid_client_metadata"],
      [{ ...valid, response_types: ["token"] }, "invalid_client_metadata"],
    ];
    for (const [body, error] of cases) {
      const response = await register(harness, body, authorization);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe(error);
    }
  });

  it("refuses a body that is not JSON with 400 invalid_client_metadata", async () => {
    const harness = createHarness();
    const response = await harness.request("/oauth/register", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${registrationToken}` },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_client_metadata");
  });

  it("refuses a body over 16 KiB with 413", async () => {
    const harness = createHarness();
    const response = await register(
      harness,
      { ...valid, client_name: "x".repeat(20_000) },
      `Bearer ${registrationToken}`,
    );
    expect(response.status).toBe(413);
  });
});
