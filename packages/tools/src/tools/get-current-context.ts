import { defineTool } from "@capi-mcp/core";
import { z } from "zod";

export const getCurrentContextTool = defineTool({
  name: "k8s_get_current_context",
  title: "Get the current cluster",
  description: "Says which cluster tools use when a call names none: this session's choice, or the server's default.",
  operation: "session",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  async handler(_input, context) {
    const switched = context.session.currentCluster;
    const current = switched ?? context.clusters.defaultCluster;
    if (current === undefined) {
      return {
        text: "No current cluster. List the clusters with k8s_list_contexts, then call k8s_switch_context or pass cluster to each tool.",
        structured: { current: null, source: null },
      };
    }
    const source = switched === undefined ? "default" : "session";
    return {
      text: `Current cluster: ${current} (${source === "session" ? "switched in this session" : "the server's default"}).`,
      structured: { current, source },
      target: { cluster: current },
    };
  },
});
