import { describe, expect, it } from "vitest";
import {
  createHarness,
  mcpRequest,
  obtainCode,
  pkcePair,
  postForm,
  redeem,
  refresh,
  registerClient,
  signIn,
  type TokenResponse,
} from "./testing/harness.js";

async function errorBody(response: Response): Promise<{ error: string; error_description: string }> {
  return (await response.json()) as { error: string; error_description: string };
}

describe("POST /oauth/token with authorization_code", () => {
  it("refuses a reused code with invalid_grant and revokes the tokens issued from it", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const first = await redeem(harness, client, code, pkce.verifier);
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as TokenResponse;

    const replay = await redeem(harness, client, code, pkce.verifier);
    expect(replay.status).toBe(400);
    expect((await errorBody(replay)).error).toBe("invalid_grant");

    const access = await harness.server.authenticate(mcpRequest(tokens.access_token));
    expect(access.ok).toBe(false);
    const refreshed = await refresh(harness, client, tokens.refresh_token ?? "");
    expect(refreshed.status).toBe(400);
    expect((await errorBody(refreshed)).error).toBe("invalid_grant");
    expect(harness.events.at(-1)).toMatchObject({ type: "authorization_code_reuse_detected", familyRevoked: true });
  });

  it("refuses a wrong PKCE verifier with invalid_grant, and the code is spent afterwards", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const wrong = await redeem(harness, client, code, pkcePair().verifier);
    expect(wrong.status).toBe(400);
    const body = await errorBody(wrong);
    expect(body.error).toBe("invalid_grant");
    expect(body.error_description.includes(pkce.verifier)).toBe(false);
    // The operator sees it (a metric counts these events); the event carries ids, never the verifier.
    const event = harness.events.find((candidate) => candidate.type === "pkce_verification_failed");
    expect(event).toMatchObject({ type: "pkce_verification_failed", clientId: client.clientId });
    expect(JSON.stringify(event)).not.toContain(pkce.verifier);
    expect((await redeem(harness, client, code, pkce.verifier)).status).toBe(400);
  });

  it("refuses a missing code_verifier with invalid_request without spending the code", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const missing = await redeem(harness, client, code, "", { code_verifier: undefined });
    expect(missing.status).toBe(400);
    expect((await errorBody(missing)).error).toBe("invalid_request");
    expect((await redeem(harness, client, code, pkce.verifier)).status).toBe(200);
  });

  it("refuses a redirect_uri other than the authorization request's with invalid_grant", async () => {
    const harness = createHarness();
    const client = await registerClient(harness, {
      redirect_uris: ["http://127.0.0.1:33418/callback", "http://127.0.0.1:33418/other"],
    });
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const response = await redeem(harness, client, code, pkce.verifier, {
      redirect_uri: "http://127.0.0.1:33418/other",
    });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("invalid_grant");
  });

  it("refuses a resource other than the canonical one with invalid_target", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const response = await redeem(harness, client, code, pkce.verifier, { resource: "https://api.example.com/" });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("invalid_target");
  });

  it("refuses an expired code with invalid_grant", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    harness.advance(61);
    const response = await redeem(harness, client, code, pkce.verifier);
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("invalid_grant");
  });

  it("refuses a code presented by another client with invalid_grant, leaving it usable by its own", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const thief = await registerClient(harness);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const stolen = await redeem(harness, thief, code, pkce.verifier);
    expect(stolen.status).toBe(400);
    expect((await errorBody(stolen)).error).toBe("invalid_grant");
    expect((await redeem(harness, client, code, pkce.verifier)).status).toBe(200);
  });

  it("refuses an unknown client with 401 invalid_client", async () => {
    const harness = createHarness();
    const response = await postForm(harness, "/oauth/token", {
      grant_type: "authorization_code",
      client_id: "nobody",
      code: "x",
    });
    expect(response.status).toBe(401);
    expect((await errorBody(response)).error).toBe("invalid_client");
  });

  it("refuses an unsupported grant type with unsupported_grant_type", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const response = await postForm(harness, "/oauth/token", { grant_type: "password", client_id: client.clientId });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("unsupported_grant_type");
  });

  it("refuses a JSON body with invalid_request", async () => {
    const harness = createHarness();
    const response = await harness.request("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("invalid_request");
  });

  it("issues no refresh token to a client not registered for the refresh_token grant", async () => {
    const harness = createHarness();
    const client = await registerClient(harness, { grant_types: ["authorization_code"] });
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const tokens = (await (await redeem(harness, client, code, pkce.verifier)).json()) as TokenResponse;
    expect(tokens.refresh_token).toBeUndefined();
  });
});

describe("confidential clients", () => {
  it("authenticates with client_secret_basic and refuses a wrong secret with 401 and a Basic challenge", async () => {
    const harness = createHarness();
    const client = await registerClient(harness, { token_endpoint_auth_method: "client_secret_basic" });
    expect(/^[A-Za-z0-9_-]{43}$/.test(client.clientSecret ?? "")).toBe(true);
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const basic = (secret: string) => `Basic ${Buffer.from(`${client.clientId}:${secret}`).toString("base64")}`;

    const wrong = await redeem(harness, client, code, pkce.verifier, { client_id: undefined });
    expect(wrong.status).toBe(401);
    expect((await errorBody(wrong)).error).toBe("invalid_client");

    const badSecret = await postForm(
      harness,
      "/oauth/token",
      {
        grant_type: "authorization_code",
        code,
        redirect_uri: "http://127.0.0.1:33418/callback",
        code_verifier: pkce.verifier,
      },
      { authorization: basic("not-the-secret") },
    );
    expect(badSecret.status).toBe(401);
    expect(badSecret.headers.get("www-authenticate")).toContain("Basic");
    expect((await errorBody(badSecret)).error).toBe("invalid_client");

    const good = await postForm(
      harness,
      "/oauth/token",
      {
        grant_type: "authorization_code",
        code,
        redirect_uri: "http://127.0.0.1:33418/callback",
        code_verifier: pkce.verifier,
      },
      { authorization: basic(client.clientSecret ?? "") },
    );
    expect(good.status).toBe(200);
  });

  it("refuses client_secret_post for a client registered for client_secret_basic", async () => {
    const harness = createHarness();
    const client = await registerClient(harness, { token_endpoint_auth_method: "client_secret_basic" });
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const response = await redeem(harness, client, code, pkce.verifier, { client_secret: client.clientSecret });
    expect(response.status).toBe(401);
    expect((await errorBody(response)).error).toBe("invalid_client");
  });

  it("authenticates with client_secret_post", async () => {
    const harness = createHarness();
    const client = await registerClient(harness, { token_endpoint_auth_method: "client_secret_post" });
    const pkce = pkcePair();
    const code = await obtainCode(harness, client, pkce);
    const response = await redeem(harness, client, code, pkce.verifier, { client_secret: client.clientSecret });
    expect(response.status).toBe(200);
  });
});

describe("POST /oauth/token with refresh_token", () => {
  it("rotates: the new refresh token works and the old one no longer does", async () => {
    const harness = createHarness();
    const { client, tokens } = await signIn(harness);
    const rotated = (await (await refresh(harness, client, tokens.refresh_token ?? "")).json()) as TokenResponse;
    const again = await refresh(harness, client, rotated.refresh_token ?? "");
    expect(again.status).toBe(200);
  });

  it("treats a rotated refresh token presented again as theft: invalid_grant and the whole family revoked", async () => {
    const harness = createHarness();
    const { client, tokens } = await signIn(harness);
    const rotatedResponse = await refresh(harness, client, tokens.refresh_token ?? "");
    const rotated = (await rotatedResponse.json()) as TokenResponse;

    const reuse = await refresh(harness, client, tokens.refresh_token ?? "");
    expect(reuse.status).toBe(400);
    expect(await errorBody(reuse)).toMatchObject({ error: "invalid_grant" });

    const newest = await refresh(harness, client, rotated.refresh_token ?? "");
    expect(newest.status).toBe(400);
    expect((await errorBody(newest)).error).toBe("invalid_grant");
    for (const accessToken of [tokens.access_token, rotated.access_token]) {
      expect((await harness.server.authenticate(mcpRequest(accessToken))).ok).toBe(false);
    }
    expect(harness.events.find((event) => event.type === "refresh_token_reuse_detected")).toMatchObject({
      clientId: client.clientId,
      familyRevoked: true,
      actor: { username: "ada@example.com" },
    });
  });

  it("lets only one of two concurrent refreshes with the same token win, and revokes the family", async () => {
    const harness = createHarness();
    const { client, tokens } = await signIn(harness);
    const [first, second] = await Promise.all([
      refresh(harness, client, tokens.refresh_token ?? ""),
      refresh(harness, client, tokens.refresh_token ?? ""),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 400]);
    const winner = (await (first.status === 200 ? first : second).json()) as TokenResponse;
    // The loser saw a reuse and revoked the family, including what the winner was just given.
    expect((await harness.server.authenticate(mcpRequest(winner.access_token))).ok).toBe(false);
  });

  it("refuses a refresh token presented by another client with invalid_grant, without revoking it", async () => {
    const harness = createHarness();
    const { client, tokens } = await signIn(harness);
    const other = await registerClient(harness);
    const stolen = await refresh(harness, other, tokens.refresh_token ?? "");
    expect(stolen.status).toBe(400);
    expect((await errorBody(stolen)).error).toBe("invalid_grant");
    expect((await refresh(harness, client, tokens.refresh_token ?? "")).status).toBe(200);
  });

  it("refuses an expired refresh token with invalid_grant", async () => {
    const harness = createHarness({ lifetimes: { refreshTokenSeconds: 7200 } });
    const { client, tokens } = await signIn(harness);
    harness.advance(7201);
    const response = await refresh(harness, client, tokens.refresh_token ?? "");
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("invalid_grant");
  });

  it("refuses a wider scope with invalid_scope", async () => {
    const harness = createHarness({ scopes: ["mcp", "extra"] });
    const { client, tokens } = await signIn(harness);
    const response = await postForm(harness, "/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: client.clientId,
      scope: "mcp extra",
    });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("invalid_scope");
  });

  it("renews the upstream sign-in on refresh when it would expire first, and re-checks the identity", async () => {
    const harness = createHarness();
    harness.upstream.idTokenSeconds = 600;
    const { client, tokens } = await signIn(harness);
    harness.upstream.claims = { ...harness.upstream.claims, groups: ["developers", "operators"] };
    const response = await refresh(harness, client, tokens.refresh_token ?? "");
    expect(response.status).toBe(200);
    expect(harness.upstream.refreshCalls).toHaveLength(1);
    const rotated = (await response.json()) as TokenResponse;
    const result = await harness.server.authenticate(mcpRequest(rotated.access_token));
    expect(result.ok && result.principal.groups).toEqual(["developers", "operators"]);
  });

  it("revokes the grant when the renewed identity is refused, and answers invalid_grant", async () => {
    const harness = createHarness();
    harness.upstream.idTokenSeconds = 600;
    const { client, tokens } = await signIn(harness);
    harness.upstream.claims = { ...harness.upstream.claims, groups: ["system:masters"] };
    const response = await refresh(harness, client, tokens.refresh_token ?? "");
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error).toBe("invalid_grant");
    expect((await harness.server.authenticate(mcpRequest(tokens.access_token))).ok).toBe(false);
    expect(harness.events.at(-1)).toMatchObject({ type: "grant_revoked" });
  });

  it("answers 503 temporarily_unavailable when the provider is unreachable, keeping the refresh token usable", async () => {
    const harness = createHarness();
    harness.upstream.idTokenSeconds = 600;
    const { client, tokens } = await signIn(harness);
    harness.upstream.unreachable = true;
    const down = await refresh(harness, client, tokens.refresh_token ?? "");
    expect(down.status).toBe(503);
    expect((await errorBody(down)).error).toBe("temporarily_unavailable");
    harness.upstream.unreachable = false;
    expect((await refresh(harness, client, tokens.refresh_token ?? "")).status).toBe(200);
  });
});

describe("POST /oauth/revoke", () => {
  it("revokes an access token alone, leaving the refresh token working", async () => {
    const harness = createHarness();
    const { client, tokens } = await signIn(harness);
    const response = await postForm(harness, "/oauth/revoke", {
      token: tokens.access_token,
      client_id: client.clientId,
    });
    expect(response.status).toBe(200);
    expect((await harness.server.authenticate(mcpRequest(tokens.access_token))).ok).toBe(false);
    expect((await refresh(harness, client, tokens.refresh_token ?? "")).status).toBe(200);
    expect(harness.events.at(-2)).toMatchObject({
      type: "revocation",
      tokenType: "access_token",
      familyRevoked: false,
    });
  });

  it("answers 200 for an unknown token and leaves another client's token alone", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    const other = await registerClient(harness);
    expect(
      (await postForm(harness, "/oauth/revoke", { token: "cmcp_at_unknown", client_id: other.clientId })).status,
    ).toBe(200);
    expect(
      (await postForm(harness, "/oauth/revoke", { token: tokens.access_token, client_id: other.clientId })).status,
    ).toBe(200);
    expect((await harness.server.authenticate(mcpRequest(tokens.access_token))).ok).toBe(true);
  });

  it("refuses an unidentified client with 401 invalid_client", async () => {
    const harness = createHarness();
    const response = await postForm(harness, "/oauth/revoke", { token: "anything" });
    expect(response.status).toBe(401);
    expect((await errorBody(response)).error).toBe("invalid_client");
  });
});
