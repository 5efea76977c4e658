import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { formatDuration } from "../shaping/age.js";
import { renderTable } from "../shaping/table.js";
import { plural } from "../support/answer.js";
import { nameText } from "../support/input-fields.js";

export const listPortForwardsTool = defineTool({
  name: "k8s_list_port_forwards",
  title: "List port-forwards",
  description: "Lists the port-forwards open in this session: id, local address, cluster, pod and port.",
  operation: "session",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: nameText().min(1).max(253).optional().describe("Only the forwards to this cluster."),
  }),
  async handler(input, context) {
    const entries = context.session.portForwards
      .list()
      .filter((entry) => input.cluster === undefined || entry.cluster === input.cluster);
    const structured = {
      portForwards: entries.map((entry) => ({
        id: entry.id,
        cluster: entry.cluster,
        local: `${entry.handle.localAddress}:${entry.handle.localPort}`,
        namespace: entry.handle.namespace,
        pod: entry.handle.pod,
        remotePort: entry.handle.remotePort,
        startedAt: entry.startedAt.toISOString(),
      })),
    };
    if (entries.length === 0) {
      return {
        text: "No port-forwards are open in this session. Start one with k8s_port_forward_pod or k8s_port_forward_service.",
        structured,
      };
    }
    const now = Date.now();
    const table = renderTable(
      ["ID", "LOCAL", "CLUSTER", "POD", "PORT", "AGE"],
      entries.map((entry) => [
        entry.id,
        `${entry.handle.localAddress}:${entry.handle.localPort}`,
        entry.cluster,
        `${entry.handle.namespace}/${entry.handle.pod}`,
        entry.handle.remotePort,
        formatDuration(now - entry.startedAt.getTime()),
      ]),
    );
    return {
      text: `${table}\n${plural(entries.length, "port-forward")} open; stop one with k8s_stop_port_forward and its id.`,
      structured,
    };
  },
});
