// The gateway's login at an upstream identity provider (Dex, Google or any OpenID provider),
// driven entirely by openid-client: discovery, the authorization request with PKCE S256, state
// and nonce, the code exchange with ID token validation, and refresh. Tokens stay in the values
// returned here; they never reach an error message or a log line.
import { readFile } from "node:fs/promises";
import { GatewayError } from "@capi-mcp/core";
import * as openid from "openid-client";
import type { UpstreamLoginRequest, UpstreamProvider, UpstreamTokens } from "../contracts.js";
import { createIssuerFetch } from "./issuer-fetch.js";
import { upstreamFailure } from "./upstream-failures.js";

export type UpstreamProviderKind = "dex" | "google" | "oidc";

export const upstreamProviderKinds: readonly UpstreamProviderKind[] = ["dex", "google", "oidc"];

export const googleIssuerUrl = "https://accounts.google.com";

export interface UpstreamProviderOptions {
  readonly kind: UpstreamProviderKind;
  /** The issuer URL (https). Required for dex and oidc; Google's is used when omitted for google. */
  readonly issuerUrl?: string;
  readonly clientId: string;
  /** The client secret itself (the caller reads it from a file and trims the line break). */
  readonly clientSecret: string;
  /** The gateway's own callback, `<base>/oauth/callback`, registered at the provider. */
  readonly redirectUri: string;
  /** Requested scopes; see `defaultUpstreamScopes`. Must include `openid`. */
  readonly scopes?: readonly string[];
  /** A PEM file with the CA(s) that issued the provider's certificate; replaces the system roots. */
  readonly caFile?: string;
  /** The same as `caFile`, as PEM text. */
  readonly caPem?: string;
  /** Dex only: skip Dex's connector choice and go straight to this connector (`connector_id`). */
  readonly connectorId?: string;
  /**
   * Dex only: a client id whose audience the ID token should also carry, requested with the
   * cross-client scope `audience:server:client_id:<id>`, so that workload API servers whose
   * `--oidc-client-id` is that id accept the token (SSO passthrough).
   */
  readonly kubernetesAudience?: string;
  /** How long each request to the provider may take, in seconds (default 10). */
  readonly timeoutSeconds?: number;
}

/** The provider as built here: the contract, plus what only the owner of the instance needs. */
export interface OpenIdUpstreamProvider extends UpstreamProvider {
  readonly kind: UpstreamProviderKind;
  /** The scopes sent with every authorization request. */
  readonly scopes: readonly string[];
  /**
   * As `UpstreamProvider.refresh`; with `expectedSubject`, a new ID token for anyone else is
   * refused (OpenID Connect Core §12.2 requires the same `sub`).
   */
  refresh(refreshToken: string, expectedSubject?: string): Promise<UpstreamTokens>;
  /** Closes the provider's connections. */
  close(): Promise<void>;
}

/**
 * The scopes requested when none are configured. Dex and most OpenID providers: `groups` for
 * group membership, `offline_access` for a refresh token. Google has neither a groups claim nor
 * the `offline_access` scope (it refuses unknown scopes); its refresh token is requested with
 * `access_type=offline` instead, and its users have no groups unless a mapping adds some.
 */
export function defaultUpstreamScopes(kind: UpstreamProviderKind): readonly string[] {
  return kind === "google"
    ? ["openid", "email", "profile"]
    : ["openid", "email", "profile", "groups", "offline_access"];
}

function invalidOption(reason: string): GatewayError {
  return new GatewayError("invalid_input", `The identity provider configuration is invalid: ${reason}.`, {
    detail: `upstream provider options: ${reason}`,
  });
}

const printableToken = /^[\u0021-\u007e]+$/;

function checkIssuerUrl(kind: UpstreamProviderKind, issuerUrl: string | undefined): string {
  if (issuerUrl === undefined || issuerUrl === "") {
    if (kind === "google") return googleIssuerUrl;
    throw invalidOption(`the ${kind} issuer URL is required`);
  }
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    throw invalidOption(`the issuer URL ${JSON.stringify(issuerUrl)} is not a URL`);
  }
  if (url.protocol !== "https:") throw invalidOption(`the issuer URL ${issuerUrl} must use https`);
  if (url.search !== "" || url.hash !== "") {
    throw invalidOption(`the issuer URL ${issuerUrl} may not have a query or fragment`);
  }
  return issuerUrl;
}

const loopbackHosts = new Set(["127.0.0.1", "[::1]", "localhost"]);

function checkRedirectUri(redirectUri: string): void {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    throw invalidOption(`the redirect URI ${JSON.stringify(redirectUri)} is not a URL`);
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && loopbackHosts.has(url.hostname));
  if (!secure) throw invalidOption(`the redirect URI ${redirectUri} must use https (or http on loopback)`);
  if (url.hash !== "") throw invalidOption(`the redirect URI ${redirectUri} may not have a fragment`);
}

function checkScopes(options: UpstreamProviderOptions): readonly string[] {
  const scopes = [...(options.scopes ?? defaultUpstreamScopes(options.kind))];
  for (const scope of scopes) {
    if (!printableToken.test(scope)) throw invalidOption(`the scope ${JSON.stringify(scope)} is not a single word`);
  }
  if (!scopes.includes("openid")) throw invalidOption("the scopes must include openid");
  if (options.kubernetesAudience !== undefined) {
    const audienceScope = `audience:server:client_id:${options.kubernetesAudience}`;
    if (!scopes.includes(audienceScope)) scopes.push(audienceScope);
  }
  return Object.freeze([...new Set(scopes)]);
}

function checkDexOnly(options: UpstreamProviderOptions): void {
  for (const [name, value] of [
    ["connector id", options.connectorId],
    ["Kubernetes audience", options.kubernetesAudience],
  ] as const) {
    if (value === undefined) continue;
    if (options.kind !== "dex") throw invalidOption(`the ${name} applies to Dex only, not to ${options.kind}`);
    if (!printableToken.test(value))
      throw invalidOption(`the Dex ${name} ${JSON.stringify(value)} is not a single word`);
  }
}

async function readCa(options: UpstreamProviderOptions): Promise<string | undefined> {
  if (options.caFile !== undefined && options.caPem !== undefined) {
    throw invalidOption("give the issuer CA as a file or as PEM text, not both");
  }
  let pem = options.caPem;
  if (options.caFile !== undefined) {
    try {
      pem = await readFile(options.caFile, "utf8");
    } catch (error) {
      throw invalidOption(
        `the issuer CA file ${options.caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? "unknown error"})`,
      );
    }
  }
  if (pem !== undefined && !pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw invalidOption(
      `the issuer CA${options.caFile === undefined ? "" : ` file ${options.caFile}`} holds no PEM certificate`,
    );
  }
  return pem;
}

type TokenResponse = Awaited<ReturnType<typeof openid.authorizationCodeGrant>>;

function notAuthenticated(message: string, detail: string): GatewayError {
  return new GatewayError("unauthenticated", message, { detail });
}

function upstreamTokens(
  response: TokenResponse,
  stage: "login" | "refresh",
  issuer: string,
  previousRefreshToken?: string,
): UpstreamTokens {
  const claims = response.claims();
  const idToken = response.id_token;
  if (claims === undefined || idToken === undefined) {
    throw notAuthenticated(
      stage === "login"
        ? "The login with the identity provider failed: it issued no ID token. Please log in again."
        : "The identity provider refused to renew your session: it issued no new ID token. Please log in again.",
      `${stage} at ${issuer}: token response without id_token`,
    );
  }
  // Providers that do not rotate refresh tokens (Google) send none on refresh: the old one stays
  // the one to use next time.
  const refreshToken = response.refresh_token ?? previousRefreshToken;
  const tokens: UpstreamTokens = {
    claims: Object.freeze({ ...claims }),
    idToken,
    idTokenExpiresAt: claims.exp,
    ...(refreshToken === undefined ? {} : { refreshToken }),
  };
  return Object.freeze(tokens);
}

/**
 * Builds an upstream provider. Options are checked and the CA file read now (a mistake fails
 * start-up); the provider is contacted only on first use, and its metadata cached from then on.
 */
export async function createUpstreamProvider(options: UpstreamProviderOptions): Promise<OpenIdUpstreamProvider> {
  if (!upstreamProviderKinds.includes(options.kind)) {
    throw invalidOption(`the provider kind must be one of ${upstreamProviderKinds.join(", ")}`);
  }
  const issuer = checkIssuerUrl(options.kind, options.issuerUrl);
  if (options.clientId === "" || !printableToken.test(options.clientId)) {
    throw invalidOption("the client id is empty or not a single word");
  }
  if (options.clientSecret === "") throw invalidOption("the client secret is empty");
  checkRedirectUri(options.redirectUri);
  checkDexOnly(options);
  const scopes = checkScopes(options);
  const timeoutSeconds = options.timeoutSeconds ?? 10;
  if (!(timeoutSeconds > 0)) throw invalidOption("the timeout must be a positive number of seconds");
  const issuerFetch = createIssuerFetch(await readCa(options));
  const clientSecret = options.clientSecret;

  let configuration: Promise<openid.Configuration> | undefined;
  const configured = (): Promise<openid.Configuration> => {
    configuration ??= openid
      .discovery(
        new URL(issuer),
        options.clientId,
        { redirect_uris: [options.redirectUri], response_types: ["code"] },
        // The fleet's provider, like many, registers its clients for client_secret_basic only.
        openid.ClientSecretBasic(clientSecret),
        {
          [openid.customFetch]: issuerFetch.fetch,
          timeout: timeoutSeconds,
          // OpenID Connect lets a client trust an ID token from the token endpoint on TLS alone;
          // the gateway also checks its signature against the provider's keys, because the token
          // is kept and later forwarded to clusters (SSO passthrough) as proof of the user.
          execute: [openid.enableNonRepudiationChecks],
        },
      )
      .catch((error: unknown) => {
        // Forget the failure so the next login tries again once the provider is back.
        configuration = undefined;
        throw upstreamFailure(error, "discovery", issuer, [clientSecret]);
      });
    return configuration;
  };

  const authorizationParameters = (): Record<string, string> => {
    const extra: Record<string, string> = {};
    if (options.kind === "dex" && options.connectorId !== undefined) extra.connector_id = options.connectorId;
    // Google issues a refresh token only for offline access, and only when consent is given
    // again; without one the ID token in custody could not be renewed.
    if (options.kind === "google") Object.assign(extra, { access_type: "offline", prompt: "consent" });
    // OpenID Connect Core §11: offline access must be asked for with prompt=consent, and
    // conforming providers (the fleet's among them) drop offline_access without it. Dex issues
    // refresh tokens regardless, and would show its approval screen on every login with it.
    if (options.kind === "oidc" && scopes.includes("offline_access")) extra.prompt = "consent";
    return extra;
  };

  return {
    kind: options.kind,
    issuer,
    scopes,

    async startLogin(): Promise<UpstreamLoginRequest> {
      const config = await configured();
      const codeVerifier = openid.randomPKCECodeVerifier();
      const state = openid.randomState();
      const nonce = openid.randomNonce();
      const url = openid.buildAuthorizationUrl(config, {
        ...authorizationParameters(),
        redirect_uri: options.redirectUri,
        scope: scopes.join(" "),
        code_challenge: await openid.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: "S256",
        state,
        nonce,
      });
      return Object.freeze({ url, state, nonce, codeVerifier });
    },

    async finishLogin(callbackUrl, expected): Promise<UpstreamTokens> {
      if (expected.state === "" || expected.nonce === "" || expected.codeVerifier === "") {
        throw notAuthenticated(
          "The login with the identity provider failed: the login was not started here. Please log in again.",
          `login at ${issuer}: empty state, nonce or code verifier`,
        );
      }
      const config = await configured();
      // Only the callback's parameters are taken from the request: the redirect URI sent to the
      // token endpoint is the configured one, whatever host or scheme a proxy showed us.
      const current = new URL(options.redirectUri);
      current.search = callbackUrl.search;
      const secrets = [clientSecret, expected.codeVerifier, callbackUrl.searchParams.get("code") ?? ""];
      let response: TokenResponse;
      try {
        response = await openid.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: expected.codeVerifier,
          expectedState: expected.state,
          expectedNonce: expected.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        throw upstreamFailure(error, "login", issuer, secrets);
      }
      return upstreamTokens(response, "login", issuer);
    },

    async refresh(refreshToken: string, expectedSubject?: string): Promise<UpstreamTokens> {
      if (refreshToken === "") {
        throw notAuthenticated(
          "The identity provider refused to renew your session: there is no refresh token. Please log in again.",
          `refresh at ${issuer}: empty refresh token`,
        );
      }
      const config = await configured();
      let response: TokenResponse;
      try {
        response = await openid.refreshTokenGrant(config, refreshToken);
      } catch (error) {
        throw upstreamFailure(error, "refresh", issuer, [clientSecret, refreshToken]);
      }
      const tokens = upstreamTokens(response, "refresh", issuer, refreshToken);
      if (expectedSubject !== undefined && tokens.claims.sub !== expectedSubject) {
        throw notAuthenticated(
          "The identity provider refused to renew your session: it answered for another user. Please log in again.",
          `refresh at ${issuer}: sub of the new ID token differs from the session's`,
        );
      }
      return tokens;
    },

    close: () => issuerFetch.close(),
  };
}
