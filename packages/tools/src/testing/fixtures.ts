import type { KubeObject } from "@capi-mcp/core";

const minute = 60_000;
const day = 24 * 60 * minute;

export function ago(milliseconds: number): string {
  return new Date(Date.now() - milliseconds).toISOString();
}

export interface PodFixture {
  readonly name: string;
  readonly namespace?: string;
  readonly node?: string;
  readonly phase?: string;
  readonly ready?: boolean;
  readonly restarts?: number;
  readonly labels?: Record<string, string>;
  readonly containers?: readonly { name: string; image: string; ports?: { name?: string; containerPort: number }[] }[];
  readonly waitingReason?: string;
  readonly ageMilliseconds?: number;
  readonly ownerDeployment?: string;
}

/** A pod shaped like one the API server returns, managedFields and all. */
export function makePod(fixture: PodFixture): KubeObject {
  const containers = fixture.containers ?? [{ name: "app", image: "registry.example.com/team/app:1.4.2" }];
  const ready = fixture.ready ?? true;
  const phase = fixture.phase ?? "Running";
  const started = ago(fixture.ageMilliseconds ?? 3 * day);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: fixture.name,
      namespace: fixture.namespace ?? "default",
      uid: `uid-${fixture.name}`,
      resourceVersion: "4242",
      creationTimestamp: started,
      labels: fixture.labels ?? { app: fixture.name.split("-")[0] ?? fixture.name },
      annotations: { "kubectl.kubernetes.io/restartedAt": started },
      ownerReferences:
        fixture.ownerDeployment === undefined
          ? undefined
          : [
              {
                apiVersion: "apps/v1",
                kind: "ReplicaSet",
                name: `${fixture.ownerDeployment}-7d9f8b6c4d`,
                uid: "uid-rs",
                controller: true,
              },
            ],
      managedFields: [
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "v1",
          time: started,
          fieldsType: "FieldsV1",
          fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app": {} } }, "f:spec": { "f:containers": {} } },
        },
      ],
    },
    spec: {
      nodeName: fixture.node ?? "worker-1",
      containers: containers.map((container) => ({
        name: container.name,
        image: container.image,
        ports: container.ports,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      })),
      restartPolicy: "Always",
      serviceAccountName: "default",
    },
    status: {
      phase,
      podIP: "10.244.1.17",
      hostIP: "192.168.1.11",
      qosClass: "Burstable",
      startTime: started,
      conditions: [
        { type: "Initialized", status: "True", lastTransitionTime: started },
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: started },
        { type: "ContainersReady", status: ready ? "True" : "False", lastTransitionTime: started },
        { type: "PodScheduled", status: "True", lastTransitionTime: started },
      ],
      containerStatuses: containers.map((container) => ({
        name: container.name,
        image: container.image,
        imageID: `${container.image}@sha256:0f3e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f`,
        containerID: "containerd://4f1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
        ready,
        restartCount: fixture.restarts ?? 0,
        started: ready,
        state:
          fixture.waitingReason === undefined
            ? { running: { startedAt: started } }
            : { waiting: { reason: fixture.waitingReason, message: "back-off 5m0s restarting failed container" } },
      })),
    },
  };
}

const teams = ["payments", "checkout", "catalog", "search", "identity"];
const tiers = ["api", "worker", "frontend", "cache"];

/** Pods as a busy namespace has them: generated names, a few nodes, the odd crash loop. */
export function generatePods(count: number, namespace = "shop"): KubeObject[] {
  return Array.from({ length: count }, (_, index) => {
    const team = teams[index % teams.length] ?? "team";
    const tier = tiers[Math.floor(index / teams.length) % tiers.length] ?? "tier";
    const suffix = (index * 2_654_435_761).toString(36).slice(-5).padStart(5, "x");
    const crashing = index % 37 === 0;
    return makePod({
      name: `${team}-${tier}-7d9f8b6c4d-${suffix}`,
      namespace,
      node: `ip-10-0-${index % 8}-${(index * 7) % 250}.eu-west-1.compute.internal`,
      labels: { app: `${team}-${tier}`, team },
      restarts: crashing ? 14 : index % 5,
      ready: !crashing,
      waitingReason: crashing ? "CrashLoopBackOff" : undefined,
      ageMilliseconds: (index % 40) * day + 5 * minute,
      ownerDeployment: `${team}-${tier}`,
    });
  });
}

export function makeDeployment(name: string, namespace = "default", replicas = 3, ready = replicas): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace,
      creationTimestamp: ago(10 * day),
      generation: 4,
      labels: { app: name },
      annotations: {
        "deployment.kubernetes.io/revision": "4",
        "kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"${name}"}}`,
      },
      managedFields: [{ manager: "kubectl", operation: "Apply" }],
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: "RollingUpdate" },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: `registry.example.com/${name}:2.0.0` }] },
      },
    },
    status: {
      replicas,
      readyReplicas: ready,
      updatedReplicas: replicas,
      availableReplicas: ready,
      observedGeneration: 4,
      conditions: [
        { type: "Available", status: ready === replicas ? "True" : "False", reason: "MinimumReplicasAvailable" },
        { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
      ],
    },
  };
}

export function makeService(
  name: string,
  namespace: string,
  options: {
    selector?: Record<string, string>;
    ports?: { name?: string; port: number; targetPort?: number | string }[];
  } = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, creationTimestamp: ago(20 * day) },
    spec: {
      type: "ClusterIP",
      clusterIP: "10.96.14.3",
      selector: options.selector,
      ports: (options.ports ?? [{ name: "http", port: 80, targetPort: 8080 }]).map((port) => ({
        protocol: "TCP",
        ...port,
      })),
    },
  };
}

export function makeEvent(fixture: {
  name: string;
  namespace: string;
  object: { kind: string; name: string; uid?: string; namespace?: string };
  reason: string;
  message: string;
  type?: "Normal" | "Warning";
  agoMilliseconds: number;
  count?: number;
}): KubeObject {
  const time = ago(fixture.agoMilliseconds);
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: fixture.name, namespace: fixture.namespace, creationTimestamp: time },
    involvedObject: {
      kind: fixture.object.kind,
      name: fixture.object.name,
      namespace: fixture.object.namespace ?? fixture.namespace,
      uid: fixture.object.uid,
    },
    reason: fixture.reason,
    message: fixture.message,
    type: fixture.type ?? "Normal",
    count: fixture.count ?? 1,
    firstTimestamp: time,
    lastTimestamp: time,
    source: { component: "kubelet" },
  };
}

export function makeNode(name: string, options: { ready?: boolean; roles?: string[] } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      creationTimestamp: ago(30 * day),
      labels: Object.fromEntries((options.roles ?? []).map((role) => [`node-role.kubernetes.io/${role}`, ""])),
    },
    spec: {},
    status: {
      conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True", reason: "KubeletReady" }],
      nodeInfo: { kubeletVersion: "v1.20.2" },
      addresses: [{ type: "InternalIP", address: "192.168.1.11" }],
      capacity: { cpu: "4", memory: "16Gi" },
      allocatable: { cpu: "3800m", memory: "15Gi" },
    },
  };
}
