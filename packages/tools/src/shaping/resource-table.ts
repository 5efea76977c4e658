import type { ApiResource, KubeObject } from "@capi-mcp/core";
import { formatAge } from "./age.js";
import { eventObject, eventTime } from "./events.js";
import {
  asNumber,
  asRecord,
  asRecords,
  asString,
  conditionStatus,
  numberAt,
  stringAt,
  valueAt,
} from "./object-fields.js";
import { podReadyCount, podRestarts, podStatus } from "./pod-status.js";
import { renderTable, type TableCell, truncateText } from "./table.js";

interface Column {
  readonly header: string;
  readonly value: (object: KubeObject) => TableCell;
}

function column(header: string, value: (object: KubeObject) => TableCell): Column {
  return { header, value };
}

function replicasOf(object: KubeObject, path: string): number {
  return numberAt(object, path) ?? 0;
}

function servicePorts(service: KubeObject): string {
  const ports = asRecords(valueAt(service, "spec.ports")).map((port) => {
    const nodePort = asNumber(port.nodePort);
    const protocol = asString(port.protocol) ?? "TCP";
    return `${asNumber(port.port) ?? "?"}${nodePort === undefined ? "" : `:${nodePort}`}/${protocol}`;
  });
  return ports.join(",");
}

function nodeStatus(node: KubeObject): string {
  const ready = conditionStatus(node, "Ready");
  const status = ready === "True" ? "Ready" : ready === undefined ? "Unknown" : "NotReady";
  return valueAt(node, "spec.unschedulable") === true ? `${status},SchedulingDisabled` : status;
}

export function nodeRoles(node: KubeObject): string {
  const prefix = "node-role.kubernetes.io/";
  const roles = Object.keys(node.metadata?.labels ?? {})
    .filter((label) => label.startsWith(prefix))
    .map((label) => label.slice(prefix.length))
    .filter((role) => role !== "");
  return roles.length === 0 ? "<none>" : roles.sort().join(",");
}

function dataCount(object: KubeObject): number {
  return Object.keys(asRecord(object.data) ?? {}).length + Object.keys(asRecord(object.binaryData) ?? {}).length;
}

function readyOfTotal(object: KubeObject, readyPath: string, totalPath: string): string {
  return `${replicasOf(object, readyPath)}/${replicasOf(object, totalPath)}`;
}

/** Columns for the kinds people list most; everything else gets `genericColumns`. */
function columnsFor(resource: ApiResource, now: Date): Column[] | undefined {
  const key = `${resource.group}/${resource.resource}`;
  switch (key) {
    case "/pods":
      // kubectl's default columns. The node is in describe, in YAML, and selectable with the
      // field selector spec.nodeName=<node>; leaving it out keeps a 500-pod page under 25 KB.
      return [column("READY", podReadyCount), column("STATUS", podStatus), column("RESTARTS", podRestarts)];
    case "apps/deployments":
      return [
        column("READY", (object) => readyOfTotal(object, "status.readyReplicas", "spec.replicas")),
        column("UP-TO-DATE", (object) => replicasOf(object, "status.updatedReplicas")),
        column("AVAILABLE", (object) => replicasOf(object, "status.availableReplicas")),
      ];
    case "apps/statefulsets":
      return [column("READY", (object) => readyOfTotal(object, "status.readyReplicas", "spec.replicas"))];
    case "apps/replicasets":
      return [
        column("DESIRED", (object) => replicasOf(object, "spec.replicas")),
        column("CURRENT", (object) => replicasOf(object, "status.replicas")),
        column("READY", (object) => replicasOf(object, "status.readyReplicas")),
      ];
    case "apps/daemonsets":
      return [
        column("DESIRED", (object) => replicasOf(object, "status.desiredNumberScheduled")),
        column("CURRENT", (object) => replicasOf(object, "status.currentNumberScheduled")),
        column("READY", (object) => replicasOf(object, "status.numberReady")),
        column("UP-TO-DATE", (object) => replicasOf(object, "status.updatedNumberScheduled")),
        column("AVAILABLE", (object) => replicasOf(object, "status.numberAvailable")),
      ];
    case "batch/jobs":
      return [
        column(
          "COMPLETIONS",
          (object) => `${replicasOf(object, "status.succeeded")}/${numberAt(object, "spec.completions") ?? 1}`,
        ),
        column("STATUS", (object) =>
          conditionStatus(object, "Complete") === "True"
            ? "Complete"
            : conditionStatus(object, "Failed") === "True"
              ? "Failed"
              : "Running",
        ),
      ];
    case "batch/cronjobs":
      return [
        column("SCHEDULE", (object) => stringAt(object, "spec.schedule")),
        column("SUSPEND", (object) => valueAt(object, "spec.suspend") === true),
        column("ACTIVE", (object) => asRecords(valueAt(object, "status.active")).length),
        column("LAST SCHEDULE", (object) => {
          const last = stringAt(object, "status.lastScheduleTime");
          return last === undefined ? undefined : formatAge(last, now);
        }),
      ];
    case "/nodes":
      return [
        column("STATUS", nodeStatus),
        column("ROLES", nodeRoles),
        column("VERSION", (node) => stringAt(node, "status.nodeInfo.kubeletVersion")),
      ];
    case "/services":
      return [
        column("TYPE", (service) => stringAt(service, "spec.type") ?? "ClusterIP"),
        column("CLUSTER-IP", (service) => stringAt(service, "spec.clusterIP")),
        column("PORTS", servicePorts),
      ];
    case "/namespaces":
      return [column("STATUS", (object) => stringAt(object, "status.phase"))];
    case "/configmaps":
      return [column("DATA", dataCount)];
    case "/secrets":
      return [column("TYPE", (object) => asString(object.type)), column("DATA", dataCount)];
    case "/persistentvolumeclaims":
      return [
        column("STATUS", (object) => stringAt(object, "status.phase")),
        column("VOLUME", (object) => stringAt(object, "spec.volumeName")),
        column("CAPACITY", (object) => stringAt(object, "status.capacity.storage")),
      ];
    case "/persistentvolumes":
      return [
        column("CAPACITY", (object) => stringAt(object, "spec.capacity.storage")),
        column("STATUS", (object) => stringAt(object, "status.phase")),
        column("CLAIM", (object) => {
          const namespace = stringAt(object, "spec.claimRef.namespace");
          const name = stringAt(object, "spec.claimRef.name");
          return name === undefined ? undefined : `${namespace ?? ""}/${name}`;
        }),
      ];
    case "/events":
    case "events.k8s.io/events":
      return [
        column("LAST SEEN", (event) => formatAge(eventTime(event), now)),
        column("TYPE", (event) => stringAt(event, "type")),
        column("REASON", (event) => stringAt(event, "reason")),
        column("OBJECT", (event) => eventObject(event)),
        column("MESSAGE", (event) => truncateText(stringAt(event, "message") ?? stringAt(event, "note") ?? "", 160)),
      ];
    case "cluster.x-k8s.io/clusters":
      return [
        column("PHASE", (cluster) => stringAt(cluster, "status.phase")),
        column("AVAILABLE", (cluster) => conditionStatus(cluster, "Available") ?? conditionStatus(cluster, "Ready")),
        column("VERSION", (cluster) => stringAt(cluster, "spec.topology.version")),
      ];
    case "cluster.x-k8s.io/machines":
      return [
        column("CLUSTER", (machine) => stringAt(machine, "spec.clusterName")),
        column("NODE", (machine) => stringAt(machine, "status.nodeRef.name")),
        column("PHASE", (machine) => stringAt(machine, "status.phase")),
        column("VERSION", (machine) => stringAt(machine, "spec.version")),
      ];
    default:
      return undefined;
  }
}

/**
 * For kinds without their own columns: the status fields most resources share, shown only when
 * at least one listed object has them, so an unknown CRD still gets a useful one-line summary.
 */
function genericColumns(items: readonly KubeObject[]): Column[] {
  const candidates: Column[] = [
    column("PHASE", (object) => stringAt(object, "status.phase")),
    column("READY", (object) => conditionStatus(object, "Ready")),
    column("AVAILABLE", (object) => conditionStatus(object, "Available")),
    column("REPLICAS", (object) => {
      const desired = numberAt(object, "spec.replicas");
      return desired === undefined ? undefined : `${numberAt(object, "status.readyReplicas") ?? 0}/${desired}`;
    }),
  ];
  return candidates.filter((candidate) => items.some((item) => candidate.value(item) !== undefined));
}

export interface ResourceTableOptions {
  /** Adds a NAMESPACE column (listing across namespaces). */
  readonly showNamespace: boolean;
  readonly now?: Date;
}

/** A compact `kubectl get`-style table for a list of one resource type. */
export function renderResourceTable(
  resource: ApiResource,
  items: readonly KubeObject[],
  options: ResourceTableOptions,
): string {
  const now = options.now ?? new Date();
  const columns: Column[] = [
    ...(options.showNamespace ? [column("NAMESPACE", (object) => object.metadata?.namespace)] : []),
    column("NAME", (object) => object.metadata?.name),
    ...(columnsFor(resource, now) ?? genericColumns(items)),
    column("AGE", (object) => formatAge(object.metadata?.creationTimestamp, now)),
  ];
  return renderTable(
    columns.map((entry) => entry.header),
    items.map((item) => columns.map((entry) => entry.value(item))),
  );
}
