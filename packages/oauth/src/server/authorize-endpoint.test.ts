import { describe, expect, it } from "vitest";
import {
  authorizationParameters,
  authorizePath,
  clientRedirect,
  createHarness,
  locationOf,
  pkcePair,
  registerClient,
} from "./testing/harness.js";

async function setUp() {
  const harness = createHarness();
  const client = await registerClient(harness);
  const pkce = pkcePair();
  const authorize = (extra: Record<string, string | undefined>, redirectUri?: string) =>
    harness.request(
      authorizePath(
        authorizationParameters({
          clientId: client.clientId,
          challenge: pkce.challenge,
          state: "keep-me",
          extra,
          ...(redirectUri === undefined ? {} : { redirectUri }),
        }),
      ),
    );
  return { harness, client, authorize };
}

function errorOf(response: Response): { error: string | null; state: string | null; target: string } {
  const location = locationOf(response);
  return {
    error: location.searchParams.get("error"),
    state: location.searchParams.get("state"),
    target: `${location.origin}${location.pathname}`,
  };
}

describe("GET /oauth/authorize", () => {
  it("refuses code_challenge_method=plain with invalid_request sent back to the client", async () => {
    const { authorize } = await setUp();
    const response = await authorize({ code_challenge_method: "plain" });
    expect(response.status).toBe(302);
    expect(errorOf(response)).toEqual({ error: "invalid_request", state: "keep-me", target: clientRedirect });
    expect(locationOf(response).searchParams.get("error_description")).toContain("S256");
  });

  it("refuses a request without code_challenge with invalid_request", async () => {
    const { authorize } = await setUp();
    const response = await authorize({ code_challenge: undefined, code_challenge_method: undefined });
    expect(response.status).toBe(302);
    expect(errorOf(response).error).toBe("invalid_request");
    expect(locationOf(response).searchParams.get("error_description")).toContain("PKCE is required");
  });

  it("refuses a code_challenge without a method, since the default method would be plain", async () => {
    const { authorize } = await setUp();
    const response = await authorize({ code_challenge_method: undefined });
    expect(errorOf(response).error).toBe("invalid_request");
  });

  it("shows a 400 page, and never redirects, for a redirect URI that is not registered exactly", async () => {
    const { authorize } = await setUp();
    for (const wrong of [
      "https://attacker.example/callback",
      "http://127.0.0.1:33418/callback/",
      "http://127.0.0.1:33419/callback",
      "http://localhost:33418/callback",
    ]) {
      const response = await authorize({}, wrong);
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(await response.text()).toContain("invalid_request");
    }
  });

  it("shows a 400 page for a request without redirect_uri", async () => {
    const { authorize } = await setUp();
    const response = await authorize({ redirect_uri: undefined });
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });

  it("shows a 400 invalid_client page for an unknown client", async () => {
    const harness = createHarness();
    const pkce = pkcePair();
    const response = await harness.request(
      authorizePath(authorizationParameters({ clientId: "unknown-client", challenge: pkce.challenge })),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    expect(await response.text()).toContain("invalid_client");
    expect(harness.events.at(-1)).toMatchObject({ type: "client_refused", clientId: "unknown-client" });
  });

  it("refuses a resource other than the canonical MCP endpoint with invalid_target", async () => {
    const { authorize } = await setUp();
    for (const other of [
      "https://other.example/mcp",
      "http://127.0.0.1:8080/",
      "http://127.0.0.1:8080/mcp/",
      "http://127.0.0.1:8080/mcp#x",
    ]) {
      const response = await authorize({ resource: other });
      expect(response.status).toBe(302);
      expect(errorOf(response)).toEqual({ error: "invalid_target", state: "keep-me", target: clientRedirect });
    }
  });

  it("accepts the canonical resource with an upper-case scheme and host, as the MCP specification asks", async () => {
    const { authorize } = await setUp();
    const response = await authorize({ resource: "HTTP://127.0.0.1:8080/mcp" });
    expect(locationOf(response).origin).toBe("https://idp.example.test");
  });

  it("binds a request without resource to the canonical resource and still proceeds", async () => {
    const { authorize } = await setUp();
    const response = await authorize({ resource: undefined });
    expect(locationOf(response).origin).toBe("https://idp.example.test");
  });

  it("refuses response_type token with unsupported_response_type", async () => {
    const { authorize } = await setUp();
    expect(errorOf(await authorize({ response_type: "token" })).error).toBe("unsupported_response_type");
  });

  it("refuses an unknown scope with invalid_scope", async () => {
    const { authorize } = await setUp();
    expect(errorOf(await authorize({ scope: "mcp admin" })).error).toBe("invalid_scope");
  });

  it("refuses repeated parameters with invalid_request", async () => {
    const { harness, client } = await setUp();
    const pkce = pkcePair();
    const path = `${authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge }))}&scope=mcp`;
    const response = await harness.request(path);
    expect(errorOf(response).error).toBe("invalid_request");
  });

  it("keeps the pending request server-side and tells the provider nothing about the client", async () => {
    const { authorize } = await setUp();
    const response = await authorize({});
    const upstream = locationOf(response);
    expect(upstream.searchParams.get("state")).not.toBe("keep-me");
    expect(upstream.href).not.toContain("33418");
  });

  it("sends temporarily_unavailable to the client when the identity provider cannot start a login", async () => {
    const { harness, authorize } = await setUp();
    harness.upstream.startLogin = async () => {
      throw new Error("connection refused");
    };
    expect(errorOf(await authorize({})).error).toBe("temporarily_unavailable");
  });
});
