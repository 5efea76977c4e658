import { type ClusterCondition, type ClusterSummary, GatewayError, type KubeObject } from "@capi-mcp/core";
import { ago, makeEvent, makePod } from "./fixtures.js";
import { type ConcurrencyGauge, InMemoryCluster, type InMemoryClusterOptions } from "./in-memory-cluster.js";
import { InMemoryCatalog } from "./test-context.js";

const day = 24 * 60 * 60_000;

export interface CapiClusterFixture {
  readonly namespace: string;
  readonly name: string;
  /** The version the management cluster serves it in: shapes status differently. */
  readonly apiVersion?: "v1beta1" | "v1beta2";
  readonly labels?: Record<string, string>;
  readonly phase?: string;
  readonly available?: boolean;
  readonly version?: string;
  readonly controlPlane?: { desired: number; available: number };
  readonly workers?: { desired: number; available: number };
  /** Replaces the conditions the fixture would make from `available`. */
  readonly conditions?: Record<string, unknown>[];
  /** v1beta1 conditions (served ones for v1beta1, deprecated ones for v1beta2). */
  readonly v1beta1Conditions?: Record<string, unknown>[];
  readonly ageMilliseconds?: number;
}

function condition(type: string, ok: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type,
    status: ok ? "True" : "False",
    reason: ok ? type : `Not${type}`,
    lastTransitionTime: ago(2 * day),
    ...extra,
  };
}

/** A Cluster API `Cluster` as the management cluster serves it, in v1beta2 or v1beta1 shape. */
export function makeCapiCluster(fixture: CapiClusterFixture): KubeObject {
  const available = fixture.available ?? true;
  const controlPlane = fixture.controlPlane ?? { desired: 3, available: available ? 3 : 1 };
  const workers = fixture.workers ?? { desired: 2, available: 2 };
  const metadata = {
    name: fixture.name,
    namespace: fixture.namespace,
    uid: `uid-${fixture.namespace}-${fixture.name}`,
    creationTimestamp: ago(fixture.ageMilliseconds ?? 40 * day),
    labels: fixture.labels ?? {},
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"kind":"Cluster"}' },
    managedFields: [{ manager: "capi-controller-manager", operation: "Update" }],
  };
  const spec = {
    controlPlaneEndpoint: { host: `${fixture.name}.${fixture.namespace}.example.com`, port: 6443 },
    topology: { classRef: { name: "standard" }, version: fixture.version ?? "v1.33.1" },
  };
  const v1beta1Conditions = fixture.v1beta1Conditions ?? [
    condition("Ready", available, available ? {} : { severity: "Warning" }),
    condition("ControlPlaneReady", available, available ? {} : { severity: "Warning" }),
    condition("InfrastructureReady", true),
  ];
  const v1beta2Conditions = fixture.conditions ?? [
    condition("Available", available),
    condition("InfrastructureReady", true),
    condition(
      "ControlPlaneAvailable",
      available,
      available ? {} : { message: "1 of 3 control plane machines available" },
    ),
    condition("WorkersAvailable", true),
    condition("RemoteConnectionProbe", true),
    condition("RollingOut", false),
  ];
  const counters = (part: { desired: number; available: number }) => ({
    desiredReplicas: part.desired,
    replicas: part.desired,
    readyReplicas: part.available,
    availableReplicas: part.available,
    upToDateReplicas: part.desired,
  });
  if (fixture.apiVersion === "v1beta1") {
    return {
      apiVersion: "cluster.x-k8s.io/v1beta1",
      kind: "Cluster",
      metadata,
      spec,
      status: {
        phase: fixture.phase ?? "Provisioned",
        infrastructureReady: true,
        controlPlaneReady: available,
        conditions: v1beta1Conditions,
      },
    };
  }
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Cluster",
    metadata,
    spec,
    status: {
      phase: fixture.phase ?? "Provisioned",
      initialization: { infrastructureProvisioned: true, controlPlaneInitialized: true },
      controlPlane: counters(controlPlane),
      workers: counters(workers),
      conditions: v1beta2Conditions,
      deprecated: { v1beta1: { conditions: v1beta1Conditions } },
    },
  };
}

/** What the federation catalog says about a Cluster: its name, labels, phase, conditions and object. */
export function capiSummary(object: KubeObject): ClusterSummary {
  const namespace = object.metadata?.namespace ?? "";
  const name = object.metadata?.name ?? "";
  const status = (object.status ?? {}) as { phase?: string; conditions?: ClusterCondition[] };
  return {
    name: `${namespace}/${name}`,
    server: `https://${name}.${namespace}.example.com:6443`,
    labels: object.metadata?.labels ?? {},
    ...(status.phase === undefined ? {} : { phase: status.phase }),
    conditions: status.conditions ?? [],
    clusterObject: object,
  };
}

export interface FleetMember {
  readonly cluster: CapiClusterFixture;
  readonly access?: Partial<InMemoryClusterOptions>;
}

/** A catalog of Cluster API clusters (plus `management`), each an in-memory cluster of its own. */
export function fleetCatalog(members: readonly FleetMember[], options: { gauge?: ConcurrencyGauge } = {}) {
  const objects = members.map((member) => makeCapiCluster(member.cluster));
  const clusters = members.map(
    (member) =>
      new InMemoryCluster({
        name: `${member.cluster.namespace}/${member.cluster.name}`,
        objects: [
          makePod({ name: `${member.cluster.name}-web-1`, namespace: "shop" }),
          makeEvent({
            name: `${member.cluster.name}-backoff`,
            namespace: "shop",
            object: { kind: "Pod", name: `${member.cluster.name}-web-1` },
            reason: "BackOff",
            message: `Back-off restarting failed container on ${member.cluster.namespace}/${member.cluster.name}`,
            type: "Warning",
            agoMilliseconds: 60_000,
          }),
        ],
        ...(options.gauge === undefined ? {} : { gauge: options.gauge }),
        ...member.access,
      }),
  );
  const management = new InMemoryCluster({ name: "management" });
  const catalog = new InMemoryCatalog([management, ...clusters], {
    defaultCluster: "management",
    summaries: [{ name: "management", server: "https://management.example.com:6443" }, ...objects.map(capiSummary)],
  });
  return { catalog, clusters: new Map(clusters.map((cluster) => [cluster.cluster, cluster])) };
}

/**
 * Two organisations, each with a `prod` (so a bare "prod" is ambiguous): acme's clusters in
 * v1beta2, globex's prod served as v1beta1 and failing; a slow cluster that never answers and
 * one where the caller may not list anything.
 */
export function sampleFleet(options: { gauge?: ConcurrencyGauge } = {}) {
  return fleetCatalog(
    [
      { cluster: { namespace: "org-acme", name: "dev", labels: { env: "dev", org: "acme", region: "eu" } } },
      {
        cluster: {
          namespace: "org-acme",
          name: "prod",
          labels: { env: "prod", org: "acme", region: "eu" },
          version: "v1.32.4",
        },
      },
      {
        cluster: {
          namespace: "org-globex",
          name: "prod",
          apiVersion: "v1beta1",
          labels: { env: "prod", org: "globex", region: "us" },
          available: false,
          phase: "Provisioning",
        },
      },
      {
        cluster: { namespace: "org-globex", name: "slow", labels: { env: "staging", org: "globex" } },
        access: { latencyMilliseconds: "never" },
      },
      {
        cluster: { namespace: "org-initech", name: "locked", labels: { env: "prod", org: "initech" } },
        access: {
          failure: new GatewayError("forbidden", "Forbidden: you may not list pods on cluster org-initech/locked."),
        },
      },
    ],
    options,
  );
}
