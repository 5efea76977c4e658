import type { GuardedOperation } from "@capi-mcp/core";
import type { NamespaceRules } from "./namespace-rules.js";

/** The operator's safety choices, as the CLI flags of the same names set them. */
export interface GuardSettings extends NamespaceRules {
  /** Refuse every guarded operation not named in `allowOperations` (default true at the CLI). */
  readonly nonDestructive: boolean;
  /** Send every mutation as a server-side dry run; refuse exec and port-forward. */
  readonly dryRun: boolean;
  /** Guarded operations non-destructive mode still lets through. */
  readonly allowOperations: readonly GuardedOperation[];
  /** Only these namespaces; undefined means every namespace not denied. */
  readonly allowedNamespaces?: readonly string[];
  readonly deniedNamespaces: readonly string[];
  /** Return Secret values as stored instead of size markers (default false). */
  readonly allowSecretValues: boolean;
}
