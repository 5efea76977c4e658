import { defineTool, GatewayError, type KubeObject } from "@capi-mcp/core";
import { z } from "zod";
import { asNumber, asRecord, asRecords, asString, valueAt } from "../shaping/object-fields.js";
import { isPodServing } from "../shaping/pod-status.js";
import { accessCluster } from "../support/cluster.js";
import {
  clusterField,
  defaultNamespace,
  nameText,
  objectNameField,
  optionalNamespaceField,
} from "../support/input-fields.js";
import { describeNewForward, forwardStructured, localPortField } from "../support/port-forward.js";

// Enough to find a ready pod behind any sensible Service without listing a whole namespace.
const podScanLimit = 500;

/** `app=web,tier=api` from a Service's spec.selector; undefined when the Service has none. */
export function selectorOf(service: KubeObject): string | undefined {
  const selector = asRecord(valueAt(service, "spec.selector"));
  const entries = Object.entries(selector ?? {}).filter(
    (entry): entry is [string, string] => typeof entry[1] === "string",
  );
  return entries.length === 0 ? undefined : entries.map(([key, value]) => `${key}=${value}`).join(",");
}

interface ServicePort {
  readonly port: number;
  readonly name: string | undefined;
  readonly targetPort: number | string;
}

function servicePorts(service: KubeObject): ServicePort[] {
  return asRecords(valueAt(service, "spec.ports")).flatMap((entry) => {
    const port = asNumber(entry.port);
    if (port === undefined) return [];
    const target = entry.targetPort;
    const targetPort = typeof target === "number" || (typeof target === "string" && target !== "") ? target : port;
    return [{ port, name: asString(entry.name), targetPort }];
  });
}

function describePorts(ports: readonly ServicePort[]): string {
  return ports.map((port) => `${port.port}${port.name === undefined ? "" : ` (${port.name})`}`).join(", ");
}

/** A named targetPort is the name of a container port in the pod. */
function containerPortNamed(pod: KubeObject, name: string): number | undefined {
  for (const container of asRecords(valueAt(pod, "spec.containers"))) {
    for (const port of asRecords(container.ports)) {
      if (port.name === name) return asNumber(port.containerPort);
    }
  }
  return undefined;
}

export const portForwardServiceTool = defineTool({
  name: "k8s_port_forward_service",
  title: "Forward a local port to a service",
  description:
    "Opens a listener on 127.0.0.1 that forwards to one ready pod behind a Service, for this session (it ends with the session, or when left unused for a few minutes). Returns the local address and an id for k8s_stop_port_forward.",
  operation: "port-forward",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    name: objectNameField.describe("Name of the Service."),
    namespace: optionalNamespaceField,
    port: z
      .union([z.number().int().min(1).max(65_535), nameText().min(1).max(63)])
      .describe("The Service's port number or port name (mapped to the pod's targetPort)."),
    localPort: localPortField,
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const namespace = input.namespace ?? defaultNamespace;
    const services = await access.resolve({ resource: "services", apiVersion: "v1" });
    const service = await access.get(services, input.name, namespace);
    const where = `Service ${namespace}/${input.name}`;

    const ports = servicePorts(service);
    const servicePort = ports.find((entry) =>
      typeof input.port === "number" ? entry.port === input.port : entry.name === input.port,
    );
    if (servicePort === undefined) {
      throw new GatewayError(
        "invalid_input",
        `${where} has no port ${JSON.stringify(input.port)}. Its ports: ${describePorts(ports) || "none"}.`,
      );
    }
    const selector = selectorOf(service);
    if (selector === undefined) {
      throw new GatewayError(
        "invalid_input",
        `${where} has no pod selector (its endpoints are managed outside Kubernetes, or it is an ExternalName service), so there is no pod to forward to. Forward to a pod directly with k8s_port_forward_pod.`,
      );
    }
    const pods = await access.resolve({ resource: "pods", apiVersion: "v1" });
    const candidates = await access.list(pods, { namespace, labelSelector: selector, limit: podScanLimit });
    // Same pick every time for the same cluster state: the first ready pod by name.
    const serving = candidates.items
      .filter(isPodServing)
      .sort((left, right) => (left.metadata?.name ?? "").localeCompare(right.metadata?.name ?? ""));
    const pod = serving[0];
    if (pod === undefined) {
      throw new GatewayError(
        "unavailable",
        `${where} selects ${candidates.items.length} pod(s) with ${selector}, but none is Running and Ready. Check them with k8s_list_resources (resource pods, labelSelector "${selector}").`,
      );
    }
    const podName = pod.metadata?.name ?? "";
    const targetPort =
      typeof servicePort.targetPort === "number"
        ? servicePort.targetPort
        : containerPortNamed(pod, servicePort.targetPort);
    if (targetPort === undefined) {
      throw new GatewayError(
        "invalid_input",
        `${where} port ${servicePort.port} targets the named port "${String(servicePort.targetPort)}", which pod ${podName} does not declare.`,
      );
    }
    const handle = await access.portForward({ namespace, pod: podName, port: targetPort, localPort: input.localPort });
    const entry = context.session.portForwards.add(access.cluster, handle);
    return {
      text: describeNewForward(entry, `via service ${input.name} port ${servicePort.port}`),
      structured: { ...forwardStructured(entry), service: input.name, servicePort: servicePort.port },
      target: { cluster: access.cluster, namespace, kind: "Service", name: input.name },
    };
  },
});
