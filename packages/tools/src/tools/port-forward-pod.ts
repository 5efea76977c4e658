import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { accessCluster } from "../support/cluster.js";
import { clusterField, defaultNamespace, optionalNamespaceField, podNameField } from "../support/input-fields.js";
import { describeNewForward, forwardStructured, localPortField } from "../support/port-forward.js";

export const portForwardPodTool = defineTool({
  name: "k8s_port_forward_pod",
  title: "Forward a local port to a pod",
  description:
    "Opens a listener on 127.0.0.1 that forwards to a pod's port, for this session (it ends with the session, or when left unused for a few minutes). Returns the local address and an id for k8s_stop_port_forward.",
  operation: "port-forward",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    name: podNameField,
    namespace: optionalNamespaceField,
    port: z.number().int().min(1).max(65_535).describe("The pod's port (containerPort) to reach."),
    localPort: localPortField,
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const namespace = input.namespace ?? defaultNamespace;
    const handle = await access.portForward({
      namespace,
      pod: input.name,
      port: input.port,
      localPort: input.localPort,
    });
    const entry = context.session.portForwards.add(access.cluster, handle);
    return {
      text: describeNewForward(entry, undefined),
      structured: forwardStructured(entry),
      target: { cluster: access.cluster, namespace, kind: "Pod", name: input.name },
    };
  },
});
