import {
  type ApiResource,
  type ClusterAccess,
  defineTool,
  GatewayError,
  type KubeList,
  type KubeObject,
  type ToolContext,
} from "@capi-mcp/core";
import { z } from "zod";
import { fleetSectionBudget, renderFanOutAnswer } from "../shaping/fleet-answer.js";
import { fitListPage } from "../shaping/list-page.js";
import { renderResourceTable } from "../shaping/resource-table.js";
import { toYaml, yamlDocumentSeparator } from "../shaping/yaml.js";
import { accessCluster } from "../support/cluster.js";
import { fanOut } from "../support/fan-out.js";
import {
  clusterSelectorField,
  clustersField,
  type FleetSelection,
  perClusterLimit,
  selectFleet,
} from "../support/fleet.js";
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

const defaultNextPage = "call again with the same arguments and";

/** Counts, paging and notes: what the model needs to know about the list as a whole. */
export function listFooter(
  list: KubeList,
  shown: number,
  what: string,
  scope: string,
  nextPage = defaultNextPage,
  pageNote?: string,
): string {
  const lines = [`${shown} ${what} ${scope}.`];
  if (pageNote !== undefined) lines.push(pageNote);
  const token = list.metadata?.continue;
  if (token !== undefined && token !== "") {
    const remaining = list.metadata?.remainingItemCount;
    lines.push(
      `More exist${remaining === undefined ? "" : ` (about ${remaining} more)`}: ${nextPage} continue: "${token}".`,
    );
  } else {
    lines.push("This is the complete list.");
  }
  if (list.policyNote !== undefined && list.policyNote !== "") lines.push(`Note: ${list.policyNote}`);
  return lines.join("\n");
}

const narrowHint =
  "Ask again with a smaller limit (then page with continue), a namespace, a labelSelector or fieldSelector, or output: table instead of yaml.";
const oversizedHint =
  "Read this object whole with k8s_get_resource, or list with output: table or names; continue still resumes after it.";

// Rough bytes per row by output, to lower a fleet-wide limit before fetching rather than cutting after.
const bytesPerRow = { table: 120, names: 60, yaml: 2500 } as const;
const minimumRowsPerCluster = 5;

const input = z.object({
  cluster: clusterField,
  clusters: clustersField,
  clusterSelector: clusterSelectorField,
  resource: resourceField,
  namespace: namespaceField.describe(
    "Namespace to list in. Omit (or set allNamespaces) to list across all namespaces.",
  ),
  allNamespaces: z.boolean().optional().describe("List across all namespaces (the default when namespace is omitted)."),
  apiVersion: apiVersionField,
  labelSelector: labelSelectorField,
  fieldSelector: fieldSelectorField,
  limit: z
    .number()
    .int()
    .min(1)
    .max(maximumListLimit)
    .default(defaultListLimit)
    .describe(
      `Objects per page (default ${defaultListLimit}, at most ${maximumListLimit}); per cluster with clusters.`,
    ),
  continue: z
    .string()
    .min(1)
    .optional()
    .describe("The continue token from the previous page's answer (with the one cluster it came from)."),
  output: z
    .enum(["table", "names", "yaml"])
    .default("table")
    .describe("table (default, compact), names (one per line), or yaml (full objects; large)."),
});

type ListInput = z.output<typeof input>;

interface ClusterPage {
  readonly resource: ApiResource;
  readonly namespace: string | undefined;
  readonly list: KubeList;
  /** The table, names or YAML; "" when the list is empty. */
  readonly body: string;
  readonly footer: string;
}

/**
 * One page of one cluster's list, rendered and fitted to `budgetBytes` (body and footer): what a
 * single-cluster answer and a fleet section share. The page never relies on being cut later:
 * it holds only the rows that fit, and its continue token resumes right after the last of them.
 */
async function listOnCluster(
  access: ClusterAccess,
  options: ListInput,
  limit: number,
  nextPage: string | undefined,
  budgetBytes: number,
): Promise<ClusterPage> {
  const resource = await access.resolve({ resource: options.resource, apiVersion: options.apiVersion });
  const namespace = resource.namespaced ? options.namespace : undefined;
  const acrossNamespaces = resource.namespaced && namespace === undefined;
  const scope = !resource.namespaced
    ? `(cluster-scoped${options.namespace === undefined ? "" : `; namespace "${options.namespace}" ignored`})`
    : acrossNamespaces
      ? "across all namespaces"
      : `in namespace ${namespace}`;
  const render =
    options.output === "yaml"
      ? { each: (item: KubeObject) => toYaml(item), separator: yamlDocumentSeparator }
      : options.output === "names"
        ? {
            each: (item: KubeObject) =>
              acrossNamespaces ? `${item.metadata?.namespace}/${item.metadata?.name}` : `${item.metadata?.name}`,
            separator: "\n",
          }
        : {
            whole: (items: readonly KubeObject[]) =>
              items.length === 0 ? "" : renderResourceTable(resource, [...items], { showNamespace: acrossNamespaces }),
          };
  const { list, body, footer } = await fitListPage({
    fetch: (pageLimit) =>
      access.list(resource, {
        namespace,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: pageLimit,
        continue: options.continue,
      }),
    render,
    footer: (page, pageNote) => {
      const text = listFooter(page, page.items.length, resource.resource, scope, nextPage, pageNote);
      return page.items.length === 0 ? text.replace(/^0 /, "No ") : text;
    },
    limit,
    budgetBytes,
    oversizedHint,
  });
  return { resource, namespace, list, body, footer };
}

async function listOnFleet(options: ListInput, fleet: FleetSelection, context: ToolContext) {
  if (options.continue !== undefined) {
    throw new GatewayError(
      "invalid_input",
      "continue tokens belong to one cluster: pass that cluster as cluster together with its continue token.",
    );
  }
  const limit = perClusterLimit({
    limit: options.limit,
    clusters: fleet.clusters.length,
    budgetBytes: context.settings.outputBudgetBytes,
    bytesPerRow: bytesPerRow[options.output],
    minimum: minimumRowsPerCluster,
  });
  const outcomes = await fanOut(
    fleet.clusters,
    async (cluster) => {
      const access = await context.clusters.access(cluster);
      return listOnCluster(
        access,
        options,
        limit,
        `call again for this cluster alone, with cluster: "${cluster}" and`,
        fleetSectionBudget(context.settings.outputBudgetBytes, fleet.clusters.length, cluster),
      );
    },
    {
      concurrency: context.settings.fanoutConcurrency,
      timeoutMilliseconds: context.settings.fanoutTimeoutMilliseconds,
      signal: context.signal,
      onDone: context.settings.onFanOut,
    },
  );
  const resolved = outcomes.find((outcome) => outcome.ok)?.value.resource;
  const what = resolved?.resource ?? options.resource;
  const text = renderFanOutAnswer({
    subject: what,
    fleetDescription: fleet.description,
    clusterCount: fleet.clusters.length,
    outcomes,
    section: (page) => ({ body: page.body, footer: page.footer }),
    limit,
    requestedLimit: options.limit,
    budgetBytes: context.settings.outputBudgetBytes,
    narrowHint,
  });
  const structured = {
    resource: what,
    namespace: options.namespace ?? null,
    limitPerCluster: limit,
    clusters: outcomes.map((outcome) =>
      outcome.ok
        ? {
            cluster: outcome.cluster,
            count: outcome.value.list.items.length,
            continue: outcome.value.list.metadata?.continue || null,
            remainingItemCount: outcome.value.list.metadata?.remainingItemCount ?? null,
          }
        : { cluster: outcome.cluster, error: outcome.message },
    ),
  };
  // Audit and metrics get a fixed marker, not a list of names: the arguments record which.
  return { text, structured, target: { cluster: "(fan-out)", namespace: options.namespace, kind: resolved?.kind } };
}

export const listResourcesTool = defineTool({
  name: "k8s_list_resources",
  title: "List Kubernetes objects",
  description:
    "Lists objects of one type as a compact table (name, status columns, age), paged with limit/continue. Omit namespace to list across all namespaces. output: names or yaml for other views. clusters or clusterSelector: several clusters at once.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input,
  async handler(options, context) {
    if (options.allNamespaces === true && options.namespace !== undefined) {
      throw new GatewayError(
        "invalid_input",
        "Pass either namespace or allNamespaces: true, not both (omitting namespace already lists all namespaces).",
      );
    }
    const fleet = await selectFleet(options, context);
    if (fleet !== undefined) return listOnFleet(options, fleet, context);

    const access = await accessCluster(options.cluster, context);
    const { resource, namespace, list, body, footer } = await listOnCluster(
      access,
      options,
      options.limit,
      undefined,
      context.settings.outputBudgetBytes,
    );
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
    // The page was fitted to the budget whole, so nothing cuts it.
    return { text: body === "" ? footer : `${body}\n${footer}`, structured, target };
  },
});
