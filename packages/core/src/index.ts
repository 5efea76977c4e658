export { type ClusterRef, formatClusterRef, parseClusterRef, sameCluster } from "./cluster-ref.js";
export {
  GatewayError,
  type GatewayErrorCause,
  type GatewayErrorCode,
  type GatewayErrorOptions,
  gatewayErrorCodes,
  isGatewayError,
  isGatewayErrorCode,
} from "./gateway-error.js";
export { type IdTokenCustody, type Principal, principalIdentityKey } from "./principal.js";
