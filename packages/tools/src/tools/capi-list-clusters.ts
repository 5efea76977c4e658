import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { formatAge } from "../shaping/age.js";
import { byteLength } from "../shaping/budget.js";
import { clusterAvailability, clusterPhase, partCell, topologyVersion } from "../shaping/capi-cluster.js";
import { largestFittingCount } from "../shaping/list-page.js";
import { renderTable } from "../shaping/table.js";
import { plural, withinBudget } from "../support/answer.js";
import { type CapiSummary, capiNamespace, capiSummaries } from "../support/cluster-names.js";
import { namespaceField, nameText } from "../support/input-fields.js";
import { matchesLabels, parseLabelSelector } from "../support/label-selector.js";

export const defaultClusterLimit = 100;
export const maximumClusterLimit = 500;
// Phases past this many are summed up as "other": the footer stays one short line.
const phasesNamed = 6;

const input = z.object({
  namespace: namespaceField.describe("Only clusters in this namespace (an organisation or team namespace)."),
  labelSelector: nameText()
    .max(2048)
    .optional()
    .describe("Only clusters whose labels match (env=prod, tier!=dev, region in (eu,us), !deprecated)."),
  phase: nameText()
    .min(1)
    .max(63)
    .optional()
    .describe("Only clusters in this phase (Provisioned, Provisioning, Pending, Failed, Deleting)."),
  readyOnly: z.boolean().optional().describe("Only clusters whose Available condition (v1beta1: Ready) is True."),
  limit: z
    .number()
    .int()
    .min(1)
    .max(maximumClusterLimit)
    .default(defaultClusterLimit)
    .describe(`Clusters per page (default ${defaultClusterLimit}, at most ${maximumClusterLimit}).`),
  continue: z.string().min(1).max(2048).optional().describe("The continue token from the previous page's answer."),
});

type ListClustersInput = z.output<typeof input>;

/**
 * What a token is bound to besides the caller: the filters, not the page size, so a walk may
 * change its limit but not what it lists.
 */
function tokenQuery(options: ListClustersInput): string {
  return JSON.stringify([
    options.namespace ?? "",
    options.labelSelector?.trim() ?? "",
    options.phase?.toLowerCase() ?? "",
    options.readyOnly === true,
  ]);
}

function describeFilters(options: ListClustersInput): string {
  const filters = [
    options.namespace === undefined ? undefined : `namespace ${options.namespace}`,
    options.labelSelector === undefined || options.labelSelector.trim() === ""
      ? undefined
      : `labels ${options.labelSelector.trim()}`,
    options.phase === undefined ? undefined : `phase ${options.phase}`,
    options.readyOnly === true ? "available only" : undefined,
  ].filter((filter) => filter !== undefined);
  return filters.length === 0 ? "" : ` (${filters.join(", ")})`;
}

function phaseOf(summary: CapiSummary): string | undefined {
  return clusterPhase(summary.clusterObject) ?? summary.phase;
}

/** Counts over all matching clusters, not only this page: how the fleet looks at a glance. */
function countsLine(clusters: readonly CapiSummary[]): string {
  const availability = { True: 0, False: 0, Unknown: 0 };
  const phases = new Map<string, number>();
  for (const cluster of clusters) {
    const status = clusterAvailability(cluster.clusterObject).status;
    if (status === "True") availability.True += 1;
    else if (status === "False") availability.False += 1;
    else availability.Unknown += 1;
    const phase = phaseOf(cluster) ?? "<none>";
    phases.set(phase, (phases.get(phase) ?? 0) + 1);
  }
  const sorted = [...phases.entries()].sort(([, left], [, right]) => right - left);
  const named = sorted.slice(0, phasesNamed).map(([phase, count]) => `${phase} ${count}`);
  const others = sorted.slice(phasesNamed).reduce((total, [, count]) => total + count, 0);
  if (others > 0) named.push(`other ${others}`);
  const unknown = availability.Unknown > 0 ? `, ${availability.Unknown} unknown` : "";
  return `Available: ${availability.True} yes, ${availability.False} no${unknown}. Phases: ${named.join(", ")}.`;
}

/** AVAILABLE for a v1beta2 fleet, READY for a v1beta1 one, both names when the fleet mixes them. */
function availabilityHeader(clusters: readonly CapiSummary[]): string {
  const sources = new Set(clusters.map((cluster) => clusterAvailability(cluster.clusterObject).source));
  if (sources.has("Available") && sources.has("Ready")) return "AVAILABLE/READY";
  return sources.has("Ready") ? "READY" : "AVAILABLE";
}

export const capiListClustersTool = defineTool({
  name: "capi_list_clusters",
  title: "List Cluster API clusters",
  description:
    "Lists the Cluster API clusters you can see as a compact table (phase, available, control plane, workers, version, age), filtered by namespace, labelSelector, phase or readyOnly; paged with limit/continue.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input,
  async handler(options, context) {
    const selector = parseLabelSelector(options.labelSelector ?? "");
    // A token holds the last cluster shown, not an offset, so clusters added or deleted between
    // two pages neither repeat nor go missing; it is sealed, bound to the caller and filters, so
    // it names no cluster and an edited or foreign one fails to open before anything is listed.
    const query = tokenQuery(options);
    const after = options.continue === undefined ? undefined : context.continueTokens.open(options.continue, query);
    // The catalog already holds only what this caller may see; no list call of our own.
    const visible = capiSummaries(await context.clusters.list());
    const wantedPhase = options.phase?.toLowerCase();
    const matching = visible.filter(
      (cluster) =>
        (options.namespace === undefined || capiNamespace(cluster) === options.namespace) &&
        matchesLabels(selector, cluster.labels ?? cluster.clusterObject.metadata?.labels) &&
        (wantedPhase === undefined || phaseOf(cluster)?.toLowerCase() === wantedPhase) &&
        (options.readyOnly !== true || clusterAvailability(cluster.clusterObject).status === "True"),
    );
    const remainingAfter = after === undefined ? matching : matching.filter((cluster) => cluster.name > after);
    const filterText = describeFilters(options);
    const now = new Date();
    const render = (rows: readonly CapiSummary[]) =>
      renderTable(
        ["NAME", "PHASE", availabilityHeader(rows), "CONTROL PLANE", "WORKERS", "VERSION", "AGE"],
        rows.map((cluster) => [
          cluster.name,
          phaseOf(cluster),
          clusterAvailability(cluster.clusterObject).status,
          partCell(cluster.clusterObject, "controlPlane"),
          partCell(cluster.clusterObject, "workers"),
          topologyVersion(cluster.clusterObject),
          formatAge(cluster.clusterObject.metadata?.creationTimestamp, now),
        ]),
      );
    const shownBefore = after === undefined ? 0 : matching.length - remainingAfter.length;
    const footerFor = (rows: readonly CapiSummary[], token: string | undefined) => {
      const range =
        rows.length === matching.length
          ? `${plural(matching.length, "cluster")}${filterText}`
          : `Clusters ${shownBefore + 1}-${shownBefore + rows.length} of ${matching.length}${filterText}`;
      return [
        `${range}${filterText === "" ? "" : `, of ${visible.length} you can see`}.`,
        countsLine(matching),
        token === undefined
          ? after === undefined
            ? "This is the complete list."
            : "This is the last page."
          : `More exist (${remainingAfter.length - rows.length} more): call again with the same arguments and continue: "${token}".`,
      ].join("\n");
    };
    const tokenAfter = (rows: readonly CapiSummary[]) => {
      const lastShown = rows.at(-1)?.name;
      return rows.length < remainingAfter.length && lastShown !== undefined
        ? context.continueTokens.seal(lastShown, query)
        : undefined;
    };
    // The page holds only the rows that fit the budget whole, and its token resumes right after
    // the last of them; a page cut after rendering would lose the rows cut.
    const candidates = remainingAfter.slice(0, options.limit);
    const budget = context.settings.outputBudgetBytes;
    const fitsWhole = (rows: readonly CapiSummary[]) =>
      byteLength(render(rows)) + 1 + byteLength(footerFor(rows, tokenAfter(rows))) <= budget;
    const page = fitsWhole(candidates)
      ? candidates
      : candidates.slice(
          0,
          Math.max(
            1,
            largestFittingCount(
              candidates.length,
              (count) => byteLength(render(candidates.slice(0, count))),
              // Spare bytes: the footer of the shorter page may differ a little in its numbers.
              budget - byteLength(footerFor(candidates, tokenAfter(candidates.slice(0, 1)))) - 64,
            ),
          ),
        );
    const more = remainingAfter.length - page.length;
    const token = tokenAfter(page);
    // The Cluster objects live on the management cluster; the catalog read them from there.
    const target = { cluster: "management", namespace: options.namespace, kind: "Cluster" };
    const structured = {
      total: visible.length,
      matched: matching.length,
      count: page.length,
      continue: token ?? null,
      remaining: more,
    };

    if (matching.length === 0) {
      return {
        text:
          visible.length === 0
            ? "You can see no Cluster API clusters."
            : `No Cluster API clusters match${filterText}; you can see ${plural(visible.length, "cluster")} in all.`,
        structured,
        target,
      };
    }
    if (page.length === 0) {
      return { text: `No more clusters after ${after}${filterText}: this is the end of the list.`, structured, target };
    }
    const footer = footerFor(page, token);
    const text = withinBudget(context, render(page), {
      footer,
      narrowHint: "Ask again with a smaller limit (then page with continue), a namespace, a labelSelector or phase.",
    });
    return { text, structured, target };
  },
});
