import { defineTool, type KubeObject } from "@capi-mcp/core";
import { z } from "zod";
import { renderEventTable, sortEventsNewestFirst } from "../shaping/events.js";
import { plural, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import { clusterField, fieldSelectorField, namespaceField } from "../support/input-fields.js";

export const defaultEventLimit = 50;
export const maximumEventLimit = 500;
// Events come unordered from the API server, so "newest first" means reading them all first.
// Reading stops here; past it the answer says to narrow the query instead of paging.
export const eventScanPageSize = 500;
export const eventScanPages = 4;

export const listEventsTool = defineTool({
  name: "k8s_list_events",
  title: "List events",
  description:
    "Lists recent events, newest first, as a compact table. Filter by namespace (omit for all), involved object, type (Warning) or a fieldSelector.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    namespace: namespaceField.describe("Namespace to read events from. Omit for all namespaces."),
    involvedObjectName: z.string().min(1).max(253).optional().describe("Only events about objects with this name."),
    involvedObjectKind: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("Only events about this kind (Pod, Deployment, Node)."),
    types: z
      .array(z.enum(["Normal", "Warning"]))
      .min(1)
      .optional()
      .describe('Only these event types, e.g. ["Warning"].'),
    fieldSelector: fieldSelectorField.describe(
      "Extra field selector on events (reason=BackOff, involvedObject.uid=…).",
    ),
    limit: z
      .number()
      .int()
      .min(1)
      .max(maximumEventLimit)
      .default(defaultEventLimit)
      .describe(`How many of the newest events to show (default ${defaultEventLimit}).`),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const events = await access.resolve({ resource: "events", apiVersion: "v1" });
    const terms: string[] = [];
    if (input.involvedObjectName !== undefined) terms.push(`involvedObject.name=${input.involvedObjectName}`);
    if (input.involvedObjectKind !== undefined) terms.push(`involvedObject.kind=${input.involvedObjectKind}`);
    const types = [...new Set(input.types ?? [])];
    // The API server has no "in" for field selectors: one type filters there, both filter nothing.
    if (types.length === 1) terms.push(`type=${types[0]}`);
    if (input.fieldSelector !== undefined && input.fieldSelector.trim() !== "") terms.push(input.fieldSelector.trim());
    const fieldSelector = terms.length === 0 ? undefined : terms.join(",");

    const collected: KubeObject[] = [];
    let continueToken: string | undefined;
    let policyNote: string | undefined;
    let pages = 0;
    do {
      const page = await access.list(events, {
        namespace: input.namespace,
        fieldSelector,
        limit: eventScanPageSize,
        continue: continueToken,
      });
      collected.push(...page.items);
      policyNote = page.policyNote ?? policyNote;
      continueToken = page.metadata?.continue || undefined;
      pages += 1;
    } while (continueToken !== undefined && pages < eventScanPages);

    const scope = input.namespace === undefined ? "across all namespaces" : `in namespace ${input.namespace}`;
    const footerLines: string[] = [];
    const shown = sortEventsNewestFirst(collected).slice(0, input.limit);
    footerLines.push(
      collected.length > shown.length
        ? `The ${shown.length} newest of ${plural(collected.length, "matching event")} ${scope}${continueToken === undefined ? "" : " read so far"}.`
        : `${plural(shown.length, "event")} ${scope}.`,
    );
    if (continueToken !== undefined) {
      footerLines.push(
        `Only the first ${collected.length} events were read, so newer ones may be missing: narrow with namespace, involvedObjectName, types or fieldSelector.`,
      );
    }
    if (policyNote !== undefined && policyNote !== "") footerLines.push(`Note: ${policyNote}`);
    const structured = { count: shown.length, matched: collected.length, complete: continueToken === undefined };
    const target = { cluster: access.cluster, namespace: input.namespace, kind: "Event" };
    if (shown.length === 0) {
      return {
        text: `No events ${scope} match.${policyNote === undefined ? "" : `\nNote: ${policyNote}`}`,
        structured,
        target,
      };
    }
    const table = renderEventTable(shown, {
      showNamespace: input.namespace === undefined,
      showObject: true,
      now: new Date(),
    });
    const text = withinBudget(context, table, {
      footer: footerLines.join("\n"),
      narrowHint: 'Ask for fewer (limit), one namespace, one object (involvedObjectName) or types: ["Warning"].',
    });
    return { text, structured, target };
  },
});
