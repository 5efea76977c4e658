import { type ClusterHealth, defineTool, type KubeObject, type ToolContext } from "@capi-mcp/core";
import { z } from "zod";
import { formatAge } from "../shaping/age.js";
import {
  type CapiCondition,
  capiConditions,
  clusterAvailability,
  clusterPhase,
  failure,
  initialization,
  needsAttention,
  type ReplicaCounts,
  replicaCounts,
  servedCapiVersion,
  sortConditionsForReading,
} from "../shaping/capi-cluster.js";
import { renderTable, truncateText } from "../shaping/table.js";
import { withinBudget } from "../support/answer.js";
import { resolveCapiCluster } from "../support/cluster-names.js";
import { type FanOutOutcome, fanOut } from "../support/fan-out.js";
import { capiClusterField } from "../support/input-fields.js";

// Controllers write long, multi-line messages (one line per machine); a table cell keeps the gist.
const conditionMessageLength = 300;

function conditionTable(conditions: readonly CapiCondition[], withSeverity: boolean, now: Date): string {
  return renderTable(
    ["TYPE", "STATUS", ...(withSeverity ? ["SEVERITY"] : []), "REASON", "AGE", "MESSAGE"],
    sortConditionsForReading(conditions).map((condition) => [
      condition.type,
      condition.status,
      ...(withSeverity ? [condition.severity ?? null] : []),
      condition.reason,
      formatAge(condition.lastTransitionTime, now),
      condition.message === undefined ? null : truncateText(condition.message, conditionMessageLength),
    ]),
  );
}

function replicaText(counts: ReplicaCounts): string {
  const parts = [
    counts.desired === undefined ? undefined : `${counts.desired} desired`,
    counts.current === undefined ? undefined : `${counts.current} current`,
    counts.ready === undefined ? undefined : `${counts.ready} ready`,
    counts.available === undefined ? undefined : `${counts.available} available`,
    counts.upToDate === undefined ? undefined : `${counts.upToDate} up to date`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? "no counts reported" : parts.join(", ");
}

function flagText(value: boolean | undefined, yes: string, no: string): string {
  return value === undefined ? "not reported" : value ? yes : `NOT ${no}`;
}

function readinessLines(object: KubeObject): string[] {
  const { infrastructureProvisioned, controlPlaneInitialized } = initialization(object);
  const v1beta1 = servedCapiVersion(object) === "v1beta1";
  const lines = [
    `Infrastructure: ${flagText(infrastructureProvisioned, v1beta1 ? "ready" : "provisioned", v1beta1 ? "ready" : "provisioned")}. Control plane: ${flagText(controlPlaneInitialized, v1beta1 ? "ready" : "initialized", v1beta1 ? "ready" : "initialized")}.`,
  ];
  const controlPlane = replicaCounts(object, "controlPlane");
  if (controlPlane !== undefined) lines.push(`Control plane machines: ${replicaText(controlPlane)}.`);
  const workers = replicaCounts(object, "workers");
  if (workers !== undefined) lines.push(`Worker machines: ${replicaText(workers)}.`);
  const { reason, message } = failure(object);
  if (reason !== undefined || message !== undefined) {
    lines.push(
      `Failure: ${[reason, message === undefined ? undefined : truncateText(message, 500)].filter(Boolean).join(": ")}.`,
    );
  }
  const paused = (object.spec as Record<string, unknown> | undefined)?.paused;
  if (paused === true) lines.push("Paused: spec.paused is true, so Cluster API controllers do not reconcile it.");
  return lines;
}

function attentionLine(conditions: { v1beta2: readonly CapiCondition[]; v1beta1: readonly CapiCondition[] }): string {
  const name = (condition: CapiCondition): string => `${condition.type} ${condition.status}`;
  const v1beta2 = sortConditionsForReading(conditions.v1beta2).filter(needsAttention).map(name);
  const v1beta1 = sortConditionsForReading(conditions.v1beta1).filter(needsAttention).map(name);
  if (v1beta2.length === 0 && v1beta1.length === 0) {
    return conditions.v1beta2.length + conditions.v1beta1.length === 0
      ? "No conditions reported yet."
      : "No condition needs attention.";
  }
  const parts = [
    v1beta2.length === 0 ? undefined : `${v1beta2.join(", ")} (v1beta2)`,
    v1beta1.length === 0 ? undefined : `${v1beta1.join(", ")} (v1beta1)`,
  ].filter((part) => part !== undefined);
  return `Needs attention: ${parts.join("; ")}.`;
}

function probeLine(outcome: FanOutOutcome<ClusterHealth> | undefined): string {
  if (outcome === undefined) return "";
  if (!outcome.ok) return `Workload cluster probe failed: ${outcome.message}`;
  const health = outcome.value;
  if (!health.reachable) {
    return `Workload cluster probe: UNREACHABLE${health.error === undefined ? "" : ` (${health.error})`}.`;
  }
  const failing = health.checks.filter((check) => !check.ok).map((check) => check.name);
  const parts = [
    `reachable${health.version === undefined ? "" : `, Kubernetes ${health.version}`}`,
    health.checks.length === 0
      ? undefined
      : failing.length === 0
        ? `readiness checks: all ${health.checks.length} pass`
        : `readiness checks failing: ${failing.join(", ")}`,
    health.nodes === undefined ? undefined : `nodes: ${health.nodes.ready} of ${health.nodes.total} ready`,
  ].filter((part) => part !== undefined);
  return `Workload cluster probe: ${parts.join("; ")}.`;
}

/** The workload cluster's own API server, asked as the caller; a dead one is reported, not thrown. */
async function probe(cluster: string, context: ToolContext): Promise<FanOutOutcome<ClusterHealth>> {
  const [outcome] = await fanOut([cluster], async (name) => (await context.clusters.access(name)).health(), {
    concurrency: 1,
    timeoutMilliseconds: context.settings.fanoutTimeoutMilliseconds,
    signal: context.signal,
  });
  return outcome ?? { cluster, ok: false, code: "internal", message: "Internal error: the probe did not run." };
}

export const capiClusterHealthTool = defineTool({
  name: "capi_cluster_health",
  title: "Check a Cluster API cluster's health",
  description:
    "Summarises a Cluster API cluster: phase, availability, failing conditions first (v1beta2 and v1beta1) with reason and message, control plane, infrastructure and worker readiness. probe: also ask its API server.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: capiClusterField,
    probe: z
      .boolean()
      .default(false)
      .describe("Also check the workload cluster's API server (reachability, readiness, nodes), within a time limit."),
  }),
  async handler(input, context) {
    const summary = await resolveCapiCluster(input.cluster, context);
    const object = summary.clusterObject;
    const conditions = capiConditions(object);
    const availability = clusterAvailability(object);
    const served = servedCapiVersion(object);
    const phase = clusterPhase(object) ?? summary.phase;
    const now = new Date();

    const lines = [
      `Cluster ${summary.name} (${object.apiVersion ?? `cluster.x-k8s.io/${served}`}): phase ${phase ?? "not reported"}, ${availability.source ?? "Available"} ${availability.status ?? "not reported"}.`,
      attentionLine(conditions),
      ...readinessLines(object),
    ];
    if (conditions.v1beta2.length > 0) {
      lines.push("", "Conditions (v1beta2):", conditionTable(conditions.v1beta2, false, now));
    }
    if (served === "v1beta1" && conditions.v1beta1.length > 0) {
      lines.push("", "Conditions (v1beta1):", conditionTable(conditions.v1beta1, true, now));
    } else if (conditions.v1beta1.length > 0) {
      // The deprecated copy mostly repeats the v1beta2 picture: a table only when it disagrees.
      lines.push(
        "",
        conditions.v1beta1.some(needsAttention)
          ? `Conditions (v1beta1, deprecated):\n${conditionTable(conditions.v1beta1, true, now)}`
          : `Conditions (v1beta1, deprecated): all ${conditions.v1beta1.length} True (${conditions.v1beta1.map((condition) => condition.type).join(", ")}).`,
      );
    }
    const probed = input.probe ? await probe(summary.name, context) : undefined;
    const text = withinBudget(context, lines.join("\n"), {
      footer: probeLine(probed),
      narrowHint: "capi_get_cluster shows the whole object.",
    });
    const attention = (version: string, list: readonly CapiCondition[]) =>
      list.filter(needsAttention).map((condition) => ({
        version,
        type: condition.type,
        status: condition.status,
        reason: condition.reason ?? null,
      }));
    return {
      text,
      structured: {
        cluster: summary.name,
        servedVersion: served,
        phase: phase ?? null,
        available: availability.status ?? null,
        attention: [...attention("v1beta2", conditions.v1beta2), ...attention("v1beta1", conditions.v1beta1)],
        probe:
          probed === undefined
            ? null
            : probed.ok
              ? { reachable: probed.value.reachable, version: probed.value.version ?? null }
              : { reachable: false, error: probed.message },
      },
      target: {
        cluster: summary.name,
        namespace: object.metadata?.namespace,
        kind: "Cluster",
        name: object.metadata?.name,
      },
    };
  },
});
