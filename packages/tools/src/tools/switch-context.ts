import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { nameText } from "../support/input-fields.js";

export const switchContextTool = defineTool({
  name: "k8s_switch_context",
  title: "Switch the current cluster",
  description:
    "Makes a cluster the default for later calls in this MCP session only (other sessions are unaffected). See k8s_list_contexts for names.",
  operation: "session",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: nameText().min(1).max(253).describe("The cluster to use from now on in this session."),
  }),
  async handler(input, context) {
    // Fails alike for an unknown and a forbidden cluster, before the session changes.
    const access = await context.clusters.access(input.cluster);
    const previous = context.session.currentCluster ?? context.clusters.defaultCluster;
    context.session.currentCluster = access.cluster;
    return {
      text: `Switched this session to cluster ${access.cluster}${previous === undefined || previous === access.cluster ? "" : ` (was ${previous})`}. Calls without cluster now go there.`,
      structured: { current: access.cluster, previous: previous ?? null },
      target: { cluster: access.cluster },
    };
  },
});
