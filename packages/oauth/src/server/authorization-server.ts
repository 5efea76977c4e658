// The gateway's own OAuth 2.1 authorization server for MCP clients, and the resource-server
// check for the MCP endpoint. Users log in upstream (Dex, Google, any OpenID provider) through an
// UpstreamProvider; MCP clients only ever see this server's codes and opaque tokens, never the
// upstream's (MCP 2025-11-25 authorization; RFC 9728, 8414, 8707, 7591, 7636, 7009).
import { isGatewayError } from "@capi-mcp/core";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { createBrowserCookies } from "./browser-cookies.js";
import { createClientMetadataDocuments } from "./client-metadata-document.js";
import { createClientRegistry, type ResolvedClient, readPresentedClient } from "./clients.js";
import { registerConsentEndpoint } from "./consent-endpoint.js";
import { isValidCodeVerifier } from "./crypto.js";
import type { EndpointContext } from "./endpoint-context.js";
import { createGrantService } from "./grants.js";
import { createKeyedRateLimiter } from "./rate-limiter.js";
import { principalFromRecord } from "./records.js";
import { registerRegistrationEndpoint } from "./registration-endpoint.js";
import { describeIssues, optionalText, parseScopes, readForm, singleParameters } from "./request-parameters.js";
import { errorPage, jsonResponse, oauthErrorResponse } from "./responses.js";
import { registerSignInEndpoints } from "./sign-in-endpoints.js";
import type {
  AuthenticationResult,
  AuthorizationServer,
  AuthorizationServerEvent,
  AuthorizationServerLifetimes,
  AuthorizationServerOptions,
  AuthorizationServerRateLimits,
} from "./types.js";

export const defaultLifetimes: AuthorizationServerLifetimes = {
  authorizationCodeSeconds: 60,
  accessTokenSeconds: 60 * 60,
  refreshTokenSeconds: 30 * 24 * 60 * 60,
  consentSeconds: 30 * 24 * 60 * 60,
  pendingLoginSeconds: 10 * 60,
  clientRegistrationSeconds: 180 * 24 * 60 * 60,
  unusedClientRegistrationSeconds: 60 * 60,
};

export const defaultMaxRegisteredClients = 5000;

export const defaultRateLimits: AuthorizationServerRateLimits = {
  perAddress: { capacity: 60, refillPerSecond: 1 },
  perClient: { capacity: 120, refillPerSecond: 2 },
};

const maximumBodyBytes = 16 * 1024;
const scopeTokenPattern = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const tokenCommonSchema = z.object({
  grant_type: z.string().max(64).optional(),
  resource: optionalText(2048),
});

const authorizationCodeGrantSchema = z.object({
  code: z.string().min(1).max(256),
  redirect_uri: z.string().min(1).max(2000),
  code_verifier: z.string().min(1).max(256),
});

const refreshGrantSchema = z.object({
  refresh_token: z.string().min(1).max(256),
  scope: optionalText(1000),
});

const revokeSchema = z.object({
  token: z.string().min(1).max(4096),
  token_type_hint: optionalText(64),
});

/** A quoted-string parameter value for WWW-Authenticate; our descriptions never need quotes. */
function quoted(value: string): string {
  return `"${value.replaceAll(/["\\]/g, "'")}"`;
}

function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`The OAuth base URL ${JSON.stringify(value)} is not a URL.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError("The OAuth base URL must use https (or http on loopback for development).");
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    // The issuer is the origin: metadata, endpoints and the resource all hang off its root.
    throw new TypeError("The OAuth base URL must be an origin, without a path, query or fragment.");
  }
  return url.origin;
}

export function createAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  const baseUrl = parseBaseUrl(options.baseUrl);
  const resourcePath = options.resourcePath ?? "/mcp";
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(resourcePath) || resourcePath.endsWith("/")) {
    throw new TypeError(`The resource path ${JSON.stringify(resourcePath)} must start with / and not end with one.`);
  }
  const resource = `${baseUrl}${resourcePath}`;
  const resourceMetadataUrl = `${baseUrl}/.well-known/oauth-protected-resource${resourcePath}`;
  const scopes = [...options.scopes];
  if (scopes.length === 0 || !scopes.every((scope) => scopeTokenPattern.test(scope))) {
    throw new TypeError("The OAuth scopes must be a non-empty list of scope tokens.");
  }
  const requiredScopes = [...(options.requiredScopes ?? scopes)];
  const lifetimes: AuthorizationServerLifetimes = { ...defaultLifetimes, ...options.lifetimes };
  const rateLimits: AuthorizationServerRateLimits = { ...defaultRateLimits, ...options.rateLimits };
  const now = options.now ?? Date.now;
  const serviceName = options.serviceName ?? "capi-mcp";
  const { store, upstream } = options;
  const emit = (event: AuthorizationServerEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // A failing audit sink must not leave a flow half done (a code issued but not returned).
    }
  };
  const time = () => new Date(now()).toISOString();

  const redirectUriRules = { allowPrivateUseSchemes: options.redirectUris?.allowPrivateUseSchemes ?? true };
  const metadataDocuments = createClientMetadataDocuments(
    { ...options.clientMetadataDocuments, redirectUriRules },
    now,
  );
  const clients = createClientRegistry({
    store,
    metadataDocuments,
    supportedScopes: scopes,
    registrationSeconds: lifetimes.clientRegistrationSeconds,
    unusedRegistrationSeconds: lifetimes.unusedClientRegistrationSeconds,
    maxRegisteredClients: options.registration.maxClients ?? defaultMaxRegisteredClients,
    redirectUriRules,
    now,
  });
  const grants = createGrantService({
    store,
    upstream,
    toPrincipal: options.toPrincipal,
    lifetimes,
    resource,
    now,
    emit,
  });
  const addressLimiter = createKeyedRateLimiter(rateLimits.perAddress, now);
  const clientLimiter = createKeyedRateLimiter(rateLimits.perClient, now);

  const registrationEnabled = options.registration.allowPublic || options.registration.accessToken !== undefined;
  const browserEndpoints = new Set(["/oauth/authorize", "/oauth/callback", "/oauth/consent"]);

  function tooManyRequests(path: string, retryAfterSeconds: number): Response {
    const headers = { "retry-after": String(retryAfterSeconds) };
    const description = `Too many requests; retry after ${retryAfterSeconds} seconds.`;
    if (browserEndpoints.has(path)) {
      const page = errorPage({ status: 429, error: "rate_limited", title: "Too many requests", message: description });
      page.headers.set("retry-after", headers["retry-after"]);
      return page;
    }
    return oauthErrorResponse(429, "rate_limited", description, headers);
  }

  function limitClient(clientId: string, path: string): Response | undefined {
    const decision = clientLimiter.take(clientId);
    if (decision.allowed) {
      return undefined;
    }
    emit({ type: "rate_limited", time: time(), endpoint: path, limit: "client", clientId });
    return tooManyRequests(path, decision.retryAfterSeconds);
  }

  function isCanonicalResource(value: string): boolean {
    if (value.includes("#")) {
      return false;
    }
    try {
      // URL parsing lower-cases scheme and host, which the MCP specification asks servers to accept.
      return new URL(value).href === new URL(resource).href;
    } catch {
      return false;
    }
  }

  const protectedResourceMetadata = {
    resource,
    authorization_servers: [baseUrl],
    scopes_supported: scopes,
    bearer_methods_supported: ["header"],
    resource_name: serviceName,
  };
  const authorizationServerMetadata = {
    issuer: baseUrl,
    authorization_endpoint: `${baseUrl}/oauth/authorize`,
    token_endpoint: `${baseUrl}/oauth/token`,
    ...(registrationEnabled ? { registration_endpoint: `${baseUrl}/oauth/register` } : {}),
    revocation_endpoint: `${baseUrl}/oauth/revoke`,
    scopes_supported: scopes,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    revocation_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
  };
  // Public documents: browser-based MCP clients read them cross-origin.
  const publicHeaders = { "access-control-allow-origin": "*", "cache-control": "public, max-age=300" };

  const routes = new Hono();
  function reportUnexpected(error: unknown): void {
    try {
      options.onUnexpectedError?.(error);
    } catch {
      // The answer to the client must not depend on the log.
    }
  }

  routes.onError((error, context) => {
    reportUnexpected(error);
    const path = context.req.path;
    // The store being full or unreachable is a temporary condition, not a bug: say so (503),
    // so clients retry instead of giving up.
    if (isGatewayError(error) && error.code === "unavailable") {
      if (browserEndpoints.has(path)) {
        return errorPage({
          status: 503,
          error: "temporarily_unavailable",
          title: "Try again shortly",
          message: "The gateway cannot keep sign-in state right now. Try again from your application in a minute.",
        });
      }
      return oauthErrorResponse(
        503,
        "temporarily_unavailable",
        "The authorization server cannot keep state right now; try again shortly.",
        {
          "retry-after": "30",
        },
      );
    }
    if (browserEndpoints.has(path)) {
      return errorPage({
        status: 500,
        error: "server_error",
        title: "Something went wrong",
        message:
          "The sign-in could not be completed because of an error on the gateway. Try again from your application.",
      });
    }
    return oauthErrorResponse(500, "server_error", "The authorization server failed unexpectedly.");
  });

  routes.get("/.well-known/oauth-protected-resource", (context) =>
    context.json(protectedResourceMetadata, 200, publicHeaders),
  );
  routes.get(`/.well-known/oauth-protected-resource${resourcePath}`, (context) =>
    context.json(protectedResourceMetadata, 200, publicHeaders),
  );
  routes.get("/.well-known/oauth-authorization-server", (context) =>
    context.json(authorizationServerMetadata, 200, publicHeaders),
  );

  routes.use("/oauth/*", async (context, next) => {
    const address = options.clientAddress(context) ?? "unknown";
    const decision = addressLimiter.take(address);
    if (!decision.allowed) {
      emit({ type: "rate_limited", time: time(), endpoint: context.req.path, limit: "address", clientId: undefined });
      return tooManyRequests(context.req.path, decision.retryAfterSeconds);
    }
    return next();
  });
  routes.use(
    "/oauth/*",
    bodyLimit({
      maxSize: maximumBodyBytes,
      onError: () =>
        oauthErrorResponse(413, "invalid_request", `The request body is larger than ${maximumBodyBytes} bytes.`),
    }),
  );

  const endpoints: EndpointContext = {
    baseUrl,
    resource,
    scopes,
    serviceName,
    store,
    upstream,
    toPrincipal: options.toPrincipal,
    lifetimes,
    clients,
    grants,
    cookies: createBrowserCookies(baseUrl),
    now,
    emit,
    time,
    limitClient,
    isCanonicalResource,
  };
  registerRegistrationEndpoint(routes, endpoints, options.registration);
  registerSignInEndpoints(routes, endpoints);
  registerConsentEndpoint(routes, endpoints);

  /** Client authentication shared by the token and revocation endpoints. */
  async function authenticateClient(
    context: Context,
    form: Record<string, string>,
    path: string,
  ): Promise<{ ok: true; client: ResolvedClient } | { ok: false; response: Response }> {
    const presented = readPresentedClient(context.req.header("authorization"), {
      client_id: form.client_id,
      client_secret: form.client_secret,
    });
    if (!presented.ok) {
      const status = presented.error === "invalid_client" ? 401 : 400;
      const headers: Record<string, string> = presented.basic
        ? { "www-authenticate": `Basic realm="${serviceName}"` }
        : {};
      return { ok: false, response: oauthErrorResponse(status, presented.error, presented.description, headers) };
    }
    const limited = limitClient(presented.presented.clientId, path);
    if (limited !== undefined) {
      return { ok: false, response: limited };
    }
    const authenticated = await clients.authenticate(presented.presented);
    if (!authenticated.ok) {
      emit({
        type: "client_refused",
        time: time(),
        clientId: presented.presented.clientId,
        reason: authenticated.description,
      });
      const headers: Record<string, string> =
        presented.presented.method === "client_secret_basic"
          ? { "www-authenticate": `Basic realm="${serviceName}"` }
          : {};
      return {
        ok: false,
        response: oauthErrorResponse(authenticated.status, authenticated.error, authenticated.description, headers),
      };
    }
    return { ok: true, client: authenticated.client };
  }

  routes.post("/oauth/token", async (context) => {
    const form = await readForm(context);
    if (form === undefined) {
      return oauthErrorResponse(400, "invalid_request", "The token request must be application/x-www-form-urlencoded.");
    }
    const { values, repeated } = singleParameters(form);
    if (repeated.length > 0) {
      return oauthErrorResponse(400, "invalid_request", `Parameters must not repeat: ${repeated.join(", ")}.`);
    }
    const authenticated = await authenticateClient(context, values, "/oauth/token");
    if (!authenticated.ok) {
      return authenticated.response;
    }
    const client = authenticated.client;
    const common = tokenCommonSchema.safeParse(values);
    if (!common.success) {
      return oauthErrorResponse(400, "invalid_request", describeIssues(common.error));
    }
    const grantType = common.data.grant_type;
    if (grantType === undefined) {
      return oauthErrorResponse(400, "invalid_request", "grant_type is required.");
    }
    if (grantType !== "authorization_code" && grantType !== "refresh_token") {
      return oauthErrorResponse(
        400,
        "unsupported_grant_type",
        "Only authorization_code and refresh_token are supported.",
      );
    }
    if (!client.grantTypes.includes(grantType)) {
      return oauthErrorResponse(
        400,
        "unauthorized_client",
        `This client is not registered for the ${grantType} grant.`,
      );
    }
    if (common.data.resource !== undefined && !isCanonicalResource(common.data.resource)) {
      return oauthErrorResponse(400, "invalid_target", `This server issues tokens only for the resource ${resource}.`);
    }
    let outcome: Awaited<ReturnType<typeof grants.redeemCode>>;
    if (grantType === "authorization_code") {
      const parsed = authorizationCodeGrantSchema.safeParse(values);
      if (!parsed.success) {
        return oauthErrorResponse(400, "invalid_request", describeIssues(parsed.error));
      }
      if (!isValidCodeVerifier(parsed.data.code_verifier)) {
        return oauthErrorResponse(
          400,
          "invalid_request",
          "code_verifier must be 43 to 128 unreserved characters (RFC 7636).",
        );
      }
      outcome = await grants.redeemCode({
        code: parsed.data.code,
        clientId: client.clientId,
        clientMayRefresh: client.grantTypes.includes("refresh_token"),
        redirectUri: parsed.data.redirect_uri,
        codeVerifier: parsed.data.code_verifier,
      });
    } else {
      const parsed = refreshGrantSchema.safeParse(values);
      if (!parsed.success) {
        return oauthErrorResponse(400, "invalid_request", describeIssues(parsed.error));
      }
      outcome = await grants.refresh({
        refreshToken: parsed.data.refresh_token,
        clientId: client.clientId,
        scopes: parseScopes(parsed.data.scope),
      });
    }
    if (!outcome.ok) {
      return oauthErrorResponse(outcome.status, outcome.error, outcome.description);
    }
    try {
      // A client that has signed someone in keeps its registration; unused ones expire soon.
      await clients.recordSignIn(client);
    } catch (error) {
      // The tokens are issued and the code is spent: the client gets them, and the operator
      // learns that the registration was not extended (it then lapses like an unused one).
      reportUnexpected(error);
    }
    const tokens = outcome.tokens;
    return jsonResponse({
      access_token: tokens.accessToken,
      token_type: "Bearer",
      expires_in: tokens.expiresIn,
      scope: tokens.scopes.join(" "),
      ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
    });
  });

  routes.post("/oauth/revoke", async (context) => {
    const form = await readForm(context);
    if (form === undefined) {
      return oauthErrorResponse(
        400,
        "invalid_request",
        "The revocation request must be application/x-www-form-urlencoded.",
      );
    }
    const { values, repeated } = singleParameters(form);
    if (repeated.length > 0) {
      return oauthErrorResponse(400, "invalid_request", `Parameters must not repeat: ${repeated.join(", ")}.`);
    }
    const authenticated = await authenticateClient(context, values, "/oauth/revoke");
    if (!authenticated.ok) {
      return authenticated.response;
    }
    const parsed = revokeSchema.safeParse(values);
    if (!parsed.success) {
      return oauthErrorResponse(400, "invalid_request", describeIssues(parsed.error));
    }
    // RFC 7009 §2.2: the answer is 200 whether or not the token existed; a token of another
    // client is left alone without saying so, so revocation cannot probe for tokens.
    await grants.revokeToken(parsed.data.token, authenticated.client.clientId, parsed.data.token_type_hint);
    return new Response(null, { status: 200, headers: { "cache-control": "no-store", pragma: "no-cache" } });
  });

  async function authenticate(request: Request): Promise<AuthenticationResult> {
    const baseChallenge = `Bearer resource_metadata=${quoted(resourceMetadataUrl)}, scope=${quoted(requiredScopes.join(" "))}`;
    const header = request.headers.get("authorization");
    const match = header === null ? null : /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i.exec(header);
    if (header === null || !/^Bearer(\s|$)/i.test(header)) {
      return {
        ok: false,
        response: oauthErrorResponse(401, "invalid_token", `An access token from ${baseUrl} is required.`, {
          "www-authenticate": baseChallenge,
        }),
      };
    }
    const token = match?.[1];
    const check =
      token === undefined
        ? { ok: false as const, reason: "The Authorization header is malformed." }
        : await grants.checkAccessToken(token);
    if (!check.ok) {
      return {
        ok: false,
        response: oauthErrorResponse(401, "invalid_token", check.reason, {
          "www-authenticate": `${baseChallenge}, error="invalid_token", error_description=${quoted(check.reason)}`,
        }),
      };
    }
    const missing = requiredScopes.filter((scope) => !check.record.scopes.includes(scope));
    if (missing.length > 0) {
      const description = `The access token lacks the scope ${missing.join(" ")}.`;
      return {
        ok: false,
        response: oauthErrorResponse(403, "insufficient_scope", description, {
          "www-authenticate": `Bearer error="insufficient_scope", scope=${quoted(requiredScopes.join(" "))}, resource_metadata=${quoted(resourceMetadataUrl)}, error_description=${quoted(description)}`,
        }),
      };
    }
    return {
      ok: true,
      principal: { ...principalFromRecord(check.grant.principal), idTokenCustody: grants.custody(check.grant.grantId) },
      clientId: check.record.clientId,
      scopes: check.record.scopes,
    };
  }

  return {
    routes,
    authenticate,
    async close() {
      addressLimiter.clear();
      clientLimiter.clear();
      metadataDocuments.clear();
      grants.clear();
    },
  };
}
