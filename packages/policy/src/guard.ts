import type { ClusterAccess, ClusterCatalog, ClusterSummary, ToolDefinition } from "@capi-mcp/core";
import { redactToolArguments } from "./argument-redaction.js";
import type { GuardSettings } from "./guard-settings.js";
import { guardClusterAccess } from "./guarded-cluster-access.js";
import { namespaceAllowed } from "./namespace-rules.js";
import { decideOperation, type OperationDecision } from "./operation-rules.js";

export type GuardedTool = Pick<ToolDefinition, "name" | "operation">;

/** The operator's safety rules, applied once where tools are registered. */
export interface Guard {
  readonly settings: GuardSettings;
  /** Whether tools/list offers this tool. */
  offers(tool: GuardedTool): boolean;
  /** Decision for a call before it runs; `dryRun` says whether its mutations run as dry runs. */
  decide(tool: GuardedTool): OperationDecision;
  /** Wraps a catalog so every ClusterAccess it hands out enforces the rules. */
  guardCatalog(catalog: ClusterCatalog): ClusterCatalog;
  /** Wraps one cluster's access the same way, for callers that hold one directly. */
  guardAccess(access: ClusterAccess): ClusterAccess;
  /** Arguments safe to put in an audit record or a span (secret values replaced). */
  redactArguments(toolName: string, args: Record<string, unknown>): Record<string, unknown>;
  /** Whether the namespace rules let calls into this namespace. */
  namespaceAllowed(namespace: string): boolean;
}

function frozenSettings(settings: GuardSettings): GuardSettings {
  // Copied and frozen so a caller that later changes its arrays cannot loosen the rules of a
  // guard already handed out.
  return Object.freeze({
    nonDestructive: settings.nonDestructive,
    dryRun: settings.dryRun,
    allowOperations: Object.freeze([...settings.allowOperations]),
    ...(settings.allowedNamespaces === undefined
      ? {}
      : { allowedNamespaces: Object.freeze([...settings.allowedNamespaces]) }),
    deniedNamespaces: Object.freeze([...settings.deniedNamespaces]),
    allowSecretValues: settings.allowSecretValues,
  });
}

export function createGuard(settings: GuardSettings): Guard {
  const rules = frozenSettings(settings);
  const guardAccess = (access: ClusterAccess): ClusterAccess => guardClusterAccess(access, rules);
  return {
    settings: rules,
    offers: (tool) => decideOperation(tool.operation, tool.name, rules).allowed,
    decide: (tool) => decideOperation(tool.operation, tool.name, rules),
    guardAccess,
    guardCatalog(catalog: ClusterCatalog): ClusterCatalog {
      return {
        // A getter, so a catalog whose default changes (a reloaded kubeconfig) is seen live.
        get defaultCluster(): string | undefined {
          return catalog.defaultCluster;
        },
        list: (): Promise<readonly ClusterSummary[]> => catalog.list(),
        access: async (name: string): Promise<ClusterAccess> => guardAccess(await catalog.access(name)),
      };
    },
    // Redaction depends on argument names and values, never on the tool, so a tool added later
    // is covered without being registered here.
    redactArguments: (_toolName, args) => redactToolArguments(args),
    namespaceAllowed: (namespace) => namespaceAllowed(namespace, rules),
  };
}
