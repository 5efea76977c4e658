import { defineTool, GatewayError, type KubeList } from "@capi-mcp/core";
import { z } from "zod";
import { renderResourceTable } from "../shaping/resource-table.js";
import { toYamlDocuments } from "../shaping/yaml.js";
import { withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  apiVersionField,
  clusterField,
  fieldSelectorField,
  labelSelectorField,
  namespaceField,
  resourceField,
} from "../support/input-fields.js";

export const defaultListLimit = 100;
export const maximumListLimit = 500;

/** Counts, paging and notes: what the model needs to know about the list as a whole. */
export function listFooter(list: KubeList, shown: number, what: string, scope: string): string {
  const lines = [`${shown} ${what} ${scope}.`];
  const token = list.metadata?.continue;
  if (token !== undefined && token !== "") {
    const remaining = list.metadata?.remainingItemCount;
    lines.push(
      `More exist${remaining === undefined ? "" : ` (about ${remaining} more)`}: call again with the same arguments and continue: "${token}".`,
    );
  } else {
    lines.push("This is the complete list.");
  }
  if (list.policyNote !== undefined && list.policyNote !== "") lines.push(`Note: ${list.policyNote}`);
  return lines.join("\n");
}

export const listResourcesTool = defineTool({
  name: "k8s_list_resources",
  title: "List Kubernetes objects",
  description:
    "Lists objects of one type as a compact table (name, status columns, age), paged with limit/continue. Omit namespace to list across all namespaces. output: names or yaml for other views.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    resource: resourceField,
    namespace: namespaceField.describe(
      "Namespace to list in. Omit (or set allNamespaces) to list across all namespaces.",
    ),
    allNamespaces: z
      .boolean()
      .optional()
      .describe("List across all namespaces (the default when namespace is omitted)."),
    apiVersion: apiVersionField,
    labelSelector: labelSelectorField,
    fieldSelector: fieldSelectorField,
    limit: z
      .number()
      .int()
      .min(1)
      .max(maximumListLimit)
      .default(defaultListLimit)
      .describe(`Objects per page (default ${defaultListLimit}, at most ${maximumListLimit}).`),
    continue: z.string().min(1).optional().describe("The continue token from the previous page's answer."),
    output: z
      .enum(["table", "names", "yaml"])
      .default("table")
      .describe("table (default, compact), names (one per line), or yaml (full objects; large)."),
  }),
  async handler(input, context) {
    if (input.allNamespaces === true && input.namespace !== undefined) {
      throw new GatewayError(
        "invalid_input",
        "Pass either namespace or allNamespaces: true, not both (omitting namespace already lists all namespaces).",
      );
    }
    const access = await accessCluster(input.cluster, context);
    const resource = await access.resolve({ resource: input.resource, apiVersion: input.apiVersion });
    const namespace = resource.namespaced ? input.namespace : undefined;
    const acrossNamespaces = resource.namespaced && namespace === undefined;
    const list = await access.list(resource, {
      namespace,
      labelSelector: input.labelSelector,
      fieldSelector: input.fieldSelector,
      limit: input.limit,
      continue: input.continue,
    });

    const scope = !resource.namespaced
      ? `(cluster-scoped${input.namespace === undefined ? "" : `; namespace "${input.namespace}" ignored`})`
      : acrossNamespaces
        ? "across all namespaces"
        : `in namespace ${namespace}`;
    const what = resource.resource;
    const footer = listFooter(list, list.items.length, what, scope);
    const target = { cluster: access.cluster, namespace, kind: resource.kind };
    const structured = {
      cluster: access.cluster,
      resource: resource.resource,
      group: resource.group,
      namespace: namespace ?? null,
      count: list.items.length,
      continue: list.metadata?.continue || null,
      remainingItemCount: list.metadata?.remainingItemCount ?? null,
    };

    if (list.items.length === 0) {
      return { text: footer.replace(/^0 /, "No "), structured, target };
    }
    const body =
      input.output === "yaml"
        ? toYamlDocuments(list.items)
        : input.output === "names"
          ? list.items
              .map((item) =>
                acrossNamespaces ? `${item.metadata?.namespace}/${item.metadata?.name}` : `${item.metadata?.name}`,
              )
              .join("\n")
          : renderResourceTable(resource, list.items, { showNamespace: acrossNamespaces });
    const text = withinBudget(context, body, {
      footer,
      narrowHint:
        "Rows cut here are not on the next page: ask again with a smaller limit (then page with continue), a namespace, a labelSelector or fieldSelector, or output: table instead of yaml.",
    });
    return { text, structured, target };
  },
});
