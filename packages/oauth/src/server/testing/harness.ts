// Drives the authorization server the way a browser and an MCP client would, on a fake clock,
// with an in-memory store and a fake identity provider. Not exported from the package.
import { createHash, randomBytes } from "node:crypto";
import { GatewayError } from "@capi-mcp/core";
import type { UpstreamTokens } from "../../contracts.js";
import { createAuthorizationServer } from "../authorization-server.js";
import type { AuthorizationServer, AuthorizationServerEvent, AuthorizationServerOptions } from "../types.js";
import { createFakeUpstream, type FakeUpstream } from "./fake-upstream.js";
import { createMemoryTokenStore, type MemoryTokenStore } from "./memory-token-store.js";

export const baseUrl = "http://127.0.0.1:8080";
export const resource = `${baseUrl}/mcp`;
export const clientRedirect = "http://127.0.0.1:33418/callback";
export const registrationToken = "registration-token-for-tests-0123456789";

/** The identity rules of the real gateway in miniature: email required, no `system:` names. */
export function testToPrincipal(tokens: UpstreamTokens) {
  const claims = tokens.claims;
  const email = typeof claims.email === "string" ? claims.email : undefined;
  if (email === undefined) {
    throw new GatewayError("unauthenticated", "Your account has no email address, which is your Kubernetes user name.");
  }
  const groups = Array.isArray(claims.groups) ? claims.groups.filter((group) => typeof group === "string") : [];
  if (email.startsWith("system:") || groups.some((group) => group.startsWith("system:"))) {
    throw new GatewayError("forbidden", "User names and groups beginning with system: are refused.");
  }
  return {
    subject: String(claims.sub),
    issuer: String(claims.iss),
    username: email,
    email,
    emailVerified: claims.email_verified === true,
    groups,
  };
}

export interface Harness {
  readonly server: AuthorizationServer;
  readonly store: MemoryTokenStore;
  readonly upstream: FakeUpstream;
  readonly events: AuthorizationServerEvent[];
  now(): number;
  advance(seconds: number): void;
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** A fetch that fails the test if the server fetches anything it was not given. */
async function unexpectedFetch(): Promise<Response> {
  throw new Error("no network in this test");
}

export function createHarness(overrides: Partial<AuthorizationServerOptions> = {}): Harness {
  let current = Date.parse("2026-12-01T10:00:00Z");
  const now = () => current;
  const store = createMemoryTokenStore(now);
  const upstream = createFakeUpstream(now);
  const events: AuthorizationServerEvent[] = [];
  const server = createAuthorizationServer({
    baseUrl,
    store,
    upstream,
    toPrincipal: testToPrincipal,
    registration: { accessToken: registrationToken, allowPublic: false },
    clientMetadataDocuments: { allowPrivateAddresses: false, fetch: unexpectedFetch },
    scopes: ["mcp"],
    clientAddress: (context) => context.req.header("x-test-address") ?? "127.0.0.1",
    onEvent: (event) => events.push(event),
    now,
    ...overrides,
  });
  return {
    server,
    store,
    upstream,
    events,
    now,
    advance(seconds) {
      current += seconds * 1000;
    },
    async request(path, init) {
      return server.routes.request(path.startsWith("http") ? path : `${baseUrl}${path}`, init);
    },
  };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
}

export async function registerClient(
  harness: Harness,
  metadata: Record<string, unknown> = {},
): Promise<RegisteredClient> {
  const response = await harness.request("/oauth/register", {
    method: "POST",
    headers: { authorization: `Bearer ${registrationToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      redirect_uris: [clientRedirect],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      client_name: "Test MCP client",
      ...metadata,
    }),
  });
  if (response.status !== 201) {
    throw new Error(`registration failed with ${response.status}: ${await response.text()}`);
  }
  const body = (await response.json()) as { client_id: string; client_secret?: string };
  return { clientId: body.client_id, clientSecret: body.client_secret };
}

export function authorizePath(parameters: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined) {
      search.append(name, value);
    }
  }
  return `/oauth/authorize?${search}`;
}

export interface AuthorizationInput {
  readonly clientId: string;
  readonly challenge: string;
  readonly redirectUri?: string;
  readonly state?: string;
  readonly extra?: Record<string, string | undefined>;
}

export function authorizationParameters(input: AuthorizationInput): Record<string, string | undefined> {
  return {
    response_type: "code",
    client_id: input.clientId,
    redirect_uri: input.redirectUri ?? clientRedirect,
    code_challenge: input.challenge,
    code_challenge_method: "S256",
    state: input.state ?? "client-state-1",
    resource,
    scope: "mcp",
    ...input.extra,
  };
}

export function locationOf(response: Response): URL {
  const location = response.headers.get("location");
  if (location === null) {
    throw new Error(`expected a redirect, got ${response.status}`);
  }
  return new URL(location);
}

/** The `name=value` pairs a response sets, as a Cookie header would send them back. */
export function cookiesSetBy(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(";")[0] ?? "")
    .join("; ");
}

/**
 * Follows the redirect to the fake provider and comes back as the browser would after login,
 * with the cookies /authorize set (or, to play another browser, with `cookie` instead).
 */
export async function returnFromUpstream(
  harness: Harness,
  authorizeResponse: Response,
  options: { cookie?: string; query?: string } = {},
): Promise<Response> {
  const upstreamUrl = locationOf(authorizeResponse);
  const state = upstreamUrl.searchParams.get("state") ?? "";
  const cookie = options.cookie ?? cookiesSetBy(authorizeResponse);
  return harness.request(
    `/oauth/callback?${options.query ?? "code=upstream-code"}&state=${encodeURIComponent(state)}`,
    {
      headers: cookie === "" ? {} : { cookie },
    },
  );
}

export interface ConsentForm {
  readonly consentId: string;
  readonly csrfToken: string;
  readonly cookie: string;
}

export async function readConsentForm(page: Response): Promise<ConsentForm> {
  const html = await page.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? "";
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return { consentId: field("consent_id"), csrfToken: field("csrf_token"), cookie };
}

export async function submitConsent(
  harness: Harness,
  form: ConsentForm,
  decision: "approve" | "deny",
  headers: Record<string, string> = {},
): Promise<Response> {
  return harness.request("/oauth/consent", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: form.cookie, origin: baseUrl, ...headers },
    body: new URLSearchParams({ consent_id: form.consentId, csrf_token: form.csrfToken, decision }).toString(),
  });
}

export async function postForm(
  harness: Harness,
  path: string,
  fields: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) {
      body.append(name, value);
    }
  }
  return harness.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: body.toString(),
  });
}

/** Runs authorize → upstream login → consent and returns the authorization code. */
export async function obtainCode(
  harness: Harness,
  client: RegisteredClient,
  pkce: { challenge: string },
  extra: Record<string, string | undefined> = {},
): Promise<string> {
  const authorize = await harness.request(
    authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge, extra })),
  );
  if (authorize.status !== 302) {
    throw new Error(`authorize answered ${authorize.status}`);
  }
  const callback = await returnFromUpstream(harness, authorize);
  const redirect =
    callback.status === 200 ? await submitConsent(harness, await readConsentForm(callback), "approve") : callback;
  const code = locationOf(redirect).searchParams.get("code");
  if (code === null) {
    throw new Error(`no code in ${redirect.status} redirect`);
  }
  return code;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope: string;
}

export async function redeem(
  harness: Harness,
  client: RegisteredClient,
  code: string,
  verifier: string,
  overrides: Record<string, string | undefined> = {},
): Promise<Response> {
  return postForm(harness, "/oauth/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: clientRedirect,
    code_verifier: verifier,
    client_id: client.clientId,
    resource,
    ...overrides,
  });
}

/** The whole flow for a public client: registered, signed in, consented, tokens in hand. */
export async function signIn(harness: Harness): Promise<{ client: RegisteredClient; tokens: TokenResponse }> {
  const client = await registerClient(harness);
  const pkce = pkcePair();
  const code = await obtainCode(harness, client, pkce);
  const response = await redeem(harness, client, code, pkce.verifier);
  if (response.status !== 200) {
    throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`);
  }
  return { client, tokens: (await response.json()) as TokenResponse };
}

export function mcpRequest(token: string | undefined): Request {
  return new Request(resource, {
    method: "POST",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

export async function refresh(harness: Harness, client: RegisteredClient, refreshToken: string): Promise<Response> {
  return postForm(harness, "/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: client.clientId,
    resource,
  });
}
