import type { KubeObject } from "@capi-mcp/core";
import { asRecord, asRecords, asString, numberAt, valueAt } from "./object-fields.js";

// A Cluster API `Cluster` as the management cluster serves it: v1beta2 (conditions in
// status.conditions, the old ones kept under status.deprecated.v1beta1) or, on older
// installations, v1beta1 (its own conditions in status.conditions, the new ones under
// status.v1beta2). Everything here reads either shape without trusting it.

export type CapiApiVersion = "v1beta1" | "v1beta2";

export interface CapiCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  /** v1beta1 only: Error, Warning or Info. */
  readonly severity: string | undefined;
  readonly lastTransitionTime: string | undefined;
}

export interface CapiConditions {
  readonly v1beta2: readonly CapiCondition[];
  readonly v1beta1: readonly CapiCondition[];
}

/**
 * Which API version the object was served in. The apiVersion decides; without one, an object
 * whose conditions have `Ready` and no `Available` is read as v1beta1.
 */
export function servedCapiVersion(object: KubeObject): CapiApiVersion {
  const apiVersion = object.apiVersion ?? "";
  if (apiVersion.endsWith("/v1beta1")) return "v1beta1";
  if (apiVersion !== "") return "v1beta2";
  const types = new Set(asRecords(valueAt(object, "status.conditions")).map((condition) => condition.type));
  return types.has("Ready") && !types.has("Available") ? "v1beta1" : "v1beta2";
}

function conditionsAt(object: KubeObject, path: string): CapiCondition[] {
  return asRecords(valueAt(object, path)).flatMap((condition) => {
    const type = asString(condition.type);
    if (type === undefined) return [];
    return [
      {
        type,
        status: asString(condition.status) ?? "Unknown",
        reason: asString(condition.reason),
        message: asString(condition.message),
        severity: asString(condition.severity),
        lastTransitionTime: asString(condition.lastTransitionTime),
      },
    ];
  });
}

/** Where the v1beta2-style status (conditions, replica counters) lives in the served object. */
function v1beta2StatusPath(object: KubeObject): string {
  return servedCapiVersion(object) === "v1beta1" ? "status.v1beta2" : "status";
}

/** Where the v1beta1-style status (conditions, failureReason/-Message) lives in the served object. */
function v1beta1StatusPath(object: KubeObject): string {
  return servedCapiVersion(object) === "v1beta1" ? "status" : "status.deprecated.v1beta1";
}

export function capiConditions(object: KubeObject): CapiConditions {
  return {
    v1beta2: conditionsAt(object, `${v1beta2StatusPath(object)}.conditions`),
    v1beta1: conditionsAt(object, `${v1beta1StatusPath(object)}.conditions`),
  };
}

// These v1beta2 conditions say something is under way when True; for all others True is good.
const negativePolarity = new Set(["Deleting", "Paused", "Remediating", "RollingOut", "ScalingDown", "ScalingUp"]);

/** 0 failing, 1 unknown, 2 under way, 3 fine: the order a reader should see them in. */
export function conditionRank(condition: CapiCondition): number {
  if (negativePolarity.has(condition.type))
    return condition.status === "False" ? 3 : condition.status === "True" ? 2 : 1;
  if (condition.status === "True") return 3;
  return condition.status === "False" ? 0 : 1;
}

/** Failing (a good condition that is not True), unknown or under way. */
export function needsAttention(condition: CapiCondition): boolean {
  return conditionRank(condition) < 3;
}

/** Failing and unknown conditions first, then those under way, then the rest, each in served order. */
export function sortConditionsForReading(conditions: readonly CapiCondition[]): CapiCondition[] {
  return conditions
    .map((condition, index) => ({ condition, index }))
    .sort((left, right) => conditionRank(left.condition) - conditionRank(right.condition) || left.index - right.index)
    .map(({ condition }) => condition);
}

export interface Availability {
  /** The condition it was read from: v1beta2 `Available`, else v1beta1 `Ready`. */
  readonly source: "Available" | "Ready" | undefined;
  readonly status: string | undefined;
}

/** Whether the cluster is available: v1beta2 `Available` when the object has it, else v1beta1 `Ready`. */
export function clusterAvailability(object: KubeObject): Availability {
  const { v1beta2, v1beta1 } = capiConditions(object);
  const available = v1beta2.find((condition) => condition.type === "Available");
  if (available !== undefined) return { source: "Available", status: available.status };
  const ready = v1beta1.find((condition) => condition.type === "Ready");
  if (ready !== undefined) return { source: "Ready", status: ready.status };
  return { source: undefined, status: undefined };
}

export interface ReplicaCounts {
  readonly desired: number | undefined;
  readonly current: number | undefined;
  readonly ready: number | undefined;
  readonly available: number | undefined;
  readonly upToDate: number | undefined;
}

/** `status.controlPlane` or `status.workers` (v1beta2 counters); undefined when the object has none. */
export function replicaCounts(object: KubeObject, part: "controlPlane" | "workers"): ReplicaCounts | undefined {
  const path = `${v1beta2StatusPath(object)}.${part}`;
  if (asRecord(valueAt(object, path)) === undefined) return undefined;
  return {
    desired: numberAt(object, `${path}.desiredReplicas`),
    current: numberAt(object, `${path}.replicas`),
    ready: numberAt(object, `${path}.readyReplicas`),
    available: numberAt(object, `${path}.availableReplicas`),
    upToDate: numberAt(object, `${path}.upToDateReplicas`),
  };
}

function booleanText(value: unknown): string | undefined {
  return typeof value === "boolean" ? (value ? "True" : "False") : undefined;
}

/**
 * One table cell for the control plane or the workers: `available/desired` when the object
 * counts replicas, else the status of the condition that speaks for them.
 */
export function partCell(object: KubeObject, part: "controlPlane" | "workers"): string | undefined {
  const counts = replicaCounts(object, part);
  const desired = counts?.desired ?? counts?.current;
  if (counts !== undefined && desired !== undefined) {
    return `${counts.available ?? counts.ready ?? 0}/${desired}`;
  }
  const { v1beta2, v1beta1 } = capiConditions(object);
  const v1beta2Type = part === "controlPlane" ? "ControlPlaneAvailable" : "WorkersAvailable";
  const fromV1beta2 = v1beta2.find((condition) => condition.type === v1beta2Type)?.status;
  if (fromV1beta2 !== undefined) return fromV1beta2;
  if (part === "workers") return undefined;
  return (
    v1beta1.find((condition) => condition.type === "ControlPlaneReady")?.status ??
    booleanText(valueAt(object, "status.controlPlaneReady"))
  );
}

export interface Initialization {
  readonly infrastructureProvisioned: boolean | undefined;
  readonly controlPlaneInitialized: boolean | undefined;
}

/** v1beta2 `status.initialization`, or v1beta1's `status.infrastructureReady`/`controlPlaneReady`. */
export function initialization(object: KubeObject): Initialization {
  const flag = (path: string): boolean | undefined => {
    const value = valueAt(object, path);
    return typeof value === "boolean" ? value : undefined;
  };
  if (servedCapiVersion(object) === "v1beta1") {
    return {
      infrastructureProvisioned: flag("status.infrastructureReady"),
      controlPlaneInitialized: flag("status.controlPlaneReady"),
    };
  }
  return {
    infrastructureProvisioned: flag("status.initialization.infrastructureProvisioned"),
    controlPlaneInitialized: flag("status.initialization.controlPlaneInitialized"),
  };
}

/** The v1beta1 terminal failure, kept under status.deprecated.v1beta1 in v1beta2. */
export function failure(object: KubeObject): { reason: string | undefined; message: string | undefined } {
  const path = v1beta1StatusPath(object);
  return {
    reason: asString(valueAt(object, `${path}.failureReason`)),
    message: asString(valueAt(object, `${path}.failureMessage`)),
  };
}

/** The Kubernetes version a managed topology asks for (`spec.topology.version`). */
export function topologyVersion(object: KubeObject): string | undefined {
  return asString(valueAt(object, "spec.topology.version"));
}

export function clusterPhase(object: KubeObject): string | undefined {
  return asString(valueAt(object, "status.phase"));
}

/**
 * The secret Cluster API writes the cluster's admin kubeconfig to. Only ever named: the gateway
 * reads it for impersonation, a tool never shows it.
 */
export function kubeconfigSecretName(clusterName: string): string {
  return `${clusterName}-kubeconfig`;
}
