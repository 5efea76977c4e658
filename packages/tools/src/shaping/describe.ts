import type { ApiResource, KubeObject } from "@capi-mcp/core";
import { formatAge } from "./age.js";
import {
  asNumber,
  asRecord,
  asRecords,
  asString,
  conditionsOf,
  type JsonRecord,
  numberAt,
  stringAt,
  valueAt,
} from "./object-fields.js";
import { podReadyCount, podRestarts, podStatus } from "./pod-status.js";
import { nodeRoles } from "./resource-table.js";
import { renderTable, truncateText } from "./table.js";
import { lastAppliedAnnotation, valueToYaml } from "./yaml.js";

// Annotation values can be whole documents (webhook configs, JSON blobs): a summary shows their start.
const annotationValueLength = 120;

function mapLine(map: Record<string, string> | undefined, maximumLength?: number): string {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return "<none>";
  return entries
    .map(([key, value]) => `${key}=${maximumLength === undefined ? value : truncateText(value, maximumLength)}`)
    .join(", ");
}

function field(label: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  return `${label}: ${String(value)}`;
}

function section(title: string, body: string): string {
  return `${title}:\n${body
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n")}`;
}

function containerState(status: JsonRecord | undefined): string {
  const state = asRecord(status?.state);
  if (state === undefined) return "unknown";
  const waiting = asRecord(state.waiting);
  if (waiting !== undefined) {
    const message = asString(waiting.message);
    return `Waiting (${asString(waiting.reason) ?? "unknown"})${message === undefined ? "" : `: ${truncateText(message, 160)}`}`;
  }
  const terminated = asRecord(state.terminated);
  if (terminated !== undefined) {
    return `Terminated (${asString(terminated.reason) ?? "unknown"}, exit code ${asNumber(terminated.exitCode) ?? "?"})`;
  }
  return asRecord(state.running) === undefined ? "unknown" : "Running";
}

function lastTermination(status: JsonRecord | undefined): string | undefined {
  const terminated = asRecord(asRecord(status?.lastState)?.terminated);
  if (terminated === undefined) return undefined;
  return `${asString(terminated.reason) ?? "Terminated"}, exit code ${asNumber(terminated.exitCode) ?? "?"}, at ${asString(terminated.finishedAt) ?? "?"}`;
}

function containersSection(pod: KubeObject, specPath: string, statusPath: string, title: string): string | undefined {
  const containers = asRecords(valueAt(pod, specPath));
  if (containers.length === 0) return undefined;
  const statuses = asRecords(valueAt(pod, statusPath));
  const blocks = containers.map((container) => {
    const name = asString(container.name) ?? "?";
    const status = statuses.find((entry) => entry.name === name);
    const ports = asRecords(container.ports)
      .map(
        (port) =>
          `${asNumber(port.containerPort) ?? "?"}/${asString(port.protocol) ?? "TCP"}${asString(port.name) === undefined ? "" : ` (${asString(port.name)})`}`,
      )
      .join(", ");
    const requests = asRecord(asRecord(container.resources)?.requests) as Record<string, string> | undefined;
    const limits = asRecord(asRecord(container.resources)?.limits) as Record<string, string> | undefined;
    const lines = [
      field("Image", container.image),
      `State: ${containerState(status)}`,
      field("Last termination", lastTermination(status)),
      field("Ready", status?.ready),
      field("Restarts", status?.restartCount),
      field("Ports", ports),
      requests === undefined ? undefined : `Requests: ${mapLine(requests)}`,
      limits === undefined ? undefined : `Limits: ${mapLine(limits)}`,
    ].filter((line) => line !== undefined);
    return `${name}:\n${lines.map((line) => `  ${line}`).join("\n")}`;
  });
  return section(title, blocks.join("\n"));
}

function podTemplateImages(object: KubeObject): string | undefined {
  const containers = asRecords(valueAt(object, "spec.template.spec.containers"));
  if (containers.length === 0) return undefined;
  return section(
    "Containers (template)",
    containers.map((container) => `${asString(container.name) ?? "?"}: ${asString(container.image) ?? "?"}`).join("\n"),
  );
}

function selectorLine(object: KubeObject): string | undefined {
  const matchLabels = asRecord(valueAt(object, "spec.selector.matchLabels")) as Record<string, string> | undefined;
  if (matchLabels !== undefined) return `Selector: ${mapLine(matchLabels)}`;
  const plain = asRecord(valueAt(object, "spec.selector"));
  if (plain !== undefined && Object.values(plain).every((value) => typeof value === "string")) {
    return `Selector: ${mapLine(plain as Record<string, string>)}`;
  }
  return undefined;
}

function kindSpecificLines(resource: ApiResource, object: KubeObject): (string | undefined)[] {
  const key = `${resource.group}/${resource.resource}`;
  switch (key) {
    case "/pods":
      return [
        field("Status", podStatus(object)),
        field("Ready", podReadyCount(object)),
        field("Restarts", podRestarts(object)),
        field("Node", stringAt(object, "spec.nodeName")),
        field("Pod IP", stringAt(object, "status.podIP")),
        field("QoS class", stringAt(object, "status.qosClass")),
        field("Service account", stringAt(object, "spec.serviceAccountName")),
        field("Message", stringAt(object, "status.message")),
        containersSection(object, "spec.initContainers", "status.initContainerStatuses", "Init containers"),
        containersSection(object, "spec.containers", "status.containerStatuses", "Containers"),
      ];
    case "apps/deployments":
    case "apps/statefulsets":
    case "apps/replicasets":
      return [
        `Replicas: ${numberAt(object, "spec.replicas") ?? 1} desired, ${numberAt(object, "status.updatedReplicas") ?? 0} updated, ${numberAt(object, "status.readyReplicas") ?? 0} ready, ${numberAt(object, "status.availableReplicas") ?? 0} available`,
        selectorLine(object),
        field("Strategy", stringAt(object, "spec.strategy.type") ?? stringAt(object, "spec.updateStrategy.type")),
        podTemplateImages(object),
      ];
    case "apps/daemonsets":
      return [
        `Pods: ${numberAt(object, "status.desiredNumberScheduled") ?? 0} desired, ${numberAt(object, "status.numberReady") ?? 0} ready, ${numberAt(object, "status.numberAvailable") ?? 0} available`,
        selectorLine(object),
        podTemplateImages(object),
      ];
    case "/services":
      return [
        field("Type", stringAt(object, "spec.type") ?? "ClusterIP"),
        field("Cluster IP", stringAt(object, "spec.clusterIP")),
        selectorLine(object) ?? "Selector: <none> (endpoints managed outside Kubernetes)",
        field(
          "Ports",
          asRecords(valueAt(object, "spec.ports"))
            .map(
              (port) =>
                `${asString(port.name) ?? "<unnamed>"} ${asNumber(port.port) ?? "?"}/${asString(port.protocol) ?? "TCP"} → ${String(port.targetPort ?? port.port)}`,
            )
            .join(", "),
        ),
      ];
    case "/nodes":
      return [
        field("Roles", nodeRoles(object)),
        field("Kubelet", stringAt(object, "status.nodeInfo.kubeletVersion")),
        field("Unschedulable", valueAt(object, "spec.unschedulable") === true ? "true" : undefined),
        field(
          "Addresses",
          asRecords(valueAt(object, "status.addresses"))
            .map((address) => `${asString(address.type)}=${asString(address.address)}`)
            .join(", "),
        ),
        field("Capacity", mapLine(asRecord(valueAt(object, "status.capacity")) as Record<string, string> | undefined)),
        field(
          "Allocatable",
          mapLine(asRecord(valueAt(object, "status.allocatable")) as Record<string, string> | undefined),
        ),
        field(
          "Taints",
          asRecords(valueAt(object, "spec.taints"))
            .map(
              (taint) =>
                `${asString(taint.key)}${taint.value === undefined ? "" : `=${String(taint.value)}`}:${asString(taint.effect)}`,
            )
            .join(", "),
        ),
      ];
    default:
      return genericLines(object);
  }
}

/** Kinds without a summary of their own (CRDs, Cluster API objects) show spec and status. */
function genericLines(object: KubeObject): (string | undefined)[] {
  const status = asRecord(object.status);
  const { conditions: _conditions, ...statusWithoutConditions } = status ?? {};
  const lines: (string | undefined)[] = [field("Phase", stringAt(object, "status.phase"))];
  if (object.spec !== undefined) lines.push(section("Spec", valueToYaml(object.spec)));
  if (Object.keys(statusWithoutConditions).length > 0)
    lines.push(section("Status", valueToYaml(statusWithoutConditions)));
  // Objects without spec (ConfigMaps, Secrets) show their other top-level fields' keys only:
  // the guard redacts secret values, and a summary should not repeat data wholesale.
  for (const [key, value] of Object.entries(object)) {
    if (["apiVersion", "kind", "metadata", "spec", "status"].includes(key)) continue;
    const record = asRecord(value);
    lines.push(
      record === undefined
        ? field(key, typeof value === "object" ? JSON.stringify(value) : value)
        : field(key, Object.keys(record).join(", ") || "<empty>"),
    );
  }
  return lines;
}

function conditionsSection(object: KubeObject, now: Date): string | undefined {
  const conditions = conditionsOf(object);
  if (conditions.length === 0) return undefined;
  return section(
    "Conditions",
    renderTable(
      ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"],
      conditions.map((condition) => [
        condition.type,
        condition.status,
        condition.reason,
        condition.lastTransitionTime === undefined ? undefined : formatAge(condition.lastTransitionTime, now),
        condition.message === undefined ? undefined : truncateText(condition.message, 160),
      ]),
    ),
  );
}

/**
 * A `kubectl describe`-like summary: identity, labels, owner, the fields that matter for the
 * kind, and conditions. Meant to be read, not parsed; `k8s_get_resource` gives the full object.
 */
export function describeSummary(resource: ApiResource, object: KubeObject, now: Date = new Date()): string {
  const metadata = object.metadata ?? {};
  const annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).filter(([key]) => key !== lastAppliedAnnotation),
  );
  const owner =
    (metadata.ownerReferences ?? []).find((reference) => reference.controller === true) ??
    metadata.ownerReferences?.[0];
  const lines = [
    field("Name", metadata.name),
    field("Namespace", metadata.namespace),
    `Kind: ${object.kind ?? resource.kind} (${object.apiVersion ?? ""})`,
    field(
      "Created",
      metadata.creationTimestamp === undefined
        ? undefined
        : `${metadata.creationTimestamp} (${formatAge(metadata.creationTimestamp, now)} ago)`,
    ),
    field("Deleting since", metadata.deletionTimestamp),
    field("Finalizers", asArrayOfStrings(metadata.finalizers).join(", ")),
    `Labels: ${mapLine(metadata.labels)}`,
    `Annotations: ${mapLine(annotations, annotationValueLength)}`,
    owner === undefined ? undefined : `Controlled by: ${owner.kind}/${owner.name}`,
    ...kindSpecificLines(resource, object),
    conditionsSection(object, now),
  ];
  return lines.filter((line) => line !== undefined).join("\n");
}

function asArrayOfStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
