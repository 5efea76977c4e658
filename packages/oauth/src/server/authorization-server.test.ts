import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import {
  authorizationParameters,
  authorizePath,
  baseUrl,
  clientRedirect,
  createHarness,
  locationOf,
  mcpRequest,
  pkcePair,
  postForm,
  readConsentForm,
  redeem,
  refresh,
  registerClient,
  resource,
  returnFromUpstream,
  signIn,
  submitConsent,
  type TokenResponse,
} from "./testing/harness.js";

describe("metadata", () => {
  it("serves protected-resource metadata at the root and path-inserted for /mcp (RFC 9728)", async () => {
    const harness = createHarness();
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const response = await harness.request(path);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        resource,
        authorization_servers: [baseUrl],
        scopes_supported: ["mcp"],
        bearer_methods_supported: ["header"],
        resource_name: "capi-mcp",
      });
    }
  });

  it("serves authorization-server metadata that offers S256 only and Client ID Metadata Documents (RFC 8414)", async () => {
    const harness = createHarness();
    const response = await harness.request("/.well-known/oauth-authorization-server");
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: baseUrl,
      authorization_endpoint: `${baseUrl}/oauth/authorize`,
      token_endpoint: `${baseUrl}/oauth/token`,
      registration_endpoint: `${baseUrl}/oauth/register`,
      revocation_endpoint: `${baseUrl}/oauth/revoke`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      client_id_metadata_document_supported: true,
      scopes_supported: ["mcp"],
    });
  });

  it("leaves the registration endpoint out when registration is disabled", async () => {
    const harness = createHarness({ registration: { allowPublic: false } });
    const metadata = (await (await harness.request("/.well-known/oauth-authorization-server")).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.registration_endpoint).toBeUndefined();
  });

  it("refuses a base URL with a path, since the issuer must be the origin", async () => {
    expect(() => createHarness({ baseUrl: "https://gateway.example.com/prefix" })).toThrow(/origin/);
  });
});

describe("the whole flow", () => {
  it("registers, authorizes, logs in upstream, asks consent, issues tokens, authenticates, refreshes and revokes", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();

    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge, state: "s-123" })),
    );
    expect(authorize.status).toBe(302);
    expect(locationOf(authorize).origin).toBe("https://idp.example.test");

    const consent = await returnFromUpstream(harness, authorize);
    expect(consent.status).toBe(200);
    expect(consent.headers.get("content-type")).toContain("text/html");
    expect(consent.headers.get("x-frame-options")).toBe("DENY");
    expect(consent.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await consent.clone().text();
    expect(html).toContain("Test MCP client");
    expect(html).toContain("127.0.0.1:33418");
    expect(html).toContain("act as you on the Kubernetes clusters you can reach");
    expect(html).toContain("ada@example.com");

    const approved = await submitConsent(harness, await readConsentForm(consent), "approve");
    expect(approved.status).toBe(303);
    const redirect = locationOf(approved);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(clientRedirect);
    expect(redirect.searchParams.get("state")).toBe("s-123");
    expect(redirect.searchParams.get("iss")).toBe(baseUrl);
    const code = redirect.searchParams.get("code") ?? "";
    expect(/^[A-Za-z0-9_-]{43}$/.test(code ?? "")).toBe(true);

    const tokenResponse = await redeem(harness, client, code, pkce.verifier);
    expect(tokenResponse.status).toBe(200);
    expect(tokenResponse.headers.get("cache-control")).toBe("no-store");
    const tokens = (await tokenResponse.json()) as TokenResponse;
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "mcp" });
    expect(/^cmcp_at_[A-Za-z0-9_-]{43}$/.test(tokens.access_token ?? "")).toBe(true);
    expect(/^cmcp_rt_[A-Za-z0-9_-]{43}$/.test(tokens.refresh_token ?? "")).toBe(true);
    expect(Object.keys(tokens)).not.toContain("id_token");

    const authenticated = await harness.server.authenticate(mcpRequest(tokens.access_token));
    expect(authenticated.ok).toBe(true);
    if (!authenticated.ok) return;
    expect(authenticated.clientId).toBe(client.clientId);
    expect(authenticated.scopes).toEqual(["mcp"]);
    expect(authenticated.principal).toMatchObject({
      subject: "user-1",
      issuer: "https://idp.example.test",
      username: "ada@example.com",
      emailVerified: true,
      groups: ["developers"],
    });

    const refreshed = await refresh(harness, client, tokens.refresh_token ?? "");
    expect(refreshed.status).toBe(200);
    const rotated = (await refreshed.json()) as TokenResponse;
    expect(rotated.refresh_token === tokens.refresh_token).toBe(false);
    expect((await harness.server.authenticate(mcpRequest(rotated.access_token))).ok).toBe(true);

    const revoked = await postForm(harness, "/oauth/revoke", {
      token: rotated.refresh_token,
      token_type_hint: "refresh_token",
      client_id: client.clientId,
    });
    expect(revoked.status).toBe(200);
    for (const accessToken of [tokens.access_token, rotated.access_token]) {
      const after = await harness.server.authenticate(mcpRequest(accessToken));
      expect(after.ok).toBe(false);
      if (!after.ok) expect(after.response.status).toBe(401);
    }
    const refreshAfterRevoke = await refresh(harness, client, rotated.refresh_token ?? "");
    expect(refreshAfterRevoke.status).toBe(400);
    expect(await refreshAfterRevoke.json()).toMatchObject({ error: "invalid_grant" });

    expect(harness.events.map((event) => event.type)).toEqual([
      "client_registered",
      "login",
      "consent",
      "token_issued",
      "token_issued",
      "revocation",
    ]);
  });

  it("keeps no code or token of its own in the store, neither in keys nor in values", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const { obtainCode } = await import("./testing/harness.js");
    const code = await obtainCode(harness, client, pkce);
    const tokens = (await (await redeem(harness, client, code, pkce.verifier)).json()) as TokenResponse;
    const held = harness.store.dump().join("\n");
    for (const secret of [code, tokens.access_token, tokens.refresh_token ?? "missing"]) {
      // A boolean, so a failure cannot print the secret.
      expect(held.includes(secret)).toBe(false);
    }
  });

  it("never puts codes, tokens or upstream tokens into audit events", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    const events = JSON.stringify(harness.events);
    for (const secret of [tokens.access_token, tokens.refresh_token ?? "missing", ...harness.upstream.issuedIdTokens]) {
      expect(events.includes(secret)).toBe(false);
    }
    expect(events).not.toContain("upstream-refresh-");
  });
});

describe("consent", () => {
  it("remembers consent per user, client and redirect URI, so the second sign-in goes straight back with a code", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    await signIn(harness);
    const first = pkcePair();
    const { obtainCode } = await import("./testing/harness.js");
    await obtainCode(harness, client, first);
    const second = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: second.challenge })),
    );
    const callback = await returnFromUpstream(harness, authorize);
    expect(callback.status).toBe(302);
    expect(/^[A-Za-z0-9_-]{43}$/.test(locationOf(callback).searchParams.get("code") ?? "")).toBe(true);
    expect(
      harness.events
        .filter((event) => event.type === "consent")
        .map((event) => event.type === "consent" && event.decision),
    ).toEqual(["approved", "approved", "remembered"]);
  });

  it("asks again for another client, even for the same user", async () => {
    const harness = createHarness();
    await signIn(harness);
    const other = await registerClient(harness, { client_name: "Another client" });
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: other.clientId, challenge: pkce.challenge })),
    );
    const callback = await returnFromUpstream(harness, authorize);
    expect(callback.status).toBe(200);
    expect(await callback.text()).toContain("Another client");
  });

  it("asks again once the consent lifetime has passed", async () => {
    const harness = createHarness({ lifetimes: { consentSeconds: 60 } });
    const { client } = await signIn(harness);
    harness.advance(61);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    expect((await returnFromUpstream(harness, authorize)).status).toBe(200);
  });

  it("answers a denial with access_denied and the client's state, and issues nothing", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(
        authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge, state: "deny-state" }),
      ),
    );
    const consent = await returnFromUpstream(harness, authorize);
    const denied = await submitConsent(harness, await readConsentForm(consent), "deny");
    expect(denied.status).toBe(303);
    const location = locationOf(denied);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("deny-state");
    expect(location.searchParams.get("code")).toBeNull();
    expect(harness.events.at(-1)).toMatchObject({ type: "consent", decision: "denied" });
  });

  it("refuses a consent form without the browser's binding cookie with 403", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    const form = await readConsentForm(await returnFromUpstream(harness, authorize));
    const response = await submitConsent(harness, { ...form, cookie: "capi-mcp-consent=someone-else" }, "approve");
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("access_denied");
  });

  it("refuses a consent form with a wrong CSRF token with 403, and one posted from another origin with 403", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    const form = await readConsentForm(await returnFromUpstream(harness, authorize));
    expect((await submitConsent(harness, { ...form, csrfToken: "x".repeat(43) }, "approve")).status).toBe(403);
    expect((await submitConsent(harness, form, "approve", { origin: "https://evil.example" })).status).toBe(403);
    // The genuine form still works: failed attempts do not consume it.
    expect((await submitConsent(harness, form, "approve")).status).toBe(303);
  });

  it("accepts a consent decision only once", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    const form = await readConsentForm(await returnFromUpstream(harness, authorize));
    expect((await submitConsent(harness, form, "approve")).status).toBe(303);
    expect((await submitConsent(harness, form, "approve")).status).toBe(400);
  });
});

describe("refused and failed logins", () => {
  it("shows a refused user a 403 page with the reason, offers the client access_denied, and audits it", async () => {
    const harness = createHarness();
    harness.upstream.claims = { sub: "hostile", email: "system:admin", email_verified: true, groups: [] };
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge, state: "st" })),
    );
    const callback = await returnFromUpstream(harness, authorize);
    expect(callback.status).toBe(403);
    const html = await callback.text();
    expect(html).toContain("beginning with system: are refused");
    const link = /href="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&") ?? "";
    const back = new URL(link);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("st");
    expect(harness.events.at(-1)).toMatchObject({
      type: "login_refused",
      code: "forbidden",
      subject: "hostile",
      clientId: client.clientId,
    });
    expect(harness.events.some((event) => event.type === "login")).toBe(false);
  });

  it("shows 401 for an unauthenticated refusal (no email)", async () => {
    const harness = createHarness();
    harness.upstream.claims = { sub: "no-mail" };
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    expect((await returnFromUpstream(harness, authorize)).status).toBe(401);
    expect(harness.events.at(-1)).toMatchObject({ type: "login_refused", code: "unauthenticated" });
  });

  it("sends access_denied to the client when the user cancels at the identity provider", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    const callback = await returnFromUpstream(harness, authorize, { query: "error=access_denied" });
    expect(callback.status).toBe(302);
    expect(locationOf(callback).searchParams.get("error")).toBe("access_denied");
    expect(harness.events.at(-1)).toMatchObject({ type: "login_refused", code: "upstream_denied" });
  });

  it("answers 401 when the provider's answer cannot be verified, and 400 for an unknown or replayed state", async () => {
    const harness = createHarness();
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    expect((await returnFromUpstream(harness, authorize, { query: "code=forged" })).status).toBe(401);
    expect((await returnFromUpstream(harness, authorize)).status).toBe(400);
    expect((await harness.request("/oauth/callback?code=upstream-code&state=never-issued")).status).toBe(400);
  });
});

describe("an unreachable identity provider", () => {
  it("answers 502 when the provider cannot be reached to finish the login", async () => {
    const harness = createHarness();
    harness.upstream.finishLogin = async () => {
      throw new GatewayError("unavailable", "The identity provider cannot be reached right now.");
    };
    const client = await registerClient(harness);
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge })),
    );
    const callback = await returnFromUpstream(harness, authorize);
    expect(callback.status).toBe(502);
    expect(await callback.text()).toContain("temporarily_unavailable");
    expect(harness.events.at(-1)).toMatchObject({ type: "login_refused", code: "upstream_failed" });
  });
});

describe("unexpected failures", () => {
  it("answers 500 server_error without detail when the store fails, and hands the error to the operator hook", async () => {
    const failures: unknown[] = [];
    const harness = createHarness({ onUnexpectedError: (error) => failures.push(error) });
    const client = await registerClient(harness);
    harness.store.get = async () => {
      throw new Error("store unreachable at 10.0.0.9:6379");
    };
    const response = await postForm(harness, "/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: `cmcp_rt_${"A".repeat(43)}`,
      client_id: client.clientId,
    });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      error: "server_error",
      error_description: "The authorization server failed unexpectedly.",
    });
    expect(body).not.toContain("10.0.0.9");
    expect(failures).toHaveLength(1);
  });
});
