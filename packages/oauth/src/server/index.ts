export {
  createAuthorizationServer,
  defaultLifetimes,
  defaultMaxRegisteredClients,
  defaultRateLimits,
} from "./authorization-server.js";
export type { ClientMetadataDocumentOptions, ResolvedAddress } from "./client-metadata-document.js";
export type { TokenBucketSettings } from "./rate-limiter.js";
export type { RedirectUriRules } from "./redirect-uri.js";
export type {
  AuthenticationResult,
  AuthorizationServer,
  AuthorizationServerEvent,
  AuthorizationServerLifetimes,
  AuthorizationServerOptions,
  AuthorizationServerRateLimits,
  EventActor,
} from "./types.js";
