// The upstream sign-in belongs to the browser that started it (RFC 9700 §4.7): the gateway sets a
// cookie at /oauth/authorize and checks it at /oauth/callback. A callback URL carried to another
// browser gets a clear error page and spends nothing; the right browser then finishes. Also: a
// native client registers a private-use scheme redirect (RFC 8252 §7.1) with the real gateway.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { answerLoginPages, type OAuthGateway, registerClient, startOAuthGateway } from "../gateway/oauth-flow.ts";
import { UserAgent } from "../gateway/user-agent.ts";

let info: FleetInfo;
let scratch: string;
let gateway: OAuthGateway;
let certificateAuthority: string;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-callback-"));
  certificateAuthority = await readFile(info.oidc.caFile, "utf8");
  gateway = await startOAuthGateway(info, scratch, { kubeAuth: "impersonation" });
});

afterAll(async () => {
  await gateway?.stop();
  await rm(scratch, { recursive: true, force: true });
});

function authorizationUrl(clientId: string, redirectUri: string): URL {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(`${gateway.baseUrl}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: "client-state",
    resource: `${gateway.baseUrl}/mcp`,
  }).toString();
  return url;
}

describe("the gateway's sign-in callback", () => {
  it("refuses the callback in another browser with a clear page, and the browser that started it still signs in", async () => {
    const redirectUri = "http://127.0.0.1:9/callback";
    const client = await registerClient(gateway, redirectUri);
    const started = new UserAgent({ certificateAuthorities: [certificateAuthority] });
    const other = new UserAgent({ certificateAuthorities: [certificateAuthority] });
    try {
      const toCallback = await started.walk(authorizationUrl(client.client_id, redirectUri), {
        isDestination: (url) => url.origin === gateway.baseUrl && url.pathname === "/oauth/callback",
        onPage: answerLoginPages(info, "alice"),
      });
      const callback = toCallback.destination;
      if (!callback) throw new Error(`the login stopped at ${toCallback.page?.url.pathname}`);

      const refused = await other.send(callback);
      expect(refused.status).toBe(403);
      expect(String(refused.headers["content-type"])).toMatch(/^text\/html/);
      expect(refused.body).toContain("started in another browser");
      // Twice, to show the first refusal spent nothing either.
      expect((await other.send(callback)).status).toBe(403);

      const finished = await started.walk(callback, {
        isDestination: (url) => url.href.startsWith(redirectUri),
        onPage: answerLoginPages(info, "alice"),
      });
      expect(finished.destination?.searchParams.get("code")).toMatch(/.+/);
      expect(finished.destination?.searchParams.get("state")).toBe("client-state");
      // Spent now: the same callback, even in the right browser, is over.
      expect((await started.send(callback)).status).toBe(400);
    } finally {
      started.close();
      other.close();
    }
    const logins = (await readFile(gateway.auditFile, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.type === "login" && record.clientId === client.client_id);
    expect(logins).toHaveLength(1);
  });

  it("lets a native client register a reverse-domain private-use redirect, and still refuses javascript:", async () => {
    const native = await registerClient(gateway, "com.example.capi-mcp-e2e:/oauth/callback");
    expect(native.redirect_uris).toEqual(["com.example.capi-mcp-e2e:/oauth/callback"]);
    const refused = await fetch(`${gateway.baseUrl}/oauth/register`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gateway.registrationToken}` },
      body: JSON.stringify({ redirect_uris: ["javascript:alert(1)"], token_endpoint_auth_method: "none" }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_redirect_uri" });
  });
});
