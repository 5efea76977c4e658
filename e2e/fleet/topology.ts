// Who and what the default fleet contains. Rights differ per user, cluster and namespace so
// tests can tell that a call really ran as the human who asked, on the cluster they named.

export interface WorkloadClusterSpec {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Groups bound per namespace (`RoleBinding` to a ClusterRole) on this workload cluster. */
  readonly namespaceBindings: readonly { group: string; namespace: string; clusterRole: string }[];
  /** Groups bound cluster-wide (`ClusterRoleBinding`). */
  readonly clusterBindings: readonly { group: string; clusterRole: string }[];
  /** True when the Cluster's status reports all workers available. */
  readonly workersAvailable: boolean;
}

export interface UserSpec {
  readonly name: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly groups: readonly string[];
  readonly note: string;
}

export const workloadClusterSpecs: readonly WorkloadClusterSpec[] = [
  {
    namespace: "org-acme",
    name: "dev",
    labels: { organization: "acme", environment: "dev" },
    namespaceBindings: [
      { group: "acme-dev", namespace: "web", clusterRole: "edit" },
      { group: "acme-dev", namespace: "payments", clusterRole: "edit" },
      { group: "acme-ops", namespace: "web", clusterRole: "edit" },
    ],
    clusterBindings: [{ group: "acme-ops", clusterRole: "view" }],
    workersAvailable: false,
  },
  {
    namespace: "org-acme",
    name: "prod",
    labels: { organization: "acme", environment: "prod" },
    namespaceBindings: [
      { group: "acme-dev", namespace: "web", clusterRole: "view" },
      { group: "acme-ops", namespace: "web", clusterRole: "edit" },
      { group: "acme-ops", namespace: "payments", clusterRole: "edit" },
    ],
    clusterBindings: [{ group: "acme-ops", clusterRole: "view" }],
    workersAvailable: true,
  },
  {
    namespace: "org-globex",
    name: "prod",
    labels: { organization: "globex", environment: "prod" },
    namespaceBindings: [],
    clusterBindings: [{ group: "globex-admins", clusterRole: "cluster-admin" }],
    workersAvailable: true,
  },
];

export const userSpecs: readonly UserSpec[] = [
  {
    name: "alice",
    email: "alice@example.com",
    emailVerified: true,
    groups: ["acme-dev"],
    note: "acme developer: edits web and payments on org-acme/dev, reads web on org-acme/prod",
  },
  {
    name: "bob",
    email: "bob@example.com",
    emailVerified: true,
    groups: ["acme-ops"],
    note: "acme operator: reads all of both acme clusters, edits web (and payments on prod)",
  },
  {
    name: "carol",
    email: "carol@example.com",
    emailVerified: true,
    groups: ["globex-admins"],
    note: "globex administrator: cluster-admin on org-globex/prod, nothing on acme",
  },
  {
    name: "mallory",
    email: "mallory@example.com",
    emailVerified: true,
    groups: ["acme-dev", "system:masters"],
    note: "hostile: the identity provider claims system:masters for her; the gateway must refuse her",
  },
  {
    name: "eve",
    email: "eve@example.com",
    emailVerified: false,
    groups: ["acme-dev"],
    note: "unverified email: the gateway must refuse her when email is the username",
  },
];

/**
 * Management-cluster rights: which groups may `get` which Cluster objects and kubeconfig
 * secrets. These decide which clusters a user can see through the gateway.
 */
export const managementAccess: readonly {
  group: string;
  namespace: string;
  clusters: readonly string[] | "all";
}[] = [
  { group: "acme-dev", namespace: "org-acme", clusters: ["dev"] },
  { group: "acme-ops", namespace: "org-acme", clusters: "all" },
  { group: "globex-admins", namespace: "org-globex", clusters: "all" },
];

export const gatewayServiceAccount = { namespace: "capi-mcp-system", name: "capi-mcp" } as const;
export const gatewayClientId = "capi-mcp";
export const otherClientId = "other-app";
export const nodeName = "worker-1";
