import type { ApiResource, ToolContext } from "@capi-mcp/core";
import { fitToBudget } from "../shaping/budget.js";
import { defaultNamespace } from "./input-fields.js";

/** First line of every answer to a mutation that ran as a server-side dry run. */
export const dryRunHeading = "Dry run (server-side, nothing was changed):";

/** The namespace a call on one object uses: the argument, else "default"; none for cluster-scoped types. */
export function objectNamespace(resource: ApiResource, namespace: string | undefined): string | undefined {
  return resource.namespaced ? (namespace ?? defaultNamespace) : undefined;
}

/** `deployments/web in namespace shop` or `nodes/worker-1 (cluster-scoped)`. */
export function describeObject(resource: ApiResource, name: string, namespace: string | undefined): string {
  const type = resource.group === "" ? resource.resource : `${resource.resource}.${resource.group}`;
  return namespace === undefined ? `${type}/${name} (cluster-scoped)` : `${type}/${name} in namespace ${namespace}`;
}

/** Fits an answer to the configured budget; the footer (paging, notes) always survives. */
export function withinBudget(
  context: ToolContext,
  body: string,
  options: { narrowHint: string; footer?: string },
): string {
  return fitToBudget(body, { budgetBytes: context.settings.outputBudgetBytes, ...options }).text;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
