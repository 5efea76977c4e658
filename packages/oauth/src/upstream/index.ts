export {
  createUpstreamProvider,
  defaultUpstreamScopes,
  googleIssuerUrl,
  type OpenIdUpstreamProvider,
  type UpstreamProviderKind,
  type UpstreamProviderOptions,
  upstreamProviderKinds,
} from "./upstream-provider.js";
