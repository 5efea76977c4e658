import type { KubeObject } from "@capi-mcp/core";
import { asNumber, asRecord, asRecords, asString, conditionStatus, valueAt } from "./object-fields.js";

function containerStateReason(status: Record<string, unknown>): string | undefined {
  const state = asRecord(status.state);
  const waiting = asRecord(state?.waiting);
  if (waiting !== undefined) return asString(waiting.reason) ?? "Waiting";
  const terminated = asRecord(state?.terminated);
  if (terminated !== undefined) {
    const reason = asString(terminated.reason);
    if (reason !== undefined) return reason;
    const signal = asNumber(terminated.signal);
    if (signal !== undefined && signal !== 0) return `Signal:${signal}`;
    return `ExitCode:${asNumber(terminated.exitCode) ?? "?"}`;
  }
  return undefined;
}

/** The STATUS column of `kubectl get pods`: the most telling reason, not just the phase. */
export function podStatus(pod: KubeObject): string {
  if (pod.metadata?.deletionTimestamp !== undefined) return "Terminating";
  let status = asString(valueAt(pod, "status.reason")) ?? asString(valueAt(pod, "status.phase")) ?? "Unknown";

  const initStatuses = asRecords(valueAt(pod, "status.initContainerStatuses"));
  const initCount = asRecords(valueAt(pod, "spec.initContainers")).length;
  for (const [index, initStatus] of initStatuses.entries()) {
    const terminated = asRecord(asRecord(initStatus.state)?.terminated);
    if (terminated !== undefined && asNumber(terminated.exitCode) === 0) continue;
    const reason = containerStateReason(initStatus);
    if (reason === undefined || reason === "PodInitializing") {
      return `Init:${index}/${initCount || initStatuses.length}`;
    }
    return `Init:${reason}`;
  }

  let running = false;
  for (const containerStatus of asRecords(valueAt(pod, "status.containerStatuses"))) {
    const reason = containerStateReason(containerStatus);
    if (reason !== undefined && reason !== "Completed") status = reason;
    else if (reason === "Completed" && !running) status = "Completed";
    if (asRecord(asRecord(containerStatus.state)?.running) !== undefined) running = true;
  }
  if (running && status === "Completed") status = "Running";
  return status;
}

/** `ready/total` containers, as in the READY column. */
export function podReadyCount(pod: KubeObject): string {
  const total = asRecords(valueAt(pod, "spec.containers")).length;
  const ready = asRecords(valueAt(pod, "status.containerStatuses")).filter((status) => status.ready === true).length;
  return `${ready}/${total}`;
}

export function podRestarts(pod: KubeObject): number {
  return asRecords(valueAt(pod, "status.containerStatuses")).reduce(
    (sum, status) => sum + (asNumber(status.restartCount) ?? 0),
    0,
  );
}

/** Running, Ready and not being deleted: a pod that can take a port-forward. */
export function isPodServing(pod: KubeObject): boolean {
  return (
    pod.metadata?.deletionTimestamp === undefined &&
    asString(valueAt(pod, "status.phase")) === "Running" &&
    conditionStatus(pod, "Ready") === "True"
  );
}
