// What the authorization server's endpoint modules share: configuration resolved once, the
// client registry and grant service, and the audit and rate-limit hooks. Built by
// createAuthorizationServer; each endpoint file registers its routes from it.
import type { TokenStore, UpstreamProvider } from "../contracts.js";
import type { BrowserCookies } from "./browser-cookies.js";
import type { ClientRegistry } from "./clients.js";
import type { GrantService } from "./grants.js";
import type { AuthorizationServerEvent, AuthorizationServerLifetimes, AuthorizationServerOptions } from "./types.js";

export interface EndpointContext {
  /** The issuer: the public origin. */
  readonly baseUrl: string;
  /** The canonical MCP resource, baseUrl + resource path. */
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly serviceName: string;
  readonly store: TokenStore;
  readonly upstream: UpstreamProvider;
  readonly toPrincipal: AuthorizationServerOptions["toPrincipal"];
  readonly lifetimes: AuthorizationServerLifetimes;
  readonly clients: ClientRegistry;
  readonly grants: GrantService;
  readonly cookies: BrowserCookies;
  readonly now: () => number;
  /** Sends an audit event; a failing sink never breaks a flow. */
  emit(event: AuthorizationServerEvent): void;
  /** The current time, ISO 8601, for events. */
  time(): string;
  /** A 429 response when the client is over its budget, else undefined. */
  limitClient(clientId: string, path: string): Response | undefined;
  isCanonicalResource(value: string): boolean;
}
