import { isGatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { createHarness, mcpRequest, signIn } from "./testing/harness.js";

async function principalOf(harness: ReturnType<typeof createHarness>, accessToken: string) {
  const result = await harness.server.authenticate(mcpRequest(accessToken));
  if (!result.ok) {
    throw new Error(`authentication failed with ${result.response.status}`);
  }
  const custody = result.principal.idTokenCustody;
  if (custody === undefined) {
    throw new Error("no custody handle");
  }
  return { principal: result.principal, custody };
}

describe("ID token custody", () => {
  it("hands out the user's upstream ID token server-side, while the principal itself carries none", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    const { principal, custody } = await principalOf(harness, tokens.access_token);
    // Compared as booleans, so a failure cannot print an upstream token.
    expect((await custody.currentIdToken()) === harness.upstream.issuedIdTokens[0]).toBe(true);
    expect(JSON.stringify(principal).includes(harness.upstream.issuedIdTokens[0] ?? "missing")).toBe(false);
    expect(harness.upstream.refreshCalls).toHaveLength(0);
  });

  it("refreshes through the provider when the ID token expires within a minute, once for concurrent callers", async () => {
    const harness = createHarness();
    harness.upstream.idTokenSeconds = 3600;
    const { tokens } = await signIn(harness);
    const { custody } = await principalOf(harness, tokens.access_token);
    harness.advance(3600 - 30);
    const results = await Promise.all([custody.currentIdToken(), custody.currentIdToken(), custody.currentIdToken()]);
    expect(harness.upstream.refreshCalls).toHaveLength(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0] === harness.upstream.issuedIdTokens[1]).toBe(true);
    // The renewed token is kept: the next call needs no refresh.
    expect((await custody.currentIdToken()) === harness.upstream.issuedIdTokens[1]).toBe(true);
    expect(harness.upstream.refreshCalls).toHaveLength(1);
  });

  it("throws unauthenticated and revokes the grant when the provider refuses the refresh", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    const { custody } = await principalOf(harness, tokens.access_token);
    harness.advance(3600 - 30);
    harness.upstream.refuseRefresh = true;
    const error = await custody.currentIdToken().catch((caught: unknown) => caught);
    expect(isGatewayError(error) && error.code).toBe("unauthenticated");
    expect((await harness.server.authenticate(mcpRequest(tokens.access_token))).ok).toBe(false);
  });

  it("throws unavailable, and keeps the grant, when the provider cannot be reached", async () => {
    const harness = createHarness();
    const { tokens } = await signIn(harness);
    const { custody } = await principalOf(harness, tokens.access_token);
    harness.advance(3600 - 30);
    harness.upstream.unreachable = true;
    const error = await custody.currentIdToken().catch((caught: unknown) => caught);
    expect(isGatewayError(error) && error.code).toBe("unavailable");
    expect((await harness.server.authenticate(mcpRequest(tokens.access_token))).ok).toBe(true);
  });

  it("stops handing out the ID token once the grant is revoked", async () => {
    const harness = createHarness();
    const { client, tokens } = await signIn(harness);
    const { custody } = await principalOf(harness, tokens.access_token);
    const { postForm } = await import("./testing/harness.js");
    await postForm(harness, "/oauth/revoke", { token: tokens.refresh_token, client_id: client.clientId });
    const error = await custody.currentIdToken().catch((caught: unknown) => caught);
    expect(isGatewayError(error) && error.code).toBe("unauthenticated");
  });
});
