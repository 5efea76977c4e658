// The public shapes of the authorization server: options, audit events and the resource-server
// check's result.
import type { Principal } from "@capi-mcp/core";
import type { Context, Hono } from "hono";
import type { TokenStore, UpstreamProvider, UpstreamTokens } from "../contracts.js";
import type { ClientMetadataDocumentOptions } from "./client-metadata-document.js";
import type { TokenBucketSettings } from "./rate-limiter.js";
import type { RedirectUriRules } from "./redirect-uri.js";

export interface AuthorizationServerLifetimes {
  /** Authorization codes (default 60 s). */
  readonly authorizationCodeSeconds: number;
  /** Access tokens (default 1 h). */
  readonly accessTokenSeconds: number;
  /** Each refresh token (default 30 d); rotation issues a new one with a full lifetime. */
  readonly refreshTokenSeconds: number;
  /** A user's consent for one client and redirect URI (default 30 d). */
  readonly consentSeconds: number;
  /** From /authorize to the consent decision: upstream login plus the consent page (default 10 min). */
  readonly pendingLoginSeconds: number;
  /**
   * A dynamically registered client after its first completed sign-in (default 180 d); its
   * secret expires with it.
   */
  readonly clientRegistrationSeconds: number;
  /**
   * A dynamically registered client that has never completed a sign-in (default 1 h): a
   * registration nobody uses gives its place under the cap back soon.
   */
  readonly unusedClientRegistrationSeconds: number;
}

export interface AuthorizationServerRateLimits {
  /** Per client IP address, across all OAuth endpoints (default 60 at once, 1 per second). */
  readonly perAddress: TokenBucketSettings;
  /** Per client id at /authorize, /token and /revoke (default 120 at once, 2 per second). */
  readonly perClient: TokenBucketSettings;
}

export interface AuthorizationServerOptions {
  /** The public origin, e.g. `https://mcp.example.com` (no path). It is the issuer. */
  readonly baseUrl: string;
  /** The protected MCP endpoint's path (default `/mcp`); the canonical resource is baseUrl + path. */
  readonly resourcePath?: string;
  readonly store: TokenStore;
  readonly upstream: UpstreamProvider;
  /**
   * Turns validated upstream claims into the gateway's principal; throws a GatewayError
   * (`forbidden` or `unauthenticated`) to refuse a user. Its message is shown to that user.
   */
  readonly toPrincipal: (
    tokens: UpstreamTokens,
  ) => Omit<Principal, "idTokenCustody"> | Promise<Omit<Principal, "idTokenCustody">>;
  readonly registration: {
    /** The initial access token /oauth/register requires (RFC 7591 §3). */
    readonly accessToken?: string;
    /** Lets anyone register a client without it. */
    readonly allowPublic: boolean;
    /**
     * Most dynamically registered clients held at once, across replicas (default 5000). A
     * registration past it is refused with 503; clients registered earlier keep working.
     */
    readonly maxClients?: number;
  };
  readonly clientMetadataDocuments: ClientMetadataDocumentOptions;
  /** Which redirect URIs clients may register or declare (private-use schemes are accepted by default). */
  readonly redirectUris?: RedirectUriRules;
  /** Scopes this server issues (e.g. `["mcp"]`). */
  readonly scopes: readonly string[];
  /** Scopes an access token needs at the MCP endpoint (default: all of `scopes`). */
  readonly requiredScopes?: readonly string[];
  readonly lifetimes?: Partial<AuthorizationServerLifetimes>;
  readonly rateLimits?: Partial<AuthorizationServerRateLimits>;
  /** The caller's IP address, which only the server adapter knows (or a trusted proxy header). */
  readonly clientAddress: (context: Context) => string | undefined;
  /** Audit sink. Events never carry tokens, codes or secrets. */
  readonly onEvent?: (event: AuthorizationServerEvent) => void;
  /**
   * Where an unexpected failure (the store down, a bug) goes, for the operator's log. The client
   * gets a bare `server_error`; the error never reaches it.
   */
  readonly onUnexpectedError?: (error: unknown) => void;
  /** Milliseconds since the epoch; replaceable in tests. */
  readonly now?: () => number;
  /** Shown on the consent and error pages (default `capi-mcp`). */
  readonly serviceName?: string;
}

/** Who an event is about: the principal without its custody handle. */
export interface EventActor {
  readonly subject: string;
  readonly issuer: string;
  readonly username: string;
  readonly email: string | undefined;
  readonly groups: readonly string[];
}

interface EventBase {
  /** ISO 8601. */
  readonly time: string;
}

export type AuthorizationServerEvent =
  | (EventBase & {
      readonly type: "client_registered";
      readonly clientId: string;
      readonly clientName: string | undefined;
      readonly tokenEndpointAuthMethod: string;
      readonly redirectUris: readonly string[];
    })
  | (EventBase & {
      readonly type: "registration_refused";
      readonly reason: string;
      /** Why, for counting: no or a wrong access token, invalid metadata, or the cap reached. */
      readonly code: "unauthorized" | "invalid_metadata" | "capacity";
    })
  | (EventBase & { readonly type: "client_refused"; readonly clientId: string; readonly reason: string })
  | (EventBase & { readonly type: "login"; readonly clientId: string; readonly actor: EventActor })
  | (EventBase & {
      readonly type: "login_refused";
      readonly clientId: string;
      /** `forbidden`/`unauthenticated` from toPrincipal; `upstream_denied`/`upstream_failed` from the provider. */
      readonly code: "forbidden" | "unauthenticated" | "upstream_denied" | "upstream_failed" | "internal";
      readonly reason: string;
      readonly subject: string | undefined;
      readonly issuer: string | undefined;
    })
  | (EventBase & {
      readonly type: "consent";
      readonly clientId: string;
      readonly actor: EventActor;
      readonly decision: "approved" | "denied" | "remembered";
      readonly redirectUri: string;
      readonly scopes: readonly string[];
    })
  | (EventBase & {
      readonly type: "token_issued";
      readonly clientId: string;
      readonly actor: EventActor;
      readonly grantType: "authorization_code" | "refresh_token";
      /** The sign-in (token family) the tokens belong to; an opaque id, not a credential. */
      readonly grantId: string;
      readonly scopes: readonly string[];
      readonly refreshTokenIssued: boolean;
    })
  | (EventBase & {
      readonly type: "authorization_code_reuse_detected" | "refresh_token_reuse_detected";
      readonly clientId: string;
      readonly grantId: string;
      readonly actor: EventActor | undefined;
      /** Always true: every token of the family was revoked. */
      readonly familyRevoked: true;
    })
  | (EventBase & {
      readonly type: "revocation";
      readonly clientId: string;
      readonly tokenType: "access_token" | "refresh_token";
      readonly grantId: string;
      readonly familyRevoked: boolean;
    })
  | (EventBase & {
      readonly type: "grant_revoked";
      readonly clientId: string;
      readonly grantId: string;
      readonly actor: EventActor | undefined;
      readonly reason: string;
    })
  | (EventBase & {
      /** A code_verifier did not match its code_challenge: the code was spent and its grant revoked. */
      readonly type: "pkce_verification_failed";
      readonly clientId: string;
      readonly grantId: string;
    })
  | (EventBase & {
      readonly type: "rate_limited";
      readonly endpoint: string;
      readonly limit: "address" | "client";
      readonly clientId: string | undefined;
    });

export type AuthenticationResult =
  | {
      readonly ok: true;
      readonly principal: Principal;
      readonly clientId: string;
      readonly scopes: readonly string[];
    }
  | { readonly ok: false; readonly response: Response };

export interface AuthorizationServer {
  /** The OAuth endpoints and metadata documents, to mount at the root of the public origin. */
  readonly routes: Hono;
  /** The resource-server check for the MCP endpoint. */
  authenticate(request: Request): Promise<AuthenticationResult>;
  /** Drops in-memory caches and limiters. The store belongs to the caller, who closes it. */
  close(): Promise<void>;
}
