import {
  type ClusterAccess,
  type ClusterCatalog,
  type ClusterSummary,
  type Principal,
  principalIdentityKey,
  type ToolContinueTokens,
  type ToolDefinition,
} from "@capi-mcp/core";
import { redactToolArguments } from "./argument-redaction.js";
import {
  type ContinueTokenBinding,
  type ContinueTokenSealerOptions,
  createContinueTokenSealer,
} from "./continue-tokens.js";
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
  /**
   * Wraps a catalog so every ClusterAccess it hands out enforces the rules. `principal` is who
   * calls (undefined without OAuth): continue tokens are bound to it.
   */
  guardCatalog(catalog: ClusterCatalog, principal?: Principal): ClusterCatalog;
  /**
   * The sealer for continue tokens a tool hands out of its own (a listing it pages itself, such
   * as capi_list_clusters), bound to `principal` and the tool the same way list tokens are.
   */
  toolContinueTokens(toolName: string, principal?: Principal): ToolContinueTokens;
  /** Wraps one cluster's access the same way, for callers that hold one directly. */
  guardAccess(access: ClusterAccess, principal?: Principal): ClusterAccess;
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

export interface GuardOptions {
  /** How continue tokens are sealed: a key shared by replicas, their lifetime. */
  readonly continueTokens?: ContinueTokenSealerOptions;
}

// Without OAuth every caller acts as the gateway's own identity, so they share one binding.
const gatewayIdentityCaller = "(the gateway's own identity)";

export function createGuard(settings: GuardSettings, options: GuardOptions = {}): Guard {
  const rules = frozenSettings(settings);
  // One sealer per guard, not per access: the catalog wraps a fresh access on every call, and a
  // token must open on the next call.
  const continueTokens = createContinueTokenSealer(options.continueTokens);
  const callerOf = (principal?: Principal): string =>
    principal === undefined ? gatewayIdentityCaller : principalIdentityKey(principal);
  const guardAccess = (access: ClusterAccess, principal?: Principal): ClusterAccess =>
    guardClusterAccess(access, rules, { continueTokens, caller: callerOf(principal) });
  return {
    settings: rules,
    offers: (tool) => decideOperation(tool.operation, tool.name, rules).allowed,
    decide: (tool) => decideOperation(tool.operation, tool.name, rules),
    guardAccess,
    toolContinueTokens(toolName: string, principal?: Principal): ToolContinueTokens {
      const bindingFor = (query: string): ContinueTokenBinding => ({
        caller: callerOf(principal),
        // No cluster is named so: a tool's own token never opens as a list token, nor the reverse.
        cluster: `(the ${toolName} tool's own listing)`,
        query,
      });
      return {
        seal: (position, query) => continueTokens.seal(position, bindingFor(query)),
        open: (token, query) => continueTokens.open(token, bindingFor(query)),
      };
    },
    guardCatalog(catalog: ClusterCatalog, principal?: Principal): ClusterCatalog {
      return {
        // A getter, so a catalog whose default changes (a reloaded kubeconfig) is seen live.
        get defaultCluster(): string | undefined {
          return catalog.defaultCluster;
        },
        list: (): Promise<readonly ClusterSummary[]> => catalog.list(),
        access: async (name: string): Promise<ClusterAccess> => guardAccess(await catalog.access(name), principal),
      };
    },
    // Redaction depends on argument names and values, never on the tool, so a tool added later
    // is covered without being registered here.
    redactArguments: (_toolName, args) => redactToolArguments(args),
    namespaceAllowed: (namespace) => namespaceAllowed(namespace, rules),
  };
}
