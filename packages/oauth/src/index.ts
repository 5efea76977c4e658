export type { IdentityRules, TokenStore, UpstreamLoginRequest, UpstreamProvider, UpstreamTokens } from "./contracts.js";
export * from "./identity/index.js";
export * from "./server/index.js";
export * from "./store/index.js";
export * from "./upstream/index.js";
