// capi-mcp as an OAuth 2.1 authorization server and resource server, end to end: the MCP SDK's
// OAuth client, the fleet's real OpenID provider over HTTPS, the gateway's consent page, tool calls
// as the logged-in user on a real cluster (impersonation and SSO passthrough), refresh, revocation.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { loginAs } from "../fleet/login.ts";
import { auditEventsMatching, fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import {
  answerLoginPages,
  initializeWithBearer,
  loginThroughGateway,
  type OAuthGateway,
  registerClient,
  startOAuthGateway,
} from "../gateway/oauth-flow.ts";
import { UserAgent } from "../gateway/user-agent.ts";

let info: FleetInfo;
let scratch: string;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-oauth-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function tokenRequest(gateway: OAuthGateway, form: Record<string, string>) {
  const response = await fetch(`${gateway.baseUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function mcpStatus(gateway: OAuthGateway, token: string): Promise<number> {
  const response = await initializeWithBearer(gateway.endpoint, token, "raw");
  await response.body?.cancel();
  return response.status;
}

describe("capi-mcp with OAuth, impersonating the logged-in user", () => {
  let gateway: OAuthGateway;
  beforeAll(async () => {
    gateway = await startOAuthGateway(info, scratch, { kubeAuth: "impersonation" });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("answers an MCP request without a token with 401 and the protected-resource metadata", async () => {
    const response = await fetch(gateway.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(401);
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain(`resource_metadata="${gateway.baseUrl}/.well-known/oauth-protected-resource/mcp"`);
    const resource = (await (
      await fetch(`${gateway.baseUrl}/.well-known/oauth-protected-resource/mcp`)
    ).json()) as Record<string, unknown>;
    expect(resource).toMatchObject({ resource: `${gateway.baseUrl}/mcp`, authorization_servers: [gateway.baseUrl] });
    const server = (await (await fetch(`${gateway.baseUrl}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(server.code_challenge_methods_supported).toEqual(["S256"]);
    expect(server.issuer).toBe(gateway.baseUrl);
  });

  it("refuses client registration without the registration token", async () => {
    const response = await fetch(`${gateway.baseUrl}/oauth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:9/callback"], token_endpoint_auth_method: "none" }),
    });
    expect(response.status).toBe(401);
  });

  it("logs alice in through the SDK client, upstream login and consent, then runs tools as alice", async () => {
    const alice = await loginThroughGateway(info, gateway, "alice");
    try {
      const pods = await alice.client.callTool({
        name: "k8s_list_resources",
        arguments: { resource: "pods", namespace: "web" },
      });
      expect(pods.isError, resultText(pods)).toBe(false);
      expect(resultText(pods)).toContain("frontend-5d8f7c9b6-k2x4p");

      // The gateway's kubeconfig is cluster-admin, yet the call is alice's: her RBAC forbids this.
      const secrets = await alice.client.callTool({
        name: "k8s_list_resources",
        arguments: { resource: "secrets", namespace: "kube-system" },
      });
      expect(secrets.isError).toBe(true);
      expect(resultText(secrets)).toMatch(/^Forbidden/);
      expect(resultText(secrets)).not.toContain("alice@example.com");

      const marker = `oauth-${randomBytes(4).toString("hex")}`;
      await alice.client.callTool({
        name: "k8s_get_resource",
        arguments: { resource: "configmap", name: marker, namespace: "web" },
      });
      const [event] = await auditEventsMatching(info, "org-acme/dev", marker);
      expect(event?.impersonatedUser).toMatchObject({
        username: "alice@example.com",
        groups: expect.arrayContaining(["acme-dev"]),
        extra: { agent: ["capi-mcp"], sub: ["alice"] },
      });

      const records = (await readFile(gateway.auditFile, "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const call = records.find((record) => record.name === marker);
      expect(call).toMatchObject({
        tool: "k8s_get_resource",
        actor: { username: "alice@example.com", subject: "alice", groups: ["acme-dev"], source: "oauth" },
        client: { oauthClientId: expect.any(String) },
      });
      expect(records.some((record) => record.audit === "authorization" && record.type === "login")).toBe(true);
      const trail = JSON.stringify(records);
      expect(trail).not.toContain(String(alice.provider.tokens()?.access_token));
      expect(trail).not.toContain(String(alice.provider.tokens()?.refresh_token));
    } finally {
      await alice.close();
    }
  });

  it("rotates refresh tokens, and a reused refresh token revokes the whole family", async () => {
    const bob = await loginThroughGateway(info, gateway, "bob");
    await bob.close();
    const first = bob.provider.tokens();
    const clientId = String(bob.provider.clientInformation()?.client_id);
    const rotated = await tokenRequest(gateway, {
      grant_type: "refresh_token",
      refresh_token: String(first?.refresh_token),
      client_id: clientId,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(first?.refresh_token);
    expect(await mcpStatus(gateway, String(rotated.body.access_token))).toBe(200);

    const reused = await tokenRequest(gateway, {
      grant_type: "refresh_token",
      refresh_token: String(first?.refresh_token),
      client_id: clientId,
    });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe("invalid_grant");
    expect(await mcpStatus(gateway, String(rotated.body.access_token))).toBe(401);
    const afterFamily = await tokenRequest(gateway, {
      grant_type: "refresh_token",
      refresh_token: String(rotated.body.refresh_token),
      client_id: clientId,
    });
    expect(afterFamily.body.error).toBe("invalid_grant");
  });

  it("revokes an access token", async () => {
    const carol = await loginThroughGateway(info, gateway, "carol");
    await carol.close();
    const token = String(carol.provider.tokens()?.access_token);
    expect(await mcpStatus(gateway, token)).toBe(200);
    const revoked = await fetch(`${gateway.baseUrl}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, client_id: String(carol.provider.clientInformation()?.client_id) }).toString(),
    });
    expect(revoked.status).toBe(200);
    expect(await mcpStatus(gateway, token)).toBe(401);
  });

  it("refuses the upstream provider's own ID token at /mcp: no token passthrough from clients", async () => {
    const upstream = await loginAs(info, "alice");
    expect(await mcpStatus(gateway, upstream.idToken)).toBe(401);
    expect(await mcpStatus(gateway, upstream.accessToken)).toBe(401);
  });

  it.each([
    ["mallory", /system:/],
    ["eve", /verified/i],
  ])("refuses %s at login with a clear 403 and an audit record", async (userName, reason) => {
    const client = await registerClient(gateway, "http://127.0.0.1:9/callback");
    const authorize = new URL(`${gateway.baseUrl}/oauth/authorize`);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: "http://127.0.0.1:9/callback",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      state: "s",
      resource: `${gateway.baseUrl}/mcp`,
    }).toString();
    const agent = new UserAgent({ certificateAuthorities: [await readFile(info.oidc.caFile, "utf8")] });
    try {
      const walked = await agent.walk(authorize, {
        isDestination: (url) => url.port === "9",
        onPage: answerLoginPages(info, userName),
      });
      expect(walked.destination).toBeUndefined();
      expect(walked.page?.status).toBe(403);
      expect(walked.page?.body).toMatch(reason);
    } finally {
      agent.close();
    }
    const records = (await readFile(gateway.auditFile, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.some((record) => record.type === "login_refused" && record.subject === userName)).toBe(true);
  });

  it("refuses PKCE plain and an unregistered redirect URI at /oauth/authorize", async () => {
    const client = await registerClient(gateway, "http://127.0.0.1:9/callback");
    const authorize = (overrides: Record<string, string>) => {
      const url = new URL(`${gateway.baseUrl}/oauth/authorize`);
      url.search = new URLSearchParams({
        response_type: "code",
        client_id: client.client_id,
        redirect_uri: "http://127.0.0.1:9/callback",
        code_challenge: "plain-verifier-plain-verifier-plain-verifier-1",
        code_challenge_method: "S256",
        state: "s",
        ...overrides,
      }).toString();
      return fetch(url, { redirect: "manual" });
    };
    const plain = await authorize({ code_challenge_method: "plain" });
    expect(plain.status).toBe(302);
    const location = new URL(String(plain.headers.get("location")));
    expect(location.searchParams.get("error")).toBe("invalid_request");
    const wrongRedirect = await authorize({ redirect_uri: "http://127.0.0.1:9/elsewhere" });
    expect(wrongRedirect.status).toBe(400);
    expect(wrongRedirect.headers.get("location")).toBeNull();
  });

  it("answers a foreign Origin with 403 before anything else", async () => {
    const response = await fetch(gateway.endpoint, {
      method: "POST",
      headers: { origin: "https://evil.example" },
      body: "{}",
    });
    expect(response.status).toBe(403);
  });
});

describe("capi-mcp with OAuth, passing the user's own ID token (SSO passthrough)", () => {
  it("calls the cluster with alice's ID token, never impersonating", async () => {
    const gateway = await startOAuthGateway(info, scratch, { kubeAuth: "sso-passthrough" });
    try {
      const alice = await loginThroughGateway(info, gateway, "alice");
      try {
        const marker = `sso-${randomBytes(4).toString("hex")}`;
        const answer = await alice.client.callTool({
          name: "k8s_get_resource",
          arguments: { resource: "configmap", name: marker, namespace: "web" },
        });
        expect(resultText(answer)).toMatch(/^Not found/);
        const events = await auditEventsMatching(info, "org-acme/dev", marker);
        expect(events.length).toBeGreaterThan(0);
        for (const event of events) {
          expect(event.user.username).toBe("alice@example.com");
          expect(event.impersonatedUser).toBeUndefined();
        }
        const denied = await alice.client.callTool({
          name: "k8s_list_resources",
          arguments: { resource: "pods", namespace: "kube-system" },
        });
        expect(resultText(denied)).toMatch(/^Forbidden/);
      } finally {
        await alice.close();
      }
    } finally {
      await gateway.stop();
    }
  });
});
