import {
  dryRunnableOperations,
  GatewayError,
  type GuardedOperation,
  isGuardedOperation,
  type OperationClass,
} from "@capi-mcp/core";
import type { GuardSettings } from "./guard-settings.js";

export type OperationDecision =
  | { readonly allowed: true; readonly dryRun: boolean }
  | { readonly allowed: false; readonly error: GatewayError };

type ModeSettings = Pick<GuardSettings, "nonDestructive" | "dryRun" | "allowOperations">;

function isDryRunnable(operation: GuardedOperation): boolean {
  return dryRunnableOperations.includes(operation);
}

/**
 * The mode rules for one operation. `subject` names what was refused in the message: a tool
 * name when a call is decided, a ClusterAccess method when the guarded access checks again.
 *
 * - `read` and `session` always pass, never as dry runs.
 * - Dry-run mode sends create/apply/patch/scale/delete as server-side dry runs, whatever else
 *   is configured, and refuses exec and port-forward even when `allowOperations` names them:
 *   neither has a dry run, and an operator who chose dry-run asked for nothing to change.
 * - Otherwise non-destructive mode refuses every guarded operation `allowOperations` does not
 *   name; with non-destructive mode off, everything passes live.
 */
export function decideOperation(operation: OperationClass, subject: string, settings: ModeSettings): OperationDecision {
  if (!isGuardedOperation(operation)) return { allowed: true, dryRun: false };
  if (settings.dryRun) {
    if (isDryRunnable(operation)) return { allowed: true, dryRun: true };
    return {
      allowed: false,
      error: new GatewayError(
        "denied_by_policy",
        `${subject} is disabled: the gateway runs in dry-run mode, and ${operation} cannot run as a dry run. ` +
          `An operator can allow it only by turning --dry-run off${
            settings.nonDestructive ? ` and adding --allow-operations ${operation}` : ""
          }.`,
        { detail: `operation ${operation} refused in dry-run mode` },
      ),
    };
  }
  if (!settings.nonDestructive || settings.allowOperations.includes(operation)) return { allowed: true, dryRun: false };
  const dryRunHint = isDryRunnable(operation) ? ", or enable --dry-run to try mutations as server-side dry runs" : "";
  return {
    allowed: false,
    error: new GatewayError(
      "denied_by_policy",
      `${subject} is disabled: the gateway runs in non-destructive mode. ` +
        `An operator can allow it with --allow-operations ${operation}${dryRunHint}.`,
      { detail: `operation ${operation} refused in non-destructive mode` },
    ),
  };
}
