import { apiVersionOf, defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { renderTable } from "../shaping/table.js";
import { plural, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import { clusterField, nameText } from "../support/input-fields.js";

export const getApiResourcesTool = defineTool({
  name: "k8s_get_api_resources",
  title: "List resource types",
  description:
    "Lists the resource types the cluster serves (name, short names, apiVersion, namespaced, kind), like kubectl api-resources. Filter by apiGroup, namespaced or verbs.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    apiGroup: nameText()
      .max(253)
      .optional()
      .describe('Only this API group (apps, cluster.x-k8s.io); "" or "core" for the core group.'),
    namespaced: z.boolean().optional().describe("Only namespaced (true) or cluster-scoped (false) types."),
    verbs: z
      .array(nameText().min(1).max(64))
      .max(16)
      .optional()
      .describe('Only types supporting all these verbs, e.g. ["list","watch"].'),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const group = input.apiGroup === "core" ? "" : input.apiGroup;
    const resources = (await access.listApiResources())
      .filter((resource) => group === undefined || resource.group === group)
      .filter((resource) => input.namespaced === undefined || resource.namespaced === input.namespaced)
      .filter((resource) => (input.verbs ?? []).every((verb) => resource.verbs.includes(verb)))
      .sort((left, right) => left.group.localeCompare(right.group) || left.resource.localeCompare(right.resource));
    if (resources.length === 0) {
      return {
        text: "No resource types match these filters.",
        structured: { count: 0 },
        target: { cluster: access.cluster },
      };
    }
    const table = renderTable(
      ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
      resources.map((resource) => [
        resource.resource,
        resource.shortNames.join(","),
        apiVersionOf(resource),
        resource.namespaced,
        resource.kind,
      ]),
    );
    const text = withinBudget(context, table, {
      footer: `${plural(resources.length, "resource type")}. Use NAME or KIND as resource; add .group when a name is in several groups.`,
      narrowHint: "Filter with apiGroup, namespaced or verbs.",
    });
    return { text, structured: { count: resources.length }, target: { cluster: access.cluster } };
  },
});
