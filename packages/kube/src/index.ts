export { type ClusterAccessOptions, createClusterAccess } from "./cluster-access.js";
export {
  createKubeConnection,
  type HttpMethod,
  type KubeConnection,
  type KubeConnectionOptions,
  type KubeHttpRequest,
  type KubeHttpResponse,
  type KubeIdentity,
} from "./connection.js";
export { type DiscoveryDocument, resolveResource } from "./discovery.js";
export type { DiscoveryCache } from "./discovery-cache.js";
export { type Impersonation, impersonationHeaders } from "./impersonation.js";
export type { RateLimiter } from "./rate-limiter.js";
