export { redactToolArguments } from "./argument-redaction.js";
export {
  type ContinueTokenBinding,
  type ContinueTokenSealer,
  type ContinueTokenSealerOptions,
  continueTokenKeyBytes,
  createContinueTokenSealer,
} from "./continue-tokens.js";
export { createGuard, type Guard, type GuardedTool, type GuardOptions } from "./guard.js";
export type { GuardSettings } from "./guard-settings.js";
export { type GuardedAccessPaging, guardClusterAccess } from "./guarded-cluster-access.js";
export {
  assertNamespaceAllowed,
  effectiveAllowedNamespaces,
  hasNamespaceRules,
  type NamespaceRules,
  namespaceAllowed,
  namespaceDenialReason,
} from "./namespace-rules.js";
export { decideOperation, type OperationDecision } from "./operation-rules.js";
export {
  lastAppliedConfigurationAnnotation,
  redactionMarker,
  redactSecretValues,
  removeLastAppliedConfiguration,
  type SanitizeOptions,
  sanitizeObjects,
} from "./secret-redaction.js";
