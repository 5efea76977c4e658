import { type ClusterAccess, defineTool, type KubeObject, type ToolContext } from "@capi-mcp/core";
import { z } from "zod";
import { byteLength } from "../shaping/budget.js";
import { renderEventTable, sortEventsNewestFirst } from "../shaping/events.js";
import { fleetSectionBudget, renderFanOutAnswer } from "../shaping/fleet-answer.js";
import { largestFittingCount } from "../shaping/list-page.js";
import { plural, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import { fanOut } from "../support/fan-out.js";
import {
  clusterSelectorField,
  clustersField,
  type FleetSelection,
  perClusterLimit,
  selectFleet,
} from "../support/fleet.js";
import { clusterField, fieldSelectorField, namespaceField, nameText } from "../support/input-fields.js";

export const defaultEventLimit = 50;
export const maximumEventLimit = 500;
// Events come unordered from the API server, so "newest first" means reading them all first.
// Reading stops here; past it the answer says to narrow the query instead of paging.
export const eventScanPageSize = 500;
export const eventScanPages = 4;

const narrowHint = 'Ask for fewer (limit), one namespace, one object (involvedObjectName) or types: ["Warning"].';
// Rough bytes per event row (messages run long), to lower a fleet-wide limit before reading.
const bytesPerEventRow = 220;
const minimumEventsPerCluster = 5;

const input = z.object({
  cluster: clusterField,
  clusters: clustersField,
  clusterSelector: clusterSelectorField,
  namespace: namespaceField.describe("Namespace to read events from. Omit for all namespaces."),
  involvedObjectName: nameText().min(1).max(253).optional().describe("Only events about objects with this name."),
  involvedObjectKind: nameText()
    .min(1)
    .max(253)
    .optional()
    .describe("Only events about this kind (Pod, Deployment, Node)."),
  types: z
    .array(z.enum(["Normal", "Warning"]))
    .min(1)
    .optional()
    .describe('Only these event types, e.g. ["Warning"].'),
  fieldSelector: fieldSelectorField.describe("Extra field selector on events (reason=BackOff, involvedObject.uid=…)."),
  limit: z
    .number()
    .int()
    .min(1)
    .max(maximumEventLimit)
    .default(defaultEventLimit)
    .describe(`How many of the newest events to show (default ${defaultEventLimit}); per cluster with clusters.`),
});

type EventsInput = z.output<typeof input>;

interface ClusterEvents {
  readonly shown: number;
  readonly matched: number;
  readonly complete: boolean;
  /** The table; "" when no event matched. */
  readonly body: string;
  readonly footer: string;
}

/** The newest events of one cluster, rendered: what a single-cluster answer and a fleet section share. */
async function eventsOnCluster(
  access: ClusterAccess,
  options: EventsInput,
  limit: number,
  budgetBytes: number,
): Promise<ClusterEvents> {
  const events = await access.resolve({ resource: "events", apiVersion: "v1" });
  const terms: string[] = [];
  if (options.involvedObjectName !== undefined) terms.push(`involvedObject.name=${options.involvedObjectName}`);
  if (options.involvedObjectKind !== undefined) terms.push(`involvedObject.kind=${options.involvedObjectKind}`);
  const types = [...new Set(options.types ?? [])];
  // The API server has no "in" for field selectors: one type filters there, both filter nothing.
  if (types.length === 1) terms.push(`type=${types[0]}`);
  if (options.fieldSelector !== undefined && options.fieldSelector.trim() !== "") {
    terms.push(options.fieldSelector.trim());
  }
  const fieldSelector = terms.length === 0 ? undefined : terms.join(",");

  const collected: KubeObject[] = [];
  let continueToken: string | undefined;
  let policyNote: string | undefined;
  let pages = 0;
  do {
    const page = await access.list(events, {
      namespace: options.namespace,
      fieldSelector,
      limit: eventScanPageSize,
      continue: continueToken,
    });
    collected.push(...page.items);
    policyNote = page.policyNote ?? policyNote;
    continueToken = page.metadata?.continue || undefined;
    pages += 1;
  } while (continueToken !== undefined && pages < eventScanPages);

  const scope = options.namespace === undefined ? "across all namespaces" : `in namespace ${options.namespace}`;
  const complete = continueToken === undefined;
  const newest = sortEventsNewestFirst(collected).slice(0, limit);
  if (newest.length === 0) {
    return {
      shown: 0,
      matched: collected.length,
      complete,
      body: "",
      footer: `No events ${scope} match.${policyNote === undefined ? "" : `\nNote: ${policyNote}`}`,
    };
  }
  const now = new Date();
  const render = (events: readonly KubeObject[]) =>
    renderEventTable([...events], { showNamespace: options.namespace === undefined, showObject: true, now });
  const footerFor = (shown: number) => {
    const lines = [
      collected.length > shown
        ? `The ${shown} newest of ${plural(collected.length, "matching event")} ${scope}${complete ? "" : " read so far"}.`
        : `${plural(shown, "event")} ${scope}.`,
    ];
    if (shown < newest.length) {
      lines.push(`Only ${shown} of the ${newest.length} asked for fit the answer budget. ${narrowHint}`);
    }
    if (!complete) {
      lines.push(
        `Only the first ${collected.length} events were read, so newer ones may be missing: narrow with namespace, involvedObjectName, types or fieldSelector.`,
      );
    }
    if (policyNote !== undefined && policyNote !== "") lines.push(`Note: ${policyNote}`);
    return lines.join("\n");
  };
  // The table is fitted to the budget whole (fewer rows, never a cut row), so nothing cuts it later.
  const fullFooter = footerFor(newest.length);
  const fitting =
    byteLength(render(newest)) + 1 + byteLength(fullFooter) <= budgetBytes
      ? newest.length
      : largestFittingCount(
          newest.length,
          (count) => byteLength(render(newest.slice(0, count))),
          // A few bytes spare: the counts in the footer may gain digits.
          budgetBytes - byteLength(footerFor(0)) - 17,
        );
  const shown = newest.slice(0, Math.max(1, fitting));
  const body = render(shown);
  const footerLines = [footerFor(shown.length)];
  // One event longer than the whole budget is the only row ever cut, by the caller's backstop.
  return { shown: shown.length, matched: collected.length, complete, body, footer: footerLines.join("\n") };
}

async function eventsOnFleet(options: EventsInput, fleet: FleetSelection, context: ToolContext) {
  const limit = perClusterLimit({
    limit: options.limit,
    clusters: fleet.clusters.length,
    budgetBytes: context.settings.outputBudgetBytes,
    bytesPerRow: bytesPerEventRow,
    minimum: minimumEventsPerCluster,
  });
  const outcomes = await fanOut(
    fleet.clusters,
    async (cluster) =>
      eventsOnCluster(
        await context.clusters.access(cluster),
        options,
        limit,
        fleetSectionBudget(context.settings.outputBudgetBytes, fleet.clusters.length, cluster),
      ),
    {
      concurrency: context.settings.fanoutConcurrency,
      timeoutMilliseconds: context.settings.fanoutTimeoutMilliseconds,
      signal: context.signal,
      onDone: context.settings.onFanOut,
    },
  );
  const text = renderFanOutAnswer({
    subject: "Events",
    fleetDescription: fleet.description,
    clusterCount: fleet.clusters.length,
    outcomes,
    section: (events) => ({ body: events.body, footer: events.footer }),
    limit,
    requestedLimit: options.limit,
    budgetBytes: context.settings.outputBudgetBytes,
    narrowHint,
  });
  const structured = {
    limitPerCluster: limit,
    clusters: outcomes.map((outcome) =>
      outcome.ok
        ? {
            cluster: outcome.cluster,
            count: outcome.value.shown,
            matched: outcome.value.matched,
            complete: outcome.value.complete,
          }
        : { cluster: outcome.cluster, error: outcome.message },
    ),
  };
  // Audit and metrics get a fixed marker, not a list of names: the arguments record which.
  return { text, structured, target: { cluster: "(fan-out)", namespace: options.namespace, kind: "Event" } };
}

export const listEventsTool = defineTool({
  name: "k8s_list_events",
  title: "List events",
  description:
    "Lists recent events, newest first, as a compact table. Filter by namespace (omit for all), involved object, type (Warning) or a fieldSelector. clusters or clusterSelector: several clusters at once.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input,
  async handler(options, context) {
    const fleet = await selectFleet(options, context);
    if (fleet !== undefined) return eventsOnFleet(options, fleet, context);

    const access = await accessCluster(options.cluster, context);
    const events = await eventsOnCluster(access, options, options.limit, context.settings.outputBudgetBytes);
    const structured = { count: events.shown, matched: events.matched, complete: events.complete };
    const target = { cluster: access.cluster, namespace: options.namespace, kind: "Event" };
    if (events.body === "") return { text: events.footer, structured, target };
    const text = withinBudget(context, events.body, { footer: events.footer, narrowHint });
    return { text, structured, target };
  },
});
