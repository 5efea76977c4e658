// The objects the fleet creates. Each is applied with server-side apply, so `up` is idempotent.
import { randomBytes } from "node:crypto";
import {
  gatewayServiceAccount,
  managementAccess,
  nodeName,
  type WorkloadClusterSpec,
  workloadClusterSpecs,
} from "./topology.ts";

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
};

export interface PlacedObject {
  /** API path of the collection for server-side apply (`<collection>/<name>`). */
  readonly path: string;
  readonly object: KubeObject;
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

export function generatedSecretValue(): string {
  return randomBytes(18).toString("base64url");
}

const coreKinds: Record<string, string> = {
  Namespace: "namespaces",
  ConfigMap: "configmaps",
  Secret: "secrets",
  Service: "services",
  Pod: "pods",
  Node: "nodes",
  ServiceAccount: "serviceaccounts",
  Event: "events",
};
const groupKinds: Record<string, string> = {
  Deployment: "deployments",
  ReplicaSet: "replicasets",
  Role: "roles",
  RoleBinding: "rolebindings",
  ClusterRole: "clusterroles",
  ClusterRoleBinding: "clusterrolebindings",
  CustomResourceDefinition: "customresourcedefinitions",
  Cluster: "clusters",
};

/** The URL path of one object, for server-side apply. */
export function objectPath(object: KubeObject): string {
  const plural = coreKinds[object.kind] ?? groupKinds[object.kind];
  if (!plural) throw new Error(`no REST path known for kind ${object.kind}`);
  const prefix = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const namespace = object.metadata.namespace ? `/namespaces/${object.metadata.namespace}` : "";
  return `${prefix}${namespace}/${plural}/${object.metadata.name}`;
}

function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

function roleBinding(
  name: string,
  namespaceName: string,
  roleKind: "Role" | "ClusterRole",
  roleName: string,
  subject: Record<string, string>,
): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace: namespaceName },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: roleName },
    subjects: [subject],
  };
}

function groupSubject(group: string): Record<string, string> {
  return { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: group };
}

// ---------------------------------------------------------------------------------------------
// Management cluster

export const clusterCrd: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: {
    name: "clusters.cluster.x-k8s.io",
    labels: { "cluster.x-k8s.io/provider": "cluster-api" },
  },
  spec: {
    group: "cluster.x-k8s.io",
    scope: "Namespaced",
    names: {
      kind: "Cluster",
      listKind: "ClusterList",
      plural: "clusters",
      singular: "cluster",
      shortNames: ["cl"],
      categories: ["cluster-api"],
    },
    versions: ["v1beta1", "v1beta2"].map((version) => ({
      name: version,
      served: true,
      storage: version === "v1beta2",
      ...(version === "v1beta1"
        ? { deprecated: true, deprecationWarning: "cluster.x-k8s.io/v1beta1 Cluster is deprecated; use v1beta2" }
        : {}),
      subresources: { status: {} },
      additionalPrinterColumns: [
        { name: "Phase", type: "string", jsonPath: ".status.phase" },
        { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
      ],
      // A permissive schema: the fleet needs the API shape, not CAPI's validation.
      schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
    })),
  },
};

export function clusterObject(spec: WorkloadClusterSpec, port: number): KubeObject {
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Cluster",
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { ...spec.labels, "cluster.x-k8s.io/cluster-name": spec.name },
    },
    spec: {
      clusterNetwork: {
        pods: { cidrBlocks: ["10.244.0.0/16"] },
        services: { cidrBlocks: ["10.96.0.0/16"] },
      },
      controlPlaneEndpoint: { host: "127.0.0.1", port },
      controlPlaneRef: {
        apiGroup: "controlplane.cluster.x-k8s.io",
        kind: "KubeadmControlPlane",
        name: `${spec.name}-control-plane`,
      },
      infrastructureRef: { apiGroup: "infrastructure.cluster.x-k8s.io", kind: "DockerCluster", name: spec.name },
    },
  };
}

export function clusterStatus(spec: WorkloadClusterSpec, now: Date): Record<string, unknown> {
  const time = now.toISOString().replace(/\.\d+Z$/, "Z");
  const condition = (type: string, status: boolean, reason: string, message = "") => ({
    type,
    status: status ? "True" : "False",
    reason,
    message,
    lastTransitionTime: time,
    observedGeneration: 1,
  });
  const workers = spec.workersAvailable
    ? condition("WorkersAvailable", true, "Available")
    : condition(
        "WorkersAvailable",
        false,
        "NotAvailable",
        "0 of 1 worker machines are available (MachineDeployment md-0 is scaling up)",
      );
  return {
    phase: "Provisioned",
    observedGeneration: 1,
    initialization: { infrastructureProvisioned: true, controlPlaneInitialized: true },
    controlPlane: { desiredReplicas: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1, upToDateReplicas: 1 },
    workers: {
      desiredReplicas: 1,
      replicas: 1,
      readyReplicas: spec.workersAvailable ? 1 : 0,
      availableReplicas: spec.workersAvailable ? 1 : 0,
      upToDateReplicas: 1,
    },
    conditions: [
      condition("Available", true, "Available"),
      condition("InfrastructureReady", true, "Ready"),
      condition("ControlPlaneInitialized", true, "Initialized"),
      condition("ControlPlaneAvailable", true, "Available"),
      workers,
      condition("RemoteConnectionProbe", true, "ProbeSucceeded"),
    ],
    // What a v1beta1 reader finds: CAPI keeps the old conditions under `deprecated.v1beta1`.
    deprecated: {
      v1beta1: {
        conditions: [
          { type: "Ready", status: "True", lastTransitionTime: time },
          { type: "ControlPlaneReady", status: "True", lastTransitionTime: time },
          { type: "InfrastructureReady", status: "True", lastTransitionTime: time },
        ],
      },
    },
  };
}

export function kubeconfigSecret(spec: WorkloadClusterSpec, kubeconfigYaml: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "cluster.x-k8s.io/secret",
    metadata: {
      name: `${spec.name}-kubeconfig`,
      namespace: spec.namespace,
      labels: { "cluster.x-k8s.io/cluster-name": spec.name },
    },
    data: { value: base64(kubeconfigYaml) },
  };
}

export function caSecret(spec: WorkloadClusterSpec, caCertPem: string, caKeyPem: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "cluster.x-k8s.io/secret",
    metadata: {
      name: `${spec.name}-ca`,
      namespace: spec.namespace,
      labels: { "cluster.x-k8s.io/cluster-name": spec.name },
    },
    data: { "tls.crt": base64(caCertPem), "tls.key": base64(caKeyPem) },
  };
}

/**
 * The public half of a workload cluster's CA, `<name>-ca-public` (key `ca.crt`): what an SSO
 * passthrough gateway reads, so it never needs the `<name>-ca` Secret with the CA's private key.
 * Cluster API does not make it; platforms copy `tls.crt` of `<name>-ca` into it.
 */
export function caPublicConfigMap(spec: WorkloadClusterSpec, caCertPem: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: `${spec.name}-ca-public`,
      namespace: spec.namespace,
      labels: { "cluster.x-k8s.io/cluster-name": spec.name },
    },
    data: { "ca.crt": caCertPem },
  };
}

/** Least privilege for the gateway's service account on the management cluster. */
export function gatewayRbac(): KubeObject[] {
  const serviceAccount = {
    kind: "ServiceAccount",
    name: gatewayServiceAccount.name,
    namespace: gatewayServiceAccount.namespace,
  };
  const clusterNamespaces = [...new Set(workloadClusterSpecs.map((spec) => spec.namespace))];
  return [
    namespace(gatewayServiceAccount.namespace),
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: gatewayServiceAccount.name, namespace: gatewayServiceAccount.namespace },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "capi-mcp-gateway" },
      rules: [
        { apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "capi-mcp-gateway" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "capi-mcp-gateway" },
      subjects: [serviceAccount],
    },
    // Secrets only where Cluster objects live, never cluster-wide.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "capi-mcp-gateway-cluster-secrets" },
      // Impersonation reads the kubeconfig secrets, SSO passthrough the CA config maps; both
      // watch them (metadata only) to follow rotations.
      rules: [{ apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get", "list", "watch"] }],
    },
    ...clusterNamespaces.map((clusterNamespace) =>
      roleBinding(
        "capi-mcp-gateway-cluster-secrets",
        clusterNamespace,
        "ClusterRole",
        "capi-mcp-gateway-cluster-secrets",
        serviceAccount,
      ),
    ),
  ];
}

/** Which users may see which Cluster objects (and, for impersonation, their kubeconfig secrets). */
export function managementUserRbac(): KubeObject[] {
  return managementAccess.flatMap((access) => {
    const clusterNames =
      access.clusters === "all"
        ? workloadClusterSpecs.filter((spec) => spec.namespace === access.namespace).map((spec) => spec.name)
        : access.clusters;
    const roleName = `cluster-access-${access.group}`;
    const rules: Record<string, unknown>[] = [
      { apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["get"], resourceNames: [...clusterNames] },
      {
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get"],
        resourceNames: clusterNames.map((name) => `${name}-kubeconfig`),
      },
    ];
    if (access.clusters === "all") {
      rules.push({ apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["list", "watch"] });
    }
    return [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: roleName, namespace: access.namespace },
        rules,
      },
      roleBinding(roleName, access.namespace, "Role", roleName, groupSubject(access.group)),
    ];
  });
}

export function managementNamespaces(): KubeObject[] {
  return [...new Set(workloadClusterSpecs.map((spec) => spec.namespace))].map((name) =>
    namespace(name, { "capi-mcp.io/organization": name.replace(/^org-/, "") }),
  );
}

// ---------------------------------------------------------------------------------------------
// Workload clusters

export interface SamplePod {
  readonly namespace: string;
  readonly name: string;
  readonly owner: string;
  readonly labels: Record<string, string>;
  readonly containers: readonly { name: string; image: string; port?: number }[];
  readonly restarts: number;
}

export const samplePods: readonly SamplePod[] = [
  {
    namespace: "web",
    name: "frontend-5d8f7c9b6-k2x4p",
    owner: "frontend-5d8f7c9b6",
    labels: { app: "frontend", "pod-template-hash": "5d8f7c9b6" },
    containers: [{ name: "nginx", image: "nginx:1.25", port: 8080 }],
    restarts: 0,
  },
  {
    namespace: "web",
    name: "frontend-5d8f7c9b6-q7m9z",
    owner: "frontend-5d8f7c9b6",
    labels: { app: "frontend", "pod-template-hash": "5d8f7c9b6" },
    containers: [{ name: "nginx", image: "nginx:1.25", port: 8080 }],
    restarts: 1,
  },
  {
    namespace: "payments",
    name: "ledger-7f6b5c4d3-w8n2r",
    owner: "ledger-7f6b5c4d3",
    labels: { app: "ledger", "pod-template-hash": "7f6b5c4d3" },
    containers: [
      { name: "ledger", image: "ghcr.io/example/ledger:2.4.1", port: 9090 },
      { name: "log-shipper", image: "fluent/fluent-bit:3.0" },
    ],
    restarts: 0,
  },
];

function deployment(
  namespaceName: string,
  name: string,
  replicas: number,
  container: { name: string; image: string; port?: number }[],
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: namespaceName, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: container.map((item) => ({
            name: item.name,
            image: item.image,
            ...(item.port ? { ports: [{ containerPort: item.port, name: "http", protocol: "TCP" }] } : {}),
          })),
        },
      },
    },
  };
}

export interface WorkloadObjects {
  readonly objects: KubeObject[];
  /** Status to set through the status subresource once the object exists (path → status). */
  readonly statuses: { path: string; status: Record<string, unknown> }[];
}

export function workloadObjects(spec: WorkloadClusterSpec, kubeletPort: number, now: Date): WorkloadObjects {
  const clusterId = `${spec.namespace}/${spec.name}`;
  const time = now.toISOString().replace(/\.\d+Z$/, "Z");
  const objects: KubeObject[] = [
    namespace("web", { team: "web" }),
    namespace("payments", { team: "payments" }),
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: nodeName,
        labels: {
          "kubernetes.io/hostname": nodeName,
          "kubernetes.io/os": "linux",
          "node-role.kubernetes.io/worker": "",
        },
      },
      spec: { podCIDR: "10.244.1.0/24" },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cluster-identity", namespace: "default" },
      data: { cluster: clusterId, environment: spec.labels.environment ?? "" },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "frontend-config", namespace: "web" },
      data: { "nginx.conf": "server { listen 8080; location / { return 200 'ok'; } }\n", LOG_LEVEL: "info" },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: "frontend-api-key", namespace: "web" },
      data: { "api-key": base64(generatedSecretValue()) },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ledger-config", namespace: "payments" },
      data: { currency: "EUR", "batch-size": "500" },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: "db-credentials", namespace: "payments" },
      data: { username: base64("ledger"), password: base64(generatedSecretValue()) },
    },
    deployment("web", "frontend", 2, [{ name: "nginx", image: "nginx:1.25", port: 8080 }]),
    deployment("payments", "ledger", 1, [
      { name: "ledger", image: "ghcr.io/example/ledger:2.4.1", port: 9090 },
      { name: "log-shipper", image: "fluent/fluent-bit:3.0" },
    ]),
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "frontend", namespace: "web" },
      spec: { selector: { app: "frontend" }, ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ledger", namespace: "payments" },
      spec: { selector: { app: "ledger" }, ports: [{ name: "http", port: 9090, targetPort: 9090, protocol: "TCP" }] },
    },
  ];
  for (const owner of new Set(samplePods.map((pod) => pod.owner))) {
    const pods = samplePods.filter((pod) => pod.owner === owner);
    const first = pods[0];
    if (!first) continue;
    objects.push({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: owner, namespace: first.namespace, labels: first.labels },
      spec: {
        replicas: pods.length,
        selector: { matchLabels: first.labels },
        template: {
          metadata: { labels: first.labels },
          spec: { containers: first.containers.map((container) => ({ name: container.name, image: container.image })) },
        },
      },
    });
  }
  for (const pod of samplePods) {
    objects.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels },
      spec: {
        nodeName,
        automountServiceAccountToken: false,
        containers: pod.containers.map((container) => ({
          name: container.name,
          image: container.image,
          ...(container.port ? { ports: [{ containerPort: container.port, name: "http", protocol: "TCP" }] } : {}),
        })),
      },
    });
    for (const [reason, message] of [
      ["Scheduled", `Successfully assigned ${pod.namespace}/${pod.name} to ${nodeName}`],
      ["Pulled", `Container image "${pod.containers[0]?.image}" already present on machine`],
      ["Started", `Started container ${pod.containers[0]?.name}`],
    ] as const) {
      objects.push({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${pod.name}.${reason.toLowerCase()}`, namespace: pod.namespace },
        involvedObject: { apiVersion: "v1", kind: "Pod", name: pod.name, namespace: pod.namespace },
        reason,
        message,
        type: "Normal",
        source: { component: reason === "Scheduled" ? "default-scheduler" : "kubelet", host: nodeName },
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
    }
    if (pod.restarts > 0) {
      objects.push({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${pod.name}.backoff`, namespace: pod.namespace },
        involvedObject: { apiVersion: "v1", kind: "Pod", name: pod.name, namespace: pod.namespace },
        reason: "BackOff",
        message: `Back-off restarting failed container ${pod.containers[0]?.name} in pod ${pod.name}`,
        type: "Warning",
        source: { component: "kubelet", host: nodeName },
        firstTimestamp: time,
        lastTimestamp: time,
        count: pod.restarts,
      });
    }
  }
  for (const [index, group] of spec.namespaceBindings.entries()) {
    objects.push(
      roleBinding(
        `${group.group}-${group.clusterRole}-${index}`,
        group.namespace,
        "ClusterRole",
        group.clusterRole,
        groupSubject(group.group),
      ),
    );
  }
  for (const binding of spec.clusterBindings) {
    objects.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${binding.group}-${binding.clusterRole}` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: binding.clusterRole },
      subjects: [groupSubject(binding.group)],
    });
  }

  const statuses: WorkloadObjects["statuses"] = [
    {
      path: `/api/v1/nodes/${nodeName}`,
      status: {
        addresses: [
          { type: "InternalIP", address: "127.0.0.1" },
          { type: "Hostname", address: nodeName },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
        capacity: { cpu: "4", memory: "16Gi", pods: "110" },
        allocatable: { cpu: "4", memory: "15Gi", pods: "110" },
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "kubelet is posting ready status",
            lastHeartbeatTime: time,
            lastTransitionTime: time,
          },
          {
            type: "MemoryPressure",
            status: "False",
            reason: "KubeletHasSufficientMemory",
            lastHeartbeatTime: time,
            lastTransitionTime: time,
          },
          {
            type: "DiskPressure",
            status: "False",
            reason: "KubeletHasNoDiskPressure",
            lastHeartbeatTime: time,
            lastTransitionTime: time,
          },
        ],
        nodeInfo: {
          kubeletVersion: "v1.20.2",
          kubeProxyVersion: "v1.20.2",
          containerRuntimeVersion: "containerd://1.6.20",
          operatingSystem: "linux",
          architecture: "amd64",
          osImage: "Debian GNU/Linux 12 (bookworm)",
          kernelVersion: "6.1.0",
          machineID: "",
          systemUUID: "",
          bootID: "",
        },
      },
    },
    ...samplePods.map((pod, index) => ({
      path: `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`,
      status: {
        phase: "Running",
        hostIP: "127.0.0.1",
        podIP: `10.244.1.${10 + index}`,
        podIPs: [{ ip: `10.244.1.${10 + index}` }],
        startTime: time,
        qosClass: "BestEffort",
        conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({
          type,
          status: "True",
          lastTransitionTime: time,
        })),
        containerStatuses: pod.containers.map((container, containerIndex) => ({
          name: container.name,
          image: container.image,
          imageID: `docker.io/library/${container.image}@sha256:${"0".repeat(64)}`,
          containerID: `containerd://${(index * 16 + containerIndex).toString(16).padStart(64, "0")}`,
          ready: true,
          started: true,
          restartCount: containerIndex === 0 ? pod.restarts : 0,
          state: { running: { startedAt: time } },
          ...(containerIndex === 0 && pod.restarts > 0
            ? { lastState: { terminated: { exitCode: 137, reason: "OOMKilled", startedAt: time, finishedAt: time } } }
            : {}),
        })),
      },
    })),
    ...[
      ["web", "frontend", 2],
      ["payments", "ledger", 1],
    ].map(([namespaceName, name, replicas]) => ({
      path: `/apis/apps/v1/namespaces/${namespaceName}/deployments/${name}`,
      status: {
        observedGeneration: 1,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          {
            type: "Available",
            status: "True",
            reason: "MinimumReplicasAvailable",
            message: "Deployment has minimum availability.",
            lastUpdateTime: time,
            lastTransitionTime: time,
          },
          {
            type: "Progressing",
            status: "True",
            reason: "NewReplicaSetAvailable",
            message: `ReplicaSet "${name}" has successfully progressed.`,
            lastUpdateTime: time,
            lastTransitionTime: time,
          },
        ],
      },
    })),
  ];
  return { objects, statuses };
}
