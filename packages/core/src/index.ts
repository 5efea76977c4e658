export type { AuditEvent, AuditOutcome, AuditSink, AuthorizationAuditEvent } from "./audit-event.js";
export {
  type CallScope,
  currentCallScope,
  type KubernetesResponseNote,
  mostNotedResponses,
  newCallScope,
  noteKubernetesResponse,
  runInCallScope,
} from "./call-scope.js";
export {
  type AccessAnswer,
  type AccessQuestion,
  type ApiResource,
  apiVersionOf,
  type ClusterAccess,
  type ClusterCatalog,
  type ClusterCondition,
  type ClusterHealth,
  type ClusterSummary,
  type DeleteOptions,
  type ExecRequest,
  type ExecResult,
  type ListOptions,
  type LogRequest,
  type LogResult,
  type MutationOptions,
  type PatchType,
  type PortForwardHandle,
  type PortForwardRequest,
  type ResourceQuery,
} from "./cluster-access.js";
export { type ClusterRef, formatClusterRef, parseClusterRef, sameCluster } from "./cluster-ref.js";
export { defaultExecTimeoutMilliseconds, execTimeoutWithin } from "./exec-bound.js";
export {
  GatewayError,
  type GatewayErrorCause,
  type GatewayErrorCode,
  type GatewayErrorOptions,
  gatewayErrorCodes,
  gatewayErrorLabel,
  isGatewayError,
  isGatewayErrorCode,
} from "./gateway-error.js";
export type { KubeList, KubeObject, ObjectMeta } from "./kube-object.js";
export { type IdTokenCustody, type Principal, principalIdentityKey } from "./principal.js";
export { seededRandom } from "./seeded-random.js";
export { omittedByGateway, redactServerText } from "./server-text.js";
export {
  type AnyShape,
  defineTool,
  dryRunnableOperations,
  type GuardedOperation,
  guardedOperations,
  isGuardedOperation,
  type OperationClass,
  operationClasses,
  type PortForwardEntry,
  type PortForwardRegistry,
  type SessionState,
  type ToolAnnotations,
  type ToolContext,
  type ToolContinueTokens,
  type ToolDefinition,
  type ToolResult,
  type ToolSettings,
  type ToolTarget,
} from "./tool.js";
