import { GatewayError, type ToolContext } from "@capi-mcp/core";
import { z } from "zod";
import { compareNames, findVisibleCluster } from "./cluster-names.js";
import { nameText } from "./input-fields.js";
import { matchesLabels, parseLabelSelector } from "./label-selector.js";

/**
 * At most this many clusters in one fleet-wide call: beyond it, sections would shrink to a few
 * rows each and the per-cluster timeouts would add up; the answer asks to narrow instead.
 */
export const maximumFleetClusters = 50;

export const clustersField = z
  .array(nameText().min(1).max(253))
  .min(1)
  .max(maximumFleetClusters)
  .optional()
  .describe(
    `Query these clusters at once (namespace/name), one section each. Not with cluster. At most ${maximumFleetClusters}.`,
  );

export const clusterSelectorField = nameText()
  .min(1)
  .max(2048)
  .optional()
  .describe("Query every cluster you can see whose labels match (env=prod,region in (eu,us)). Not with cluster.");

export interface FleetArguments {
  readonly cluster?: string | undefined;
  readonly clusters?: readonly string[] | undefined;
  readonly clusterSelector?: string | undefined;
}

export interface FleetSelection {
  /** Canonical names, sorted and without duplicates. */
  readonly clusters: readonly string[];
  /** How they were chosen, for the answer's first line. */
  readonly description: string;
}

/**
 * The clusters a fleet-wide call goes to, or undefined for a single-cluster call. Names are
 * resolved against the clusters the caller may see (a bare name only when unambiguous); a name
 * that matches nothing is kept as given, so it fails alone, like a forbidden one, with the
 * catalog's own answer.
 */
export async function selectFleet(input: FleetArguments, context: ToolContext): Promise<FleetSelection | undefined> {
  if (input.clusters === undefined && input.clusterSelector === undefined) return undefined;
  if (input.cluster !== undefined) {
    throw new GatewayError(
      "invalid_input",
      "Pass either cluster (one cluster) or clusters/clusterSelector (several at once), not both.",
    );
  }
  if (input.clusters !== undefined && input.clusterSelector !== undefined) {
    throw new GatewayError(
      "invalid_input",
      "Pass either clusters (a list of names) or clusterSelector (a label selector), not both.",
    );
  }
  const summaries = await context.clusters.list();
  if (input.clusters !== undefined) {
    const names = input.clusters.map((name) => findVisibleCluster(name, summaries)?.name ?? name);
    const clusters = [...new Set(names)].sort(compareNames);
    return { clusters, description: `${clusters.length === 1 ? "1 cluster" : `${clusters.length} clusters`}` };
  }
  const selector = parseLabelSelector(input.clusterSelector ?? "");
  const clusters = summaries
    .filter((summary) => matchesLabels(selector, summary.labels))
    .map((summary) => summary.name)
    .sort(compareNames);
  if (clusters.length === 0) {
    throw new GatewayError(
      "invalid_input",
      `The cluster selector "${selector.text}" matches none of the ${summaries.length} clusters you can see: capi_list_clusters shows their labels.`,
    );
  }
  if (clusters.length > maximumFleetClusters) {
    throw new GatewayError(
      "invalid_input",
      `The cluster selector "${selector.text}" matches ${clusters.length} clusters; one call queries at most ${maximumFleetClusters}. Narrow the selector, or pass clusters by name.`,
    );
  }
  return {
    clusters,
    description: `${clusters.length === 1 ? "1 cluster" : `${clusters.length} clusters`} matching ${selector.text}`,
  };
}

/**
 * Rows per cluster for a fleet-wide list: the asked limit, lowered so that every cluster's rows
 * together roughly fit the answer's budget (rather than being fetched only to be cut).
 */
export function perClusterLimit(options: {
  readonly limit: number;
  readonly clusters: number;
  readonly budgetBytes: number;
  readonly bytesPerRow: number;
  readonly minimum: number;
}): number {
  const fitting = Math.floor(options.budgetBytes / Math.max(1, options.clusters) / options.bytesPerRow);
  return Math.min(options.limit, Math.max(options.minimum, fitting));
}
