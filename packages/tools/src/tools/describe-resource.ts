import { type ClusterAccess, defineTool, isGatewayError, type KubeObject } from "@capi-mcp/core";
import { z } from "zod";
import { describeSummary } from "../shaping/describe.js";
import { renderEventTable, sortEventsNewestFirst } from "../shaping/events.js";
import { objectNamespace, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  apiVersionField,
  clusterField,
  objectNameField,
  optionalNamespaceField,
  resourceField,
} from "../support/input-fields.js";

export const describeEventCount = 20;
// An object rarely has more; the cap keeps a noisy object from costing a huge list call.
const eventScanLimit = 500;

/** Field selector for the events about one object, as kubectl describe builds it. */
export function eventSelectorFor(object: KubeObject, kind: string): string {
  const terms = [`involvedObject.name=${object.metadata?.name ?? ""}`, `involvedObject.kind=${kind}`];
  if (object.metadata?.namespace !== undefined) terms.push(`involvedObject.namespace=${object.metadata.namespace}`);
  if (object.metadata?.uid !== undefined) terms.push(`involvedObject.uid=${object.metadata.uid}`);
  return terms.join(",");
}

async function recentEvents(access: ClusterAccess, object: KubeObject, kind: string): Promise<string> {
  try {
    const events = await access.resolve({ resource: "events", apiVersion: "v1" });
    const list = await access.list(events, {
      // Events about cluster-scoped objects (nodes) live in "default" or elsewhere: search all.
      namespace: object.metadata?.namespace,
      fieldSelector: eventSelectorFor(object, kind),
      limit: eventScanLimit,
    });
    if (list.items.length === 0) return "Events: <none>";
    // kubectl order: oldest of the most recent first, so the last line is the latest news.
    const recent = sortEventsNewestFirst(list.items).slice(0, describeEventCount).reverse();
    const heading =
      list.items.length > recent.length
        ? `Events (the ${recent.length} most recent of ${list.items.length}; k8s_list_events shows more):`
        : "Events:";
    const table = renderEventTable(recent, { showNamespace: false, showObject: false, now: new Date() });
    const note = list.policyNote === undefined ? "" : `\n  Note: ${list.policyNote}`;
    return `${heading}\n${table
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n")}${note}`;
  } catch (error) {
    // The object is still worth showing when its events are not (no RBAC on events, policy).
    if (isGatewayError(error)) return `Events: could not be listed (${error.message})`;
    throw error;
  }
}

export const describeResourceTool = defineTool({
  name: "k8s_describe_resource",
  title: "Describe a Kubernetes object",
  description:
    "Summarizes one object like kubectl describe: key fields, conditions, containers and images for pods, replicas for workloads, owner, and its recent events.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    resource: resourceField,
    name: objectNameField,
    namespace: optionalNamespaceField,
    apiVersion: apiVersionField,
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const resource = await access.resolve({ resource: input.resource, apiVersion: input.apiVersion });
    const namespace = objectNamespace(resource, input.namespace);
    const object = await access.get(resource, input.name, namespace);
    const summary = describeSummary(resource, object);
    const events = await recentEvents(access, object, object.kind ?? resource.kind);
    const text = withinBudget(context, summary, {
      footer: events,
      narrowHint: "Read single fields with k8s_get_resource, or events alone with k8s_list_events.",
    });
    return {
      text,
      structured: { apiVersion: object.apiVersion, kind: object.kind, name: input.name, namespace: namespace ?? null },
      target: { cluster: access.cluster, namespace, kind: resource.kind, name: input.name },
    };
  },
});
