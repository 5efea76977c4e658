export type { IdentityRules, TokenStore, UpstreamLoginRequest, UpstreamProvider, UpstreamTokens } from "./contracts.js";
