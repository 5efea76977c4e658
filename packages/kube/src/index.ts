export { type ClusterAccessOptions, createClusterAccess } from "./cluster-access.js";
export {
  createKubeConnection,
  type HttpMethod,
  type KubeConnection,
  type KubeConnectionOptions,
  type KubeHttpRequest,
  type KubeHttpResponse,
  type KubeIdentity,
  type KubeStreamRequest,
  type KubeStreamResponse,
} from "./connection.js";
export { type DiscoveryDocument, resolveResource } from "./discovery.js";
export type { DiscoveryCache } from "./discovery-cache.js";
export { type Impersonation, impersonationHeaders } from "./impersonation.js";
export {
  createInformer,
  type Informer,
  type InformerChange,
  type InformerChangeType,
  type InformerErrorContext,
  type InformerOptions,
  objectKey,
} from "./informer.js";
export type { RateLimiter } from "./rate-limiter.js";
export {
  type BackoffOptions,
  backoffDelay,
  createWatchEventParser,
  type WatchEvent,
  type WatchEventParser,
  type WatchEventType,
  WatchExpiredError,
  type WatchOptions,
  WatchStreamError,
  type WatchTransport,
  watchList,
} from "./watch.js";
