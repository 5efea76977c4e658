import { defineTool, GatewayError } from "@capi-mcp/core";
import { z } from "zod";
import { nameText } from "../support/input-fields.js";

export const stopPortForwardTool = defineTool({
  name: "k8s_stop_port_forward",
  title: "Stop a port-forward",
  description: "Closes a port-forward of this session by its id (see k8s_list_port_forwards).",
  operation: "session",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: nameText().min(1).max(128).describe("The port-forward's id, as k8s_port_forward_pod/_service returned it."),
  }),
  async handler(input, context) {
    const entry = context.session.portForwards.list().find((candidate) => candidate.id === input.id);
    const stopped = await context.session.portForwards.stop(input.id);
    if (!stopped || entry === undefined) {
      throw new GatewayError(
        "not_found",
        `No port-forward with id "${input.id}" in this session. k8s_list_port_forwards shows the open ones.`,
      );
    }
    const { handle } = entry;
    return {
      text: `Stopped port-forward ${input.id} (${handle.localAddress}:${handle.localPort} → pod ${handle.namespace}/${handle.pod} port ${handle.remotePort}).`,
      structured: { id: input.id, stopped: true },
      target: { cluster: entry.cluster, namespace: handle.namespace, kind: "Pod", name: handle.pod },
    };
  },
});
