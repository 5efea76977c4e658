// The gateway's own OAuth 2.1 authorization server for MCP clients, and the resource-server
// check for the MCP endpoint. Users log in upstream (Dex, Google, any OpenID provider) through an
// UpstreamProvider; MCP clients only ever see this server's codes and opaque tokens, never the
// upstream's (MCP 2025-11-25 authorization; RFC 9728, 8414, 8707, 7591, 7636, 7009).
import { isGatewayError } from "@capi-mcp/core";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { createClientMetadataDocuments } from "./client-metadata-document.js";
import { createClientRegistry, type ResolvedClient, readPresentedClient } from "./clients.js";
import { consentPage } from "./consent-page.js";
import { constantTimeEqual, isValidCodeVerifier, randomValue, s256ChallengePattern, sha256 } from "./crypto.js";
import { actorOf, createGrantService } from "./grants.js";
import { createKeyedRateLimiter } from "./rate-limiter.js";
import {
  type AuthorizationRequest,
  consentSchema,
  pendingConsentSchema,
  pendingLoginSchema,
  principalFromRecord,
  principalToRecord,
  readRecord,
  storeKeys,
  writeRecord,
} from "./records.js";
import { errorPage, jsonResponse, oauthErrorResponse, redirectLocation, redirectWithParameters } from "./responses.js";
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
};

export const defaultRateLimits: AuthorizationServerRateLimits = {
  perAddress: { capacity: 60, refillPerSecond: 1 },
  perClient: { capacity: 120, refillPerSecond: 2 },
};

const maximumBodyBytes = 16 * 1024;
const scopeTokenPattern = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const optionalText = (maximum: number) => z.string().max(maximum).optional();

const authorizeSchema = z.object({
  response_type: optionalText(64),
  code_challenge: optionalText(256),
  code_challenge_method: optionalText(64),
  scope: optionalText(1000),
  resource: optionalText(2048),
});

const callbackSchema = z.object({
  state: z.string().min(1).max(2048),
  error: optionalText(2048),
});

const consentFormSchema = z.object({
  consent_id: z.string().min(1).max(128),
  csrf_token: z.string().min(1).max(128),
  decision: z.enum(["approve", "deny"]),
});

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

/**
 * Reads parameters that must appear at most once (RFC 6749 §3.1, §3.2). An empty value counts as
 * absent, as the RFC says.
 */
function singleParameters(parameters: URLSearchParams): { values: Record<string, string>; repeated: string[] } {
  const values: Record<string, string> = {};
  const repeated = new Set<string>();
  for (const [name, value] of parameters) {
    if (value === "") {
      continue;
    }
    if (name in values) {
      repeated.add(name);
    }
    values[name] = value;
  }
  return { values, repeated: [...repeated] };
}

function describeIssues(error: z.ZodError): string {
  const fields = [...new Set(error.issues.map((issue) => issue.path.join(".") || "(request)"))];
  return `Missing or invalid parameters: ${fields.join(", ")}.`;
}

function parseScopes(value: string | undefined): string[] | undefined {
  return value?.split(" ").filter((scope) => scope !== "");
}

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
  const secureCookies = baseUrl.startsWith("https://");
  // __Host- pins the cookie to this exact origin; browsers accept it only with Secure, so plain
  // http (loopback development and tests) uses a plain name.
  const bindingCookieName = secureCookies ? "__Host-capi-mcp-consent" : "capi-mcp-consent";

  const emit = (event: AuthorizationServerEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // A failing audit sink must not leave a flow half done (a code issued but not returned).
    }
  };
  const time = () => new Date(now()).toISOString();

  const metadataDocuments = createClientMetadataDocuments(options.clientMetadataDocuments, now);
  const clients = createClientRegistry({
    store,
    metadataDocuments,
    supportedScopes: scopes,
    registrationSeconds: lifetimes.clientRegistrationSeconds,
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

  async function readForm(context: Context): Promise<URLSearchParams | undefined> {
    const contentType = context.req.header("content-type") ?? "";
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
      return undefined;
    }
    return new URLSearchParams(await context.req.text());
  }

  function bindingCookie(value: string, maxAgeSeconds: number): string {
    const secure = secureCookies ? "; Secure" : "";
    return `${bindingCookieName}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
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

  routes.onError((error, context) => {
    try {
      options.onUnexpectedError?.(error);
    } catch {
      // The answer to the client must not depend on the log.
    }
    const path = context.req.path;
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

  routes.post("/oauth/register", async (context) => {
    if (!options.registration.allowPublic) {
      const expected = options.registration.accessToken;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(context.req.header("authorization") ?? "");
      const presented = match?.[1];
      if (expected === undefined || presented === undefined || !constantTimeEqual(presented, expected)) {
        const reason =
          expected === undefined
            ? "Dynamic client registration is disabled; use a Client ID Metadata Document URL as client_id."
            : presented === undefined
              ? "Client registration requires an initial access token (Authorization: Bearer …)."
              : "The registration access token is not valid.";
        emit({ type: "registration_refused", time: time(), reason });
        const challenge =
          presented === undefined
            ? `Bearer realm="${serviceName}"`
            : `Bearer realm="${serviceName}", error="invalid_token"`;
        return oauthErrorResponse(401, "invalid_token", reason, { "www-authenticate": challenge });
      }
    }
    if (!/^application\/json\s*(;|$)/i.test(context.req.header("content-type") ?? "")) {
      return oauthErrorResponse(
        400,
        "invalid_client_metadata",
        "The registration request must be JSON (application/json).",
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(await context.req.text());
    } catch {
      return oauthErrorResponse(400, "invalid_client_metadata", "The registration request is not valid JSON.");
    }
    const result = await clients.register(body);
    if (!result.ok) {
      emit({ type: "registration_refused", time: time(), reason: result.description });
      return oauthErrorResponse(400, result.error, result.description);
    }
    emit({
      type: "client_registered",
      time: time(),
      clientId: result.client.clientId,
      clientName: result.client.clientName,
      tokenEndpointAuthMethod: result.client.tokenEndpointAuthMethod,
      redirectUris: result.client.redirectUris,
    });
    return jsonResponse(result.body, 201);
  });

  routes.get("/oauth/authorize", async (context) => {
    const { values, repeated } = singleParameters(new URL(context.req.url).searchParams);
    const clientId = values.client_id;
    const unusable = (error: string, message: string, status = 400) =>
      errorPage({ status, error, title: "This sign-in request cannot be used", message });
    // Until the redirect URI is known to belong to the client, errors stay on this page: a
    // redirect to an unvalidated URI would make the gateway an open redirector.
    if (clientId === undefined) {
      return unusable("invalid_request", "The request does not name an application (client_id is missing).");
    }
    if (repeated.includes("client_id") || repeated.includes("redirect_uri")) {
      return unusable("invalid_request", "client_id and redirect_uri must each appear once.");
    }
    const limited = limitClient(clientId, "/oauth/authorize");
    if (limited !== undefined) {
      return limited;
    }
    const found = await clients.lookup(clientId);
    if (!found.ok) {
      emit({ type: "client_refused", time: time(), clientId, reason: found.reason });
      return unusable("invalid_client", found.reason);
    }
    const client = found.client;
    const redirectUri = values.redirect_uri;
    if (redirectUri === undefined) {
      return unusable("invalid_request", "The request has no redirect_uri.");
    }
    if (!client.redirectUris.includes(redirectUri)) {
      return unusable(
        "invalid_request",
        "The redirect_uri is not one the application registered (it must match exactly).",
      );
    }
    const state = repeated.includes("state") || (values.state?.length ?? 0) > 1024 ? undefined : values.state;
    const fail = (error: string, description: string) =>
      redirectWithParameters(redirectUri, { error, error_description: description, state, iss: baseUrl });
    if (repeated.length > 0) {
      return fail("invalid_request", `Parameters must not repeat: ${repeated.join(", ")}.`);
    }
    if ((values.state?.length ?? 0) > 1024) {
      return fail("invalid_request", "state is longer than 1024 characters.");
    }
    const parsed = authorizeSchema.safeParse(values);
    if (!parsed.success) {
      return fail("invalid_request", describeIssues(parsed.error));
    }
    const query = parsed.data;
    if (query.response_type === undefined) {
      return fail("invalid_request", "response_type is required.");
    }
    if (query.response_type !== "code") {
      return fail("unsupported_response_type", 'Only response_type "code" is supported.');
    }
    if (!client.grantTypes.includes("authorization_code")) {
      return fail("unauthorized_client", "The application is not registered for the authorization_code grant.");
    }
    if (query.code_challenge === undefined) {
      return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.");
    }
    if (query.code_challenge_method !== "S256") {
      return fail("invalid_request", "code_challenge_method must be S256; plain (or none) is not accepted.");
    }
    if (!s256ChallengePattern.test(query.code_challenge)) {
      return fail("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters).");
    }
    if (query.resource !== undefined && !isCanonicalResource(query.resource)) {
      return fail("invalid_target", `This server issues tokens only for the resource ${resource}.`);
    }
    const allowed = client.scope ?? scopes;
    const requested = parseScopes(query.scope) ?? allowed.filter((scope) => scopes.includes(scope));
    const refused = requested.find((scope) => !scopes.includes(scope) || !allowed.includes(scope));
    if (refused !== undefined || requested.length === 0) {
      return fail("invalid_scope", `The scope "${refused ?? ""}" is not available to this application.`);
    }
    const request: AuthorizationRequest = {
      clientId,
      redirectUri,
      codeChallenge: query.code_challenge,
      resource,
      scopes: [...new Set(requested)],
      ...(state === undefined ? {} : { state }),
    };
    let login: Awaited<ReturnType<typeof upstream.startLogin>>;
    try {
      login = await upstream.startLogin();
    } catch {
      return fail("temporarily_unavailable", "The identity provider could not be reached; try again shortly.");
    }
    await writeRecord(
      store,
      storeKeys.pendingLogin(login.state),
      { request, upstream: { state: login.state, nonce: login.nonce, codeVerifier: login.codeVerifier } },
      lifetimes.pendingLoginSeconds,
    );
    return new Response(null, {
      status: 302,
      headers: { location: login.url.href, "cache-control": "no-store", "referrer-policy": "no-referrer" },
    });
  });

  routes.get("/oauth/callback", async (context) => {
    const requestUrl = new URL(context.req.url);
    const parsed = callbackSchema.safeParse(singleParameters(requestUrl.searchParams).values);
    const expired = () =>
      errorPage({
        status: 400,
        error: "invalid_request",
        title: "This sign-in has expired",
        message: "The sign-in is unknown, has expired or was already completed. Start again from your application.",
      });
    if (!parsed.success) {
      return expired();
    }
    // Taking the pending login makes the upstream state single-use.
    const pending = await readRecord(store, storeKeys.pendingLogin(parsed.data.state), pendingLoginSchema, true);
    if (pending === undefined) {
      return expired();
    }
    const request = pending.request;
    const back = (error: string, description: string) =>
      redirectLocation(request.redirectUri, {
        error,
        error_description: description,
        state: request.state,
        iss: baseUrl,
      });
    const refuse = (
      code: "forbidden" | "unauthenticated" | "upstream_denied" | "upstream_failed" | "internal",
      reason: string,
      claims?: Readonly<Record<string, unknown>>,
    ) =>
      emit({
        type: "login_refused",
        time: time(),
        clientId: request.clientId,
        code,
        reason,
        subject: typeof claims?.sub === "string" ? claims.sub : undefined,
        issuer: typeof claims?.iss === "string" ? claims.iss : undefined,
      });

    if (parsed.data.error !== undefined) {
      const upstreamError = /^[\w.-]{1,64}$/.test(parsed.data.error) ? parsed.data.error : "unknown";
      refuse("upstream_denied", `The identity provider ended the sign-in with ${upstreamError}.`);
      return redirectWithParameters(request.redirectUri, {
        error: "access_denied",
        error_description: "The sign-in at the identity provider did not complete.",
        state: request.state,
        iss: baseUrl,
      });
    }
    // The callback URL is rebuilt from the configured base, never from the Host header.
    const callbackUrl = new URL(`${baseUrl}/oauth/callback`);
    callbackUrl.search = requestUrl.search;
    let tokens: Awaited<ReturnType<typeof upstream.finishLogin>>;
    try {
      tokens = await upstream.finishLogin(callbackUrl, pending.upstream);
    } catch (error) {
      refuse(
        "upstream_failed",
        isGatewayError(error) ? error.message : "The identity provider's answer could not be verified.",
      );
      // 502 only when the provider could not be reached; a refused or unverifiable answer is the
      // sign-in failing, not the gateway's neighbour.
      const unreachable = isGatewayError(error) && (error.code === "unavailable" || error.code === "timeout");
      return errorPage({
        status: unreachable ? 502 : 401,
        error: unreachable ? "temporarily_unavailable" : "access_denied",
        title: "Sign-in could not be completed",
        message: unreachable
          ? "The identity provider could not be reached. Try again from your application shortly."
          : "The identity provider's answer could not be verified. Start again from your application.",
        returnUrl: unreachable
          ? back("temporarily_unavailable", "The identity provider could not be reached.")
          : back("access_denied", "The sign-in at the identity provider could not be verified."),
      });
    }
    let principal: Awaited<ReturnType<typeof options.toPrincipal>>;
    try {
      principal = await options.toPrincipal(tokens);
    } catch (error) {
      if (isGatewayError(error) && (error.code === "forbidden" || error.code === "unauthenticated")) {
        refuse(error.code, error.message, tokens.claims);
        // The person in the browser learns why; the application learns only that access was denied.
        return errorPage({
          status: error.code === "forbidden" ? 403 : 401,
          error: "access_denied",
          title: "Access refused",
          message: error.message,
          returnUrl: back("access_denied", "The user may not use this gateway."),
        });
      }
      refuse("internal", "The identity could not be checked.", tokens.claims);
      return errorPage({
        status: 500,
        error: "server_error",
        title: "Sign-in could not be completed",
        message: "Your identity could not be checked because of an error on the gateway.",
        returnUrl: back("server_error", "The identity could not be checked."),
      });
    }
    emit({ type: "login", time: time(), clientId: request.clientId, actor: actorOf(principal) });
    const upstreamCustody = {
      idToken: tokens.idToken,
      idTokenExpiresAt: tokens.idTokenExpiresAt,
      ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
    };

    const consent = await readRecord(
      store,
      storeKeys.consent(principal, request.clientId, request.redirectUri),
      consentSchema,
    );
    if (consent !== undefined && request.scopes.every((scope) => consent.scopes.includes(scope))) {
      emit({
        type: "consent",
        time: time(),
        clientId: request.clientId,
        actor: actorOf(principal),
        decision: "remembered",
        redirectUri: request.redirectUri,
        scopes: request.scopes,
      });
      const code = await grants.createGrant(request, principal, upstreamCustody);
      return redirectWithParameters(request.redirectUri, { code, state: request.state, iss: baseUrl });
    }

    const found = await clients.lookup(request.clientId);
    if (!found.ok) {
      return errorPage({
        status: 400,
        error: "invalid_client",
        title: "This application is no longer known",
        message: found.reason,
      });
    }
    const consentId = randomValue(32);
    const csrfToken = randomValue(32);
    const browserBinding = randomValue(32);
    await writeRecord(
      store,
      storeKeys.pendingConsent(consentId),
      {
        request,
        principal: principalToRecord(principal),
        upstream: upstreamCustody,
        csrfTokenHash: sha256(csrfToken),
        browserBindingHash: sha256(browserBinding),
      },
      lifetimes.pendingLoginSeconds,
    );
    return consentPage({
      serviceName,
      consentId,
      csrfToken,
      clientId: request.clientId,
      clientName: found.client.clientName,
      clientSource: found.client.source,
      redirectUri: request.redirectUri,
      username: principal.username,
      email: principal.email,
      scopes: request.scopes,
      cookie: bindingCookie(browserBinding, lifetimes.pendingLoginSeconds),
    });
  });

  routes.post("/oauth/consent", async (context) => {
    const refused = (status: number, error: string, message: string) =>
      errorPage({ status, error, title: "This consent form cannot be used", message });
    const origin = context.req.header("origin");
    if (origin !== undefined && origin !== baseUrl) {
      return refused(403, "access_denied", "The consent form was not sent from this gateway's own page.");
    }
    const form = await readForm(context);
    const parsed = consentFormSchema.safeParse(form === undefined ? {} : singleParameters(form).values);
    if (!parsed.success) {
      return refused(400, "invalid_request", "The consent form is incomplete.");
    }
    const key = storeKeys.pendingConsent(parsed.data.consent_id);
    const pending = await readRecord(store, key, pendingConsentSchema);
    if (pending === undefined) {
      return refused(
        400,
        "invalid_request",
        "This consent request has expired or was already answered. Start again from your application.",
      );
    }
    const binding = getCookie(context, bindingCookieName) ?? "";
    const genuine =
      constantTimeEqual(sha256(parsed.data.csrf_token), pending.csrfTokenHash) &&
      constantTimeEqual(sha256(binding), pending.browserBindingHash);
    if (!genuine) {
      return refused(
        403,
        "access_denied",
        "This consent form was not issued to this browser. Start again from your application.",
      );
    }
    // Taking the request makes the decision single-use, even with two submissions at once.
    if ((await store.take(key)) === undefined) {
      return refused(400, "invalid_request", "This consent request was already answered.");
    }
    const request = pending.request;
    const principal = principalFromRecord(pending.principal);
    const clearCookie = bindingCookie("", 0);
    const decide = (parameters: Record<string, string | undefined>) => {
      const response = redirectWithParameters(
        request.redirectUri,
        { ...parameters, state: request.state, iss: baseUrl },
        303,
      );
      response.headers.append("set-cookie", clearCookie);
      return response;
    };
    const consentEvent = (decision: "approved" | "denied") =>
      emit({
        type: "consent",
        time: time(),
        clientId: request.clientId,
        actor: actorOf(principal),
        decision,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
      });
    if (parsed.data.decision === "deny") {
      consentEvent("denied");
      return decide({ error: "access_denied", error_description: "The user denied access." });
    }
    await writeRecord(
      store,
      storeKeys.consent(principal, request.clientId, request.redirectUri),
      { givenAt: now(), scopes: request.scopes },
      lifetimes.consentSeconds,
    );
    consentEvent("approved");
    const code = await grants.createGrant(request, principal, pending.upstream);
    return decide({ code });
  });

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
