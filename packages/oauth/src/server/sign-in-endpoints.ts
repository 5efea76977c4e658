// The browser's sign-in: /oauth/authorize checks the client's request and sends the browser to
// the identity provider; /oauth/callback completes the upstream login and either issues a code
// (consent remembered) or shows the consent page. The upstream sign-in is bound to the browser
// that started it (a cookie set at /authorize, checked at the callback; RFC 9700 §4.7), so a
// callback URL alone, copied or planted in another browser, completes nothing.
import { isGatewayError } from "@capi-mcp/core";
import type { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { consentPage } from "./consent-page.js";
import { constantTimeEqual, randomValue, s256ChallengePattern, sha256 } from "./crypto.js";
import type { EndpointContext } from "./endpoint-context.js";
import { actorOf } from "./grants.js";
import {
  type AuthorizationRequest,
  consentSchema,
  pendingLoginSchema,
  principalToRecord,
  readRecord,
  storeKeys,
  writeRecord,
} from "./records.js";
import { describeIssues, optionalText, parseScopes, singleParameters } from "./request-parameters.js";
import { errorPage, redirectLocation, redirectWithParameters } from "./responses.js";

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

export function registerSignInEndpoints(routes: Hono, endpoints: EndpointContext): void {
  const { baseUrl, resource, scopes, store, upstream, lifetimes, clients, grants, cookies, emit, time } = endpoints;

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
    const limited = endpoints.limitClient(clientId, "/oauth/authorize");
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
    if (query.resource !== undefined && !endpoints.isCanonicalResource(query.resource)) {
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
    const browserBinding = randomValue(32);
    await writeRecord(
      store,
      storeKeys.pendingLogin(login.state),
      {
        request,
        upstream: { state: login.state, nonce: login.nonce, codeVerifier: login.codeVerifier },
        browserBindingHash: sha256(browserBinding),
      },
      lifetimes.pendingLoginSeconds,
    );
    return new Response(null, {
      status: 302,
      headers: {
        location: login.url.href,
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "set-cookie": cookies.loginCookie(login.state, browserBinding, lifetimes.pendingLoginSeconds),
      },
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
    const upstreamState = parsed.data.state;
    const pendingKey = storeKeys.pendingLogin(upstreamState);
    // Read first, check the browser, and only then spend: a callback from the wrong browser must
    // leave the sign-in usable by the browser that started it.
    const pending = await readRecord(store, pendingKey, pendingLoginSchema);
    if (pending === undefined) {
      return expired();
    }
    const binding = getCookie(context, cookies.loginCookieName(upstreamState)) ?? "";
    if (!constantTimeEqual(sha256(binding), pending.browserBindingHash)) {
      return errorPage({
        status: 403,
        error: "access_denied",
        title: "This sign-in was started in another browser",
        message:
          "The sign-in can only be completed in the browser that started it. Start again from your application in this browser.",
      });
    }
    // Taking the pending login makes the upstream state single-use, even with two callbacks at once.
    if ((await store.take(pendingKey)) === undefined) {
      return expired();
    }
    const clearLoginCookie = cookies.loginCookie(upstreamState, "", 0);
    const response = await completeSignIn(pending, requestUrl, parsed.data.error);
    response.headers.append("set-cookie", clearLoginCookie);
    return response;
  });

  async function completeSignIn(
    pending: z.infer<typeof pendingLoginSchema>,
    requestUrl: URL,
    upstreamError: string | undefined,
  ): Promise<Response> {
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

    if (upstreamError !== undefined) {
      const shownError = /^[\w.-]{1,64}$/.test(upstreamError) ? upstreamError : "unknown";
      refuse("upstream_denied", `The identity provider ended the sign-in with ${shownError}.`);
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
    let principal: Awaited<ReturnType<typeof endpoints.toPrincipal>>;
    try {
      principal = await endpoints.toPrincipal(tokens);
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
    const consentBinding = randomValue(32);
    await writeRecord(
      store,
      storeKeys.pendingConsent(consentId),
      {
        request,
        principal: principalToRecord(principal),
        upstream: upstreamCustody,
        csrfTokenHash: sha256(csrfToken),
        browserBindingHash: sha256(consentBinding),
      },
      lifetimes.pendingLoginSeconds,
    );
    return consentPage({
      serviceName: endpoints.serviceName,
      consentId,
      csrfToken,
      clientId: request.clientId,
      clientName: found.client.clientName,
      clientSource: found.client.source,
      redirectUri: request.redirectUri,
      username: principal.username,
      email: principal.email,
      scopes: request.scopes,
      cookie: cookies.consentCookie(consentBinding, lifetimes.pendingLoginSeconds),
    });
  }
}
