// createUpstreamProvider against a stand-in OpenID provider: HTTPS on loopback with a
// throw-away self-signed certificate (made with the machine's openssl, as the e2e fleet does),
// discovery, JWKS, and a token endpoint whose answer each test decides; ID tokens signed with
// jose. The real provider is exercised in e2e/tests/oauth-upstream-login.test.ts.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GatewayError } from "@capi-mcp/core";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createUpstreamProvider,
  defaultUpstreamScopes,
  googleIssuerUrl,
  type OpenIdUpstreamProvider,
  type UpstreamProviderOptions,
} from "./upstream-provider.js";

const run = promisify(execFile);

interface TokenRequest {
  readonly authorization: string | undefined;
  readonly form: URLSearchParams;
}

interface StubAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** Never answer: for timeouts. */
  readonly hang?: boolean;
}

interface StubIssuer {
  readonly issuer: string;
  readonly caPem: string;
  /** Requests seen per path, in order. */
  readonly requests: { path: string; tokenRequest?: TokenRequest }[];
  /** Decides the token endpoint's answer; the default issues a token set for `claims`. */
  tokenAnswer: (request: TokenRequest) => Promise<StubAnswer>;
  /** Decides the discovery answer; the default serves the metadata. */
  discoveryAnswer: () => StubAnswer;
  signIdToken(claims: JWTPayload): Promise<string>;
  /** Claims an ID token normally carries for this issuer and client, valid for an hour. */
  standardClaims(overrides?: JWTPayload): JWTPayload;
  close(): Promise<void>;
}

const stubClientId = "capi-mcp";
const stubClientSecret = "stub-client-secret-value";

async function selfSignedCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-stub-issuer-"));
  try {
    const certFile = path.join(directory, "cert.pem");
    const keyFile = path.join(directory, "key.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=stub issuer",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
    return { certPem: await readFile(certFile, "utf8"), keyPem: await readFile(keyFile, "utf8") };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function answer(response: ServerResponse, stub: StubAnswer): void {
  if (stub.hang) return;
  response.writeHead(stub.status, { "content-type": "application/json", ...stub.headers });
  response.end(JSON.stringify(stub.body));
}

async function startStubIssuer(): Promise<StubIssuer> {
  const { certPem, keyPem } = await selfSignedCertificate();
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "stub", alg: "RS256", use: "sig" };
  let issuer = "";
  const hanging: ServerResponse[] = [];

  const stub: StubIssuer = {
    get issuer() {
      return issuer;
    },
    caPem: certPem,
    requests: [],
    signIdToken: (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "stub", typ: "JWT" }).sign(privateKey),
    standardClaims: (overrides = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return { iss: issuer, aud: stubClientId, sub: "alice", iat: now, exp: now + 3600, ...overrides };
    },
    tokenAnswer: async (request) => {
      const nonce = request.form.get("grant_type") === "authorization_code" ? { nonce: "expected-nonce" } : {};
      return {
        status: 200,
        body: {
          access_token: "stub-access-token",
          token_type: "Bearer",
          expires_in: 3600,
          id_token: await stub.signIdToken(stub.standardClaims(nonce)),
          refresh_token: "stub-refresh-token-2",
        },
      };
    },
    discoveryAnswer: () => ({
      status: 200,
      body: {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic"],
      },
    }),
    close: async () => {
      for (const response of hanging) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer({ cert: certPem, key: keyPem }, async (request, response) => {
    const url = new URL(request.url ?? "/", "https://127.0.0.1");
    if (url.pathname === "/.well-known/openid-configuration") {
      stub.requests.push({ path: url.pathname });
      const discovery = stub.discoveryAnswer();
      if (discovery.hang) hanging.push(response);
      answer(response, discovery);
      return;
    }
    if (url.pathname === "/jwks") {
      stub.requests.push({ path: url.pathname });
      answer(response, { status: 200, body: { keys: [publicJwk] } });
      return;
    }
    if (url.pathname === "/token" && request.method === "POST") {
      const tokenRequest = {
        authorization: request.headers.authorization,
        form: new URLSearchParams(await readBody(request)),
      };
      stub.requests.push({ path: url.pathname, tokenRequest });
      const token = await stub.tokenAnswer(tokenRequest);
      if (token.hang) hanging.push(response);
      answer(response, token);
      return;
    }
    answer(response, { status: 404, body: { error: "not_found" } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the stub issuer has no port");
  issuer = `https://127.0.0.1:${address.port}`;
  return stub;
}

const redirectUri = "https://mcp.example.com/oauth/callback";
const code = "stub-authorization-code-0123456789";
const expected = { state: "expected-state", nonce: "expected-nonce", codeVerifier: "v".repeat(43) };

let stub: StubIssuer;
let directory: string;
const providers: OpenIdUpstreamProvider[] = [];

beforeAll(async () => {
  stub = await startStubIssuer();
  directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-upstream-"));
});
afterAll(async () => {
  await stub.close();
  await rm(directory, { recursive: true, force: true });
});

let defaultTokenAnswer: StubIssuer["tokenAnswer"];
let defaultDiscoveryAnswer: StubIssuer["discoveryAnswer"];
beforeEach(() => {
  defaultTokenAnswer ??= stub.tokenAnswer;
  defaultDiscoveryAnswer ??= stub.discoveryAnswer;
  stub.tokenAnswer = defaultTokenAnswer;
  stub.discoveryAnswer = defaultDiscoveryAnswer;
  stub.requests.length = 0;
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

async function provider(overrides: Partial<UpstreamProviderOptions> = {}): Promise<OpenIdUpstreamProvider> {
  const created = await createUpstreamProvider({
    kind: "oidc",
    issuerUrl: stub.issuer,
    clientId: stubClientId,
    clientSecret: stubClientSecret,
    redirectUri,
    caPem: stub.caPem,
    ...overrides,
  });
  providers.push(created);
  return created;
}

function callback(parameters: Record<string, string> = { code, state: expected.state }): URL {
  const url = new URL(redirectUri);
  url.search = new URLSearchParams(parameters).toString();
  return url;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof GatewayError)) throw new Error("expected a GatewayError");
  return outcome;
}

function idTokenAnswer(claims: JWTPayload, extra: Record<string, unknown> = {}): StubIssuer["tokenAnswer"] {
  return async () => ({
    status: 200,
    body: { access_token: "a", token_type: "Bearer", id_token: await stub.signIdToken(claims), ...extra },
  });
}

function tokenRequests(): TokenRequest[] {
  return stub.requests.flatMap((request) => (request.tokenRequest ? [request.tokenRequest] : []));
}

describe("createUpstreamProvider options", () => {
  it("default to openid email profile groups offline_access for Dex and generic OpenID", () => {
    expect(defaultUpstreamScopes("dex")).toEqual(["openid", "email", "profile", "groups", "offline_access"]);
    expect(defaultUpstreamScopes("oidc")).toEqual(["openid", "email", "profile", "groups", "offline_access"]);
  });

  it("default to openid email profile for Google, which has no groups claim", () => {
    expect(defaultUpstreamScopes("google")).toEqual(["openid", "email", "profile"]);
  });

  it("use Google's issuer when none is given for Google, without contacting it", async () => {
    const google = await provider({ kind: "google", issuerUrl: undefined, caPem: undefined });
    expect(google.issuer).toBe(googleIssuerUrl);
    expect(google.scopes).toEqual(["openid", "email", "profile"]);
  });

  it("require an issuer URL for Dex and generic OpenID", async () => {
    for (const kind of ["dex", "oidc"] as const) {
      const error = await failure(provider({ kind, issuerUrl: undefined }));
      expect(error.code).toBe("invalid_input");
      expect(error.message).toBe(`The identity provider configuration is invalid: the ${kind} issuer URL is required.`);
    }
  });

  it("refuse an issuer over plain http, even on loopback", async () => {
    const error = await failure(provider({ issuerUrl: "http://127.0.0.1:5556" }));
    expect(error.message).toContain("must use https");
  });

  it("refuse a redirect URI over plain http except on loopback", async () => {
    expect((await failure(provider({ redirectUri: "http://mcp.example.com/oauth/callback" }))).message).toContain(
      "must use https (or http on loopback)",
    );
    await expect(provider({ redirectUri: "http://127.0.0.1:8080/oauth/callback" })).resolves.toBeDefined();
  });

  it("refuse scopes without openid", async () => {
    expect((await failure(provider({ scopes: ["email"] }))).message).toContain("the scopes must include openid");
  });

  it("refuse Dex's connector id and Kubernetes audience for other providers", async () => {
    expect((await failure(provider({ connectorId: "github" }))).message).toContain(
      "the connector id applies to Dex only, not to oidc",
    );
    expect((await failure(provider({ kind: "google", kubernetesAudience: "kubernetes" }))).message).toContain(
      "the Kubernetes audience applies to Dex only, not to google",
    );
  });

  it("refuse an issuer CA given both as a file and as text, an unreadable file, or a file without a certificate", async () => {
    const caFile = path.join(directory, "ca.pem");
    await writeFile(caFile, stub.caPem);
    expect((await failure(provider({ caFile }))).message).toContain("as a file or as PEM text, not both");
    expect(
      (await failure(provider({ caPem: undefined, caFile: path.join(directory, "missing.pem") }))).message,
    ).toContain("cannot be read (ENOENT)");
    const notPem = path.join(directory, "not.pem");
    await writeFile(notPem, "hello");
    expect((await failure(provider({ caPem: undefined, caFile: notPem }))).message).toContain(
      "holds no PEM certificate",
    );
  });

  it("read the issuer CA from a file", async () => {
    const caFile = path.join(directory, "ca-only.pem");
    await writeFile(caFile, stub.caPem);
    const fromFile = await provider({ caPem: undefined, caFile });
    await expect(fromFile.startLogin()).resolves.toBeDefined();
  });
});

describe("startLogin", () => {
  it("discovers the provider only on first use and then reuses what it found", async () => {
    const upstream = await provider();
    expect(stub.requests).toEqual([]);
    await upstream.startLogin();
    await upstream.startLogin();
    expect(stub.requests.filter((request) => request.path === "/.well-known/openid-configuration")).toHaveLength(1);
  });

  it("asks for a PKCE S256 challenge of the verifier, a fresh state and nonce, and the scopes", async () => {
    const upstream = await provider();
    const first = await upstream.startLogin();
    const second = await upstream.startLogin();
    const parameters = first.url.searchParams;
    expect(first.url.origin + first.url.pathname).toBe(`${stub.issuer}/auth`);
    expect(Object.fromEntries(parameters)).toMatchObject({
      client_id: stubClientId,
      response_type: "code",
      redirect_uri: redirectUri,
      scope: "openid email profile groups offline_access",
      code_challenge_method: "S256",
      prompt: "consent",
      state: first.state,
      nonce: first.nonce,
    });
    const { createHash } = await import("node:crypto");
    expect(parameters.get("code_challenge")).toBe(createHash("sha256").update(first.codeVerifier).digest("base64url"));
    expect(first.codeVerifier.length).toBeGreaterThanOrEqual(43);
    expect(second.state).not.toBe(first.state);
    expect(second.nonce).not.toBe(first.nonce);
    expect(second.codeVerifier).not.toBe(first.codeVerifier);
  });

  it("adds Dex's connector_id and the cross-client audience scope, without prompt=consent", async () => {
    const dex = await provider({ kind: "dex", connectorId: "ldap", kubernetesAudience: "kubernetes" });
    const parameters = (await dex.startLogin()).url.searchParams;
    expect(parameters.get("connector_id")).toBe("ldap");
    expect(parameters.get("scope")).toBe(
      "openid email profile groups offline_access audience:server:client_id:kubernetes",
    );
    expect(parameters.has("prompt")).toBe(false);
  });

  it("asks Google for offline access with consent, so a refresh token is issued", async () => {
    const google = await provider({ kind: "google" });
    const parameters = (await google.startLogin()).url.searchParams;
    expect(parameters.get("access_type")).toBe("offline");
    expect(parameters.get("prompt")).toBe("consent");
    expect(parameters.get("scope")).toBe("openid email profile");
  });

  it("reports a provider whose discovery fails as unavailable, and tries again on the next login", async () => {
    stub.discoveryAnswer = () => ({ status: 503, body: { error: "temporarily_unavailable" } });
    const upstream = await provider();
    const error = await failure(upstream.startLogin());
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("The identity provider cannot be reached right now. Please try again later.");
    expect(error.detail).toContain(`discovery at ${stub.issuer}`);
    stub.discoveryAnswer = defaultDiscoveryAnswer;
    await expect(upstream.startLogin()).resolves.toBeDefined();
  });

  it("refuses discovered metadata for another issuer", async () => {
    stub.discoveryAnswer = () => {
      const answer = defaultDiscoveryAnswer();
      return { ...answer, body: { ...(answer.body as object), issuer: "https://impostor.example.com" } };
    };
    const error = await failure((await provider()).startLogin());
    expect(error.code).toBe("unavailable");
    expect(error.detail).toContain("discovered metadata issuer does not match");
  });

  it("does not trust the provider without its CA", async () => {
    const error = await failure((await provider({ caPem: undefined })).startLogin());
    expect(error.code).toBe("unavailable");
    expect(error.detail).toMatch(/certificate/i);
  });

  it("gives up on a provider that does not answer within the timeout", async () => {
    stub.discoveryAnswer = () => ({ status: 200, body: {}, hang: true });
    const error = await failure((await provider({ timeoutSeconds: 0.3 })).startLogin());
    expect(error.code).toBe("unavailable");
  });
});

describe("finishLogin", () => {
  it("exchanges the code with client_secret_basic, the verifier and the configured redirect URI", async () => {
    const upstream = await provider();
    const behindProxy = new URL(`http://10.0.0.7:8080/oauth/callback${callback().search}`);
    const tokens = await upstream.finishLogin(behindProxy, expected);
    const [request] = tokenRequests();
    // RFC 6749 §2.3.1: the id and secret are form-encoded before base64.
    const [scheme, credentials = ""] = (request?.authorization ?? "").split(" ");
    expect(scheme).toBe("Basic");
    const [id = "", secret = ""] = Buffer.from(credentials, "base64").toString("utf8").split(":");
    expect([decodeURIComponent(id), decodeURIComponent(secret)]).toEqual([stubClientId, stubClientSecret]);
    expect(request?.form.get("grant_type")).toBe("authorization_code");
    expect(request?.form.get("code")).toBe(code);
    expect(request?.form.get("code_verifier")).toBe(expected.codeVerifier);
    expect(request?.form.get("redirect_uri")).toBe(redirectUri);
    expect(request?.form.has("client_secret")).toBe(false);
    expect(tokens.claims).toMatchObject({ iss: stub.issuer, sub: "alice", aud: stubClientId, nonce: "expected-nonce" });
    expect(tokens.idTokenExpiresAt).toBe(tokens.claims.exp);
    expect(tokens.refreshToken).toBe("stub-refresh-token-2");
    expect(Object.isFrozen(tokens) && Object.isFrozen(tokens.claims)).toBe(true);
  });

  it("refuses a wrong state before the code is sent anywhere", async () => {
    const error = await failure((await provider()).finishLogin(callback({ code, state: "forged" }), expected));
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toContain("state mismatch");
    expect(tokenRequests()).toEqual([]);
  });

  it("refuses a callback without a state", async () => {
    const error = await failure((await provider()).finishLogin(callback({ code }), expected));
    expect(error.code).toBe("unauthenticated");
    expect(error.detail).toContain('"state" missing');
  });

  it("refuses a login whose expectations are empty, without contacting the provider", async () => {
    const error = await failure((await provider()).finishLogin(callback(), { ...expected, state: "" }));
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toContain("the login was not started here");
    expect(stub.requests).toEqual([]);
  });

  it("reports the provider's refusal of the login (access_denied) as unauthenticated", async () => {
    const error = await failure(
      (await provider()).finishLogin(callback({ error: "access_denied", state: expected.state }), expected),
    );
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toBe(
      "The login with the identity provider failed: access was denied at the identity provider. Please log in again.",
    );
  });

  it("refuses an ID token with another nonce", async () => {
    stub.tokenAnswer = idTokenAnswer(stub.standardClaims({ nonce: "another-nonce" }));
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toContain("the ID token failed validation");
    expect(error.detail).toContain('"nonce"');
  });

  it("refuses an ID token for another audience", async () => {
    stub.tokenAnswer = idTokenAnswer(stub.standardClaims({ nonce: expected.nonce, aud: "other-app" }));
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.message).toContain("the ID token failed validation");
    expect(error.detail).toContain('"aud"');
  });

  it("refuses an ID token from another issuer", async () => {
    stub.tokenAnswer = idTokenAnswer(stub.standardClaims({ nonce: expected.nonce, iss: "https://impostor.example" }));
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.message).toContain("the ID token failed validation");
    expect(error.detail).toContain('"iss"');
  });

  it("refuses an expired ID token", async () => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    stub.tokenAnswer = idTokenAnswer(stub.standardClaims({ nonce: expected.nonce, iat: past, exp: past + 60 }));
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.message).toContain("the ID token is expired or not yet valid");
  });

  it("refuses an ID token signed with a key the provider does not publish", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT(stub.standardClaims({ nonce: expected.nonce }))
      .setProtectedHeader({ alg: "RS256", kid: "stub" })
      .sign(privateKey);
    stub.tokenAnswer = async () => ({
      status: 200,
      body: { access_token: "a", token_type: "Bearer", id_token: forged },
    });
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toContain("the ID token failed validation");
  });

  it("refuses a token response without an ID token", async () => {
    stub.tokenAnswer = async () => ({ status: 200, body: { access_token: "a", token_type: "Bearer" } });
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.code).toBe("unauthenticated");
  });

  it("reports a refused code, keeping the code and verifier out of the detail even when the provider echoes them", async () => {
    stub.tokenAnswer = async (request) => ({
      status: 400,
      body: {
        error: "invalid_grant",
        error_description: `code ${request.form.get("code")} with verifier ${request.form.get("code_verifier")} is spent`,
      },
    });
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.message).toContain("refused the authorization code (it may have expired or been used already)");
    expect(error.detail).toContain("[redacted]");
    expect(`${error.message}${error.detail}`.includes(code)).toBe(false);
    expect(`${error.message}${error.detail}`.includes(expected.codeVerifier)).toBe(false);
    expect(error.cause).toBeUndefined();
  });

  it("reports refused client credentials as such", async () => {
    stub.tokenAnswer = async () => ({
      status: 401,
      body: { error: "invalid_client" },
      headers: { "www-authenticate": 'Basic realm="stub", error="invalid_client"' },
    });
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.message).toContain("refused the gateway's own client credentials");
    expect(`${error.detail}`.includes(stubClientSecret)).toBe(false);
  });

  it("reports a failing token endpoint as unavailable", async () => {
    stub.tokenAnswer = async () => ({ status: 503, body: { error: "temporarily_unavailable" } });
    const error = await failure((await provider()).finishLogin(callback(), expected));
    expect(error.code).toBe("unavailable");
  });
});

describe("refresh", () => {
  it("returns a new validated ID token and the rotated refresh token", async () => {
    const tokens = await (await provider()).refresh("stub-refresh-token-1", "alice");
    const [request] = tokenRequests();
    expect(request?.form.get("grant_type")).toBe("refresh_token");
    expect(request?.form.get("refresh_token")).toBe("stub-refresh-token-1");
    expect(tokens.claims).toMatchObject({ sub: "alice", aud: stubClientId });
    expect(tokens.refreshToken).toBe("stub-refresh-token-2");
  });

  it("keeps the refresh token when the provider does not rotate it, as Google does", async () => {
    stub.tokenAnswer = idTokenAnswer(stub.standardClaims());
    expect((await (await provider()).refresh("stub-refresh-token-1")).refreshToken).toBe("stub-refresh-token-1");
  });

  it("refuses a new ID token for another subject", async () => {
    const error = await failure((await provider()).refresh("stub-refresh-token-1", "bob"));
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toContain("it answered for another user");
  });

  it("refuses an answer without a new ID token", async () => {
    stub.tokenAnswer = async () => ({ status: 200, body: { access_token: "a", token_type: "Bearer" } });
    const error = await failure((await provider()).refresh("stub-refresh-token-1"));
    expect(error.message).toBe(
      "The identity provider refused to renew your session: it issued no new ID token. Please log in again.",
    );
  });

  it("refuses a new ID token for another audience", async () => {
    stub.tokenAnswer = idTokenAnswer(stub.standardClaims({ aud: "other-app" }));
    const error = await failure((await provider()).refresh("stub-refresh-token-1"));
    expect(error.message).toContain("the ID token failed validation");
  });

  it("reports a refused refresh token as unauthenticated without repeating it", async () => {
    stub.tokenAnswer = async (request) => ({
      status: 400,
      body: { error: "invalid_grant", error_description: `unknown token ${request.form.get("refresh_token")}` },
    });
    const error = await failure((await provider()).refresh("stub-refresh-token-1"));
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toContain("the refresh token was refused");
    expect(`${error.detail}`.includes("stub-refresh-token-1")).toBe(false);
  });

  it("refuses an empty refresh token without contacting the provider", async () => {
    expect((await failure((await provider()).refresh(""))).code).toBe("unauthenticated");
    expect(stub.requests).toEqual([]);
  });
});
