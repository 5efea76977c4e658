import {
  type AccessQuestion,
  type ClusterAccess,
  formatClusterRef,
  GatewayError,
  type Principal,
} from "@capi-mcp/core";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CapiPoolEvent, createCapiCatalogs, type WorkloadConnectRequest } from "./capi-catalog.js";
import type { CapiChange, CapiCluster, CapiDirectory } from "./capi-contracts.js";
import type { ManagementApi, ResourceAttributes, ReviewSubject } from "./capi-management-api.js";
import type { WorkloadAuthMode } from "./user-catalog.js";

// ---------------------------------------------------------------------------------------------
// Test doubles: an in-memory directory, a management API with a table of grants, and a connect
// layer that records what it was asked to build.

function capiCluster(
  namespace: string,
  name: string,
  overrides: { uid?: string; port?: number; apiVersion?: string; object?: Record<string, unknown> } = {},
): CapiCluster {
  const apiVersion = overrides.apiVersion ?? "cluster.x-k8s.io/v1beta2";
  return {
    ref: { namespace, name },
    uid: overrides.uid ?? `uid-${namespace}-${name}`,
    resourceVersion: "1",
    labels: { organization: namespace.replace(/^org-/, "") },
    apiVersion,
    object: overrides.object ?? {
      apiVersion,
      kind: "Cluster",
      metadata: { namespace, name },
      status: {
        phase: "Provisioned",
        conditions: [{ type: "Available", status: "True", reason: "Available" }],
      },
    },
    endpoint: { host: `${name}.${namespace}.example`, port: overrides.port ?? 6443 },
  };
}

function memoryDirectory(initial: readonly CapiCluster[]) {
  const clusters = new Map(initial.map((cluster) => [formatClusterRef(cluster.ref), cluster]));
  const listeners = new Set<(change: CapiChange) => void>();
  const emit = (change: CapiChange) => {
    for (const listener of listeners) listener(change);
  };
  const directory: CapiDirectory & {
    put(cluster: CapiCluster): void;
    remove(namespace: string, name: string): void;
    credentialsChanged(namespace: string, name: string, from?: "secret" | "configmap"): void;
    readonly listeners: number;
  } = {
    ready: Promise.resolve(),
    list: () => [...clusters.values()].sort((a, b) => formatClusterRef(a.ref).localeCompare(formatClusterRef(b.ref))),
    get: (ref) => clusters.get(formatClusterRef(ref)),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {},
    put(cluster) {
      const key = formatClusterRef(cluster.ref);
      const type = clusters.has(key) ? "modified" : "added";
      clusters.set(key, cluster);
      emit({ type, cluster });
    },
    remove(namespace, name) {
      const key = `${namespace}/${name}`;
      const cluster = clusters.get(key);
      if (!cluster) return;
      clusters.delete(key);
      emit({ type: "deleted", cluster });
    },
    credentialsChanged(namespace, name, from) {
      emit({ type: "credentials-changed", namespace, name, ...(from === undefined ? {} : { from }) });
    },
    get listeners() {
      return listeners.size;
    },
  };
  return directory;
}

interface Review {
  readonly subject: ReviewSubject | undefined;
  readonly attributes: ResourceAttributes;
}

/** Grants are `user resource namespace/name`; the local user is "(self)". */
function fakeManagement(grants: Set<string>) {
  const reviews: Review[] = [];
  const reads: string[] = [];
  const secrets = new Map<string, Record<string, string>>();
  const configMaps = new Map<string, Record<string, string>>();
  const api: ManagementApi = {
    async mayAccess(subject, attributes) {
      reviews.push({ subject, attributes });
      const who = subject?.user ?? "(self)";
      return grants.has(`${who} ${attributes.resource} ${attributes.namespace}/${attributes.name}`);
    },
    async readSecret(namespace, name) {
      reads.push(`secret ${namespace}/${name}`);
      return secrets.get(`${namespace}/${name}`);
    },
    async readConfigMap(namespace, name) {
      reads.push(`configmap ${namespace}/${name}`);
      return configMaps.get(`${namespace}/${name}`);
    },
    async close() {},
  };
  return { api, reviews, reads, secrets, configMaps };
}

function workloadKubeconfig(server: string, marker: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "workload", cluster: { server, "certificate-authority-data": "Q0E=" } }],
    users: [{ name: "admin", user: { token: `admin-token-${marker}` } }],
    contexts: [{ name: "admin@workload", context: { cluster: "workload", user: "admin" } }],
    "current-context": "admin@workload",
  });
}

function managementKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "management", server: "https://management.example:6443", caData: "TUdNVA==" }],
    users: [{ name: "gateway", token: "gateway-service-account-token" }],
    contexts: [{ name: "gateway", cluster: "management", user: "gateway" }],
    currentContext: "gateway",
  });
  return config;
}

interface FakeClient {
  readonly request: WorkloadConnectRequest;
  readonly access: ClusterAccess;
  closed: boolean;
  /** What the next `get` does. */
  behaviour: "ok" | "unauthorized" | "slow";
  release?: () => void;
}

function token(exp: number, marker: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "RS256" })}.${encode({ exp, sub: marker })}.signature`;
}

function principal(name: string, groups: string[], idToken?: () => string): Principal {
  return {
    subject: `sub-${name}`,
    issuer: "https://idp.example",
    username: `${name}@example.com`,
    email: `${name}@example.com`,
    emailVerified: true,
    groups,
    idTokenCustody: idToken ? { currentIdToken: async () => idToken() } : undefined,
  };
}

const alice = (idToken?: () => string) => principal("alice", ["acme-dev"], idToken);
const bob = (idToken?: () => string) => principal("bob", ["acme-ops"], idToken);

function defaultGrants(): Set<string> {
  const grants = new Set<string>();
  const grant = (user: string, namespace: string, name: string) => {
    grants.add(`${user}@example.com clusters ${namespace}/${name}`);
    grants.add(`${user}@example.com secrets ${namespace}/${name}-kubeconfig`);
  };
  grant("alice", "org-acme", "dev");
  grant("bob", "org-acme", "dev");
  grant("bob", "org-acme", "prod");
  grant("dave", "org-acme", "prod");
  grant("dave", "org-globex", "prod");
  grants.add("(self) clusters org-acme/dev");
  grants.add("(self) secrets org-acme/dev-kubeconfig");
  return grants;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const catalogs of open.splice(0)) await catalogs.close();
});

function setup(
  mode: WorkloadAuthMode,
  extra: {
    clusters?: CapiCluster[];
    grants?: Set<string>;
    caConfigMapSuffix?: string;
    caSecretSuffix?: string;
    visibilityCacheMilliseconds?: number;
    ttlMilliseconds?: number;
    maxEntries?: number;
  } = {},
) {
  const clock = { now: 1_700_000_000_000 };
  const directory = memoryDirectory(
    extra.clusters ?? [
      capiCluster("org-acme", "dev"),
      capiCluster("org-acme", "prod"),
      capiCluster("org-globex", "prod"),
      capiCluster("org-initech", "prod"),
    ],
  );
  const management = fakeManagement(extra.grants ?? defaultGrants());
  for (const cluster of directory.list()) {
    const { namespace, name } = cluster.ref;
    management.secrets.set(`${namespace}/${name}-kubeconfig`, {
      value: workloadKubeconfig(`https://${name}.${namespace}.example:6443`, `${namespace}-${name}`),
    });
    management.secrets.set(`${namespace}/${name}-ca`, {
      "tls.crt": `CA secret of ${namespace}/${name}`,
      "tls.key": "never used",
    });
    management.configMaps.set(`${namespace}/${name}-ca-public`, { "ca.crt": `CA of ${namespace}/${name}` });
  }
  const clients: FakeClient[] = [];
  const events: CapiPoolEvent[] = [];
  const catalogs = createCapiCatalogs({
    directory,
    management: { kubeConfig: managementKubeConfig() },
    mode,
    ...(extra.caConfigMapSuffix === undefined ? {} : { caConfigMapSuffix: extra.caConfigMapSuffix }),
    ...(extra.caSecretSuffix === undefined ? {} : { caSecretSuffix: extra.caSecretSuffix }),
    pool: { maxEntries: extra.maxEntries ?? 100, ttlMilliseconds: extra.ttlMilliseconds ?? 600_000 },
    workload: { qps: 5, burst: 10, connectTimeoutMilliseconds: 1_500, requestTimeoutMilliseconds: 4_000 },
    visibilityCacheMilliseconds: extra.visibilityCacheMilliseconds ?? 30_000,
    onPoolEvent: (event) => events.push(event),
    now: () => clock.now,
    managementApi: management.api,
    connect: (request) => {
      const client: FakeClient = {
        request,
        closed: false,
        behaviour: "ok",
        access: {
          cluster: request.clusterName,
          get: async () => {
            if (client.behaviour === "unauthorized") {
              throw new GatewayError(
                "unauthenticated",
                `Cluster ${request.clusterName} did not accept the credentials.`,
              );
            }
            if (client.behaviour === "slow") await new Promise<void>((resolve) => (client.release = resolve));
            return { kind: "ConfigMap", metadata: { name: "cluster-identity" } };
          },
          // Answers with the identity the client was built for, so tests can see whose client they hold.
          canI: async (_question: AccessQuestion) => ({ allowed: true, reason: JSON.stringify(request.identity) }),
        } as unknown as ClusterAccess,
      };
      clients.push(client);
      return {
        access: client.access,
        close: async () => {
          client.closed = true;
        },
      };
    },
  });
  open.push(catalogs);
  return { catalogs, directory, management, clients, events, clock };
}

const question: AccessQuestion = { verb: "get", group: "", resource: "pods" };
const configMaps = { group: "", version: "v1", resource: "configmaps", namespaced: true } as never;

// ---------------------------------------------------------------------------------------------

describe("cluster names", () => {
  it("resolves namespace/name to exactly that cluster, and a bare name the user can see only once", async () => {
    const { catalogs, clients } = setup("impersonation");
    const catalog = catalogs.forPrincipal(bob());
    expect((await catalog.access("org-acme/prod")).cluster).toBe("org-acme/prod");
    // Bob may see org-acme/prod but not org-globex/prod or org-initech/prod: "prod" is his one prod.
    expect((await catalog.access("prod")).cluster).toBe("org-acme/prod");
    expect(clients).toHaveLength(1);
    expect(clients[0]?.request.kubeConfig.getCurrentCluster()?.server).toBe("https://prod.org-acme.example:6443");
  });

  it("refuses an ambiguous bare name, listing only the candidates the user may see", async () => {
    const { catalogs } = setup("impersonation");
    const error = await catalogs
      .forPrincipal(principal("dave", ["multi-org"]))
      .access("prod")
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: "ambiguous_cluster",
      message: "prod is ambiguous: org-acme/prod, org-globex/prod. Name the cluster as namespace/name.",
    });
    expect((error as GatewayError).message).not.toContain("org-initech");
    expect((error as GatewayError).message).not.toContain("dave");
  });

  it("answers an unknown cluster exactly like one the user may not see", async () => {
    const { catalogs } = setup("impersonation");
    const catalog = catalogs.forPrincipal(alice());
    const forbidden = await catalog.access("org-acme/prod").catch((failure: unknown) => failure);
    const unknown = await catalog.access("org-acme/nowhere").catch((failure: unknown) => failure);
    const forbiddenBare = await catalog.access("prod").catch((failure: unknown) => failure);
    const unknownBare = await catalog.access("nowhere").catch((failure: unknown) => failure);
    expect(forbidden).toMatchObject({ code: "cluster_not_found" });
    expect(unknown).toMatchObject({ code: "cluster_not_found" });
    expect((forbidden as GatewayError).message.replace("org-acme/prod", "X")).toBe(
      (unknown as GatewayError).message.replace("org-acme/nowhere", "X"),
    );
    expect((forbiddenBare as GatewayError).message.replace('"prod"', "X")).toBe(
      (unknownBare as GatewayError).message.replace('"nowhere"', "X"),
    );
  });

  it("keeps `management` for the management cluster, even when a workload cluster has that name", async () => {
    const { catalogs, clients } = setup("impersonation", {
      clusters: [capiCluster("org-acme", "management")],
      grants: new Set([
        "alice@example.com clusters org-acme/management",
        "alice@example.com secrets org-acme/management-kubeconfig",
      ]),
    });
    const catalog = catalogs.forPrincipal(alice());
    expect((await catalog.access("management")).cluster).toBe("management");
    expect(clients[0]?.request.kubeConfig.getCurrentCluster()?.server).toBe("https://management.example:6443");
    expect((await catalog.access("org-acme/management")).cluster).toBe("org-acme/management");
  });
});

describe("visibility", () => {
  it("lists the management cluster and only the workload clusters the user may get, with their Cluster API status", async () => {
    const v1beta1 = capiCluster("org-globex", "prod", {
      apiVersion: "cluster.x-k8s.io/v1beta1",
      object: {
        apiVersion: "cluster.x-k8s.io/v1beta1",
        kind: "Cluster",
        metadata: { namespace: "org-globex", name: "prod" },
        status: {
          phase: "Provisioning",
          conditions: [{ type: "Ready", status: "False", reason: "WaitingForControlPlane", extra: 1 }],
          v1beta2: { conditions: [{ type: "Available", status: "False" }] },
        },
      },
    });
    const grants = defaultGrants();
    grants.add("bob@example.com clusters org-globex/prod");
    grants.add("bob@example.com secrets org-globex/prod-kubeconfig");
    const { catalogs } = setup("impersonation", {
      clusters: [capiCluster("org-acme", "dev"), capiCluster("org-acme", "prod"), v1beta1],
      grants,
    });
    const aliceList = await catalogs.forPrincipal(alice()).list();
    expect(aliceList.map((cluster) => cluster.name)).toEqual(["management", "org-acme/dev"]);
    expect(aliceList[0]).toEqual({ name: "management", server: "https://management.example:6443" });
    expect(aliceList[1]).toMatchObject({
      name: "org-acme/dev",
      server: "https://dev.org-acme.example:6443",
      labels: { organization: "acme" },
      phase: "Provisioned",
      conditions: [{ type: "Available", status: "True", reason: "Available" }],
      clusterObject: { kind: "Cluster", metadata: { namespace: "org-acme", name: "dev" } },
    });
    const bobList = await catalogs.forPrincipal(bob()).list();
    expect(bobList.map((cluster) => cluster.name)).toEqual([
      "management",
      "org-acme/dev",
      "org-acme/prod",
      "org-globex/prod",
    ]);
    expect(bobList[3]).toMatchObject({
      phase: "Provisioning",
      conditions: [{ type: "Ready", status: "False", reason: "WaitingForControlPlane" }],
    });
  });

  it("asks as the user with their groups, system:authenticated and extras, and in impersonation mode also about the kubeconfig secret", async () => {
    const { catalogs, management } = setup("impersonation");
    await catalogs.forPrincipal(alice()).access("org-acme/dev");
    expect(management.reviews).toEqual([
      // First the namespace-wide question, which alice's name-scoped grant does not answer…
      {
        subject: expect.objectContaining({ user: "alice@example.com" }),
        attributes: { verb: "get", group: "cluster.x-k8s.io", resource: "clusters", namespace: "org-acme", name: "" },
      },
      // …then the cluster and its kubeconfig secret by name.
      {
        subject: {
          user: "alice@example.com",
          groups: ["acme-dev", "system:authenticated"],
          extra: { sub: ["sub-alice"], agent: ["capi-mcp"] },
        },
        attributes: {
          verb: "get",
          group: "cluster.x-k8s.io",
          resource: "clusters",
          namespace: "org-acme",
          name: "dev",
        },
      },
      {
        subject: expect.objectContaining({ user: "alice@example.com" }),
        attributes: { verb: "get", group: "", resource: "secrets", namespace: "org-acme", name: "dev-kubeconfig" },
      },
    ]);
  });

  it("in SSO mode needs only the right to get the Cluster, since no kubeconfig secret is used", async () => {
    const grants = new Set(["alice@example.com clusters org-acme/prod"]);
    const { catalogs, management } = setup("sso-passthrough", { grants });
    const idToken = token(1_700_000_000 + 3600, "alice");
    expect((await catalogs.forPrincipal(alice(() => idToken)).access("org-acme/prod")).cluster).toBe("org-acme/prod");
    const byName = management.reviews.filter((review) => review.attributes.name !== "");
    expect(byName.map((review) => review.attributes.resource)).toEqual(["clusters"]);
    expect(management.reviews.some((review) => review.attributes.resource === "secrets")).toBe(false);
  });

  it("remembers an answer per user and cluster for the visibility TTL, then asks again and honours a revocation", async () => {
    const grants = defaultGrants();
    const { catalogs, management, clock } = setup("impersonation", { grants, visibilityCacheMilliseconds: 30_000 });
    const catalog = catalogs.forPrincipal(alice());
    await catalog.access("org-acme/dev");
    await catalog.access("org-acme/dev");
    await catalog.list();
    const afterFirst = management.reviews.filter(
      (review) => review.subject?.user === "alice@example.com" && review.attributes.name.startsWith("dev"),
    ).length;
    expect(afterFirst).toBe(2);
    // Another user's answer is never reused for alice, and vice versa.
    await catalogs.forPrincipal(bob()).access("org-acme/dev");
    expect(
      management.reviews.filter((review) => review.subject?.user === "bob@example.com" && review.attributes.name !== "")
        .length,
    ).toBe(2);

    grants.delete("alice@example.com clusters org-acme/dev");
    clock.now += 29_000;
    expect((await catalog.access("org-acme/dev")).cluster).toBe("org-acme/dev");
    clock.now += 2_000;
    await expect(catalog.access("org-acme/dev")).rejects.toMatchObject({ code: "cluster_not_found" });
  });

  it("treats the same user with other groups as another identity for visibility", async () => {
    const { catalogs, management } = setup("impersonation");
    await catalogs.forPrincipal(alice()).access("org-acme/dev");
    await expect(
      catalogs.forPrincipal(principal("alice", ["acme-dev", "acme-ops"])).access("org-acme/dev"),
    ).resolves.toBeDefined();
    expect(
      management.reviews.filter((review) => review.attributes.resource === "clusters" && review.attributes.name !== ""),
    ).toHaveLength(2);
  });

  it("answers a namespace-wide grant with one review per namespace, not one per cluster", async () => {
    const grants = new Set(["bob@example.com clusters org-acme/", "bob@example.com secrets org-acme/"]);
    const { catalogs, management } = setup("impersonation", { grants });
    const names = (await catalogs.forPrincipal(bob()).list()).map((cluster) => cluster.name);
    expect(names).toEqual(expect.arrayContaining(["org-acme/dev", "org-acme/prod"]));
    expect(names).not.toContain("org-globex/prod");
    const acme = management.reviews.filter((review) => review.attributes.namespace === "org-acme");
    expect(acme.map((review) => `${review.attributes.resource}:${review.attributes.name}`)).toEqual([
      "clusters:",
      "secrets:",
    ]);
  });
});

describe("workload cluster identity", () => {
  it("impersonates the user with groups, sub and the fixed agent extra last, using the kubeconfig the gateway read", async () => {
    let custodyCalls = 0;
    const { catalogs, clients, management } = setup("impersonation");
    const user = principal("alice", ["acme-dev"], () => {
      custodyCalls += 1;
      return "never-used";
    });
    await catalogs.forPrincipal(user).access("org-acme/dev");
    const [client] = clients;
    expect(client?.request.identity).toEqual({
      impersonate: {
        user: "alice@example.com",
        groups: ["acme-dev"],
        extra: { sub: ["sub-alice"], agent: ["capi-mcp"] },
      },
    });
    expect(Object.keys(client?.request.identity.impersonate?.extra ?? {}).at(-1)).toBe("agent");
    expect(client?.request.identity.bearerToken).toBeUndefined();
    expect(client?.request.kubeConfig.getCurrentUser()?.token).toBe("admin-token-org-acme-dev");
    expect(client?.request.limits).toEqual({
      qps: 5,
      burst: 10,
      connectTimeoutMilliseconds: 1_500,
      requestTimeoutMilliseconds: 4_000,
    });
    expect(management.reads).toEqual(["secret org-acme/dev-kubeconfig"]);
    expect(custodyCalls).toBe(0);
  });

  it("passes the user's ID token to the endpoint of spec.controlPlaneEndpoint with the CA from the -ca-public ConfigMap, reading no Secret", async () => {
    const { catalogs, clients, management } = setup("sso-passthrough");
    const idToken = token(1_700_000_000 + 3600, "bob");
    await catalogs.forPrincipal(bob(() => idToken)).access("org-acme/prod");
    const [client] = clients;
    expect(client?.request.identity).toEqual({ bearerToken: idToken });
    const cluster = client?.request.kubeConfig.getCurrentCluster();
    expect(cluster?.server).toBe("https://prod.org-acme.example:6443");
    expect(Buffer.from(cluster?.caData ?? "", "base64").toString("utf8")).toBe("CA of org-acme/prod");
    expect(client?.request.kubeConfig.getCurrentUser()).toMatchObject({ name: "sso-passthrough" });
    expect(client?.request.kubeConfig.getCurrentUser()?.token).toBeUndefined();
    expect(management.reads).toEqual(["configmap org-acme/prod-ca-public"]);
  });

  it("reads the CA Secret's tls.crt only when a CA Secret suffix is chosen explicitly", async () => {
    const { catalogs, clients, management } = setup("sso-passthrough", { caSecretSuffix: "-ca" });
    await catalogs.forPrincipal(bob(() => token(1_700_000_000 + 3600, "bob"))).access("org-acme/prod");
    expect(Buffer.from(clients[0]?.request.kubeConfig.getCurrentCluster()?.caData ?? "", "base64").toString()).toBe(
      "CA secret of org-acme/prod",
    );
    expect(management.reads).toEqual(["secret org-acme/prod-ca"]);
  });

  it("refuses to be built with both a CA Secret and a CA ConfigMap suffix", () => {
    expect(() => setup("sso-passthrough", { caSecretSuffix: "-ca", caConfigMapSuffix: "-ca-public" })).toThrow(
      /not both/,
    );
  });

  it("takes the CA from the configured ConfigMap's ca.crt instead, when a ConfigMap suffix is set", async () => {
    const { catalogs, clients, management } = setup("sso-passthrough", { caConfigMapSuffix: "-ca-bundle" });
    management.configMaps.set("org-acme/prod-ca-bundle", { "ca.crt": "CA from the config map" });
    await catalogs.forPrincipal(bob(() => token(1_700_000_000 + 3600, "bob"))).access("org-acme/prod");
    expect(Buffer.from(clients[0]?.request.kubeConfig.getCurrentCluster()?.caData ?? "", "base64").toString()).toBe(
      "CA from the config map",
    );
    expect(management.reads).toEqual(["configmap org-acme/prod-ca-bundle"]);
  });

  it("reaches the management cluster with the user's token and none of the gateway's credentials in SSO mode", async () => {
    const { catalogs, clients } = setup("sso-passthrough");
    const idToken = token(1_700_000_000 + 3600, "alice");
    await catalogs.forPrincipal(alice(() => idToken)).access("management");
    const [client] = clients;
    expect(client?.request.identity).toEqual({ bearerToken: idToken });
    expect(client?.request.kubeConfig.getCurrentCluster()?.server).toBe("https://management.example:6443");
    expect(JSON.stringify(client?.request.kubeConfig.users)).not.toContain("gateway-service-account-token");
  });

  it("impersonates the user on the management cluster with the gateway's credentials in impersonation mode", async () => {
    const { catalogs, clients } = setup("impersonation");
    await catalogs.forPrincipal(alice()).access("management");
    expect(clients[0]?.request.identity.impersonate?.user).toBe("alice@example.com");
    expect(clients[0]?.request.kubeConfig.getCurrentUser()?.token).toBe("gateway-service-account-token");
  });

  it("acts as the kubeconfig's own identity for the local user: self reviews and the kubeconfig secret, no impersonation", async () => {
    const { catalogs, clients, management } = setup("impersonation");
    const catalog = catalogs.forLocalUser();
    expect((await catalog.list()).map((cluster) => cluster.name)).toEqual(["management", "org-acme/dev"]);
    await catalog.access("dev");
    expect(management.reviews.every((review) => review.subject === undefined)).toBe(true);
    expect(clients[0]?.request.identity).toEqual({});
    expect(clients[0]?.request.kubeConfig.getCurrentUser()?.token).toBe("admin-token-org-acme-dev");
  });
});

describe("no fallback", () => {
  it("refuses SSO passthrough without an ID token, and builds no client and reads no secret", async () => {
    const { catalogs, clients, management } = setup("sso-passthrough");
    const error = await catalogs
      .forPrincipal(alice())
      .access("org-acme/dev")
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "unauthenticated" });
    expect((error as Error).message).not.toContain("alice");
    expect(clients).toEqual([]);
    expect(management.reads).toEqual([]);
  });

  it("refuses SSO passthrough when the custody cannot produce a token, or the token has expired", async () => {
    const { catalogs, clients } = setup("sso-passthrough");
    const failing: Principal = {
      ...alice(),
      idTokenCustody: {
        currentIdToken: async () => {
          throw new Error("refresh failed: invalid_grant for alice@example.com");
        },
      },
    };
    const error = await catalogs
      .forPrincipal(failing)
      .access("org-acme/dev")
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "unauthenticated" });
    expect((error as Error).message).not.toContain("alice");
    await expect(
      catalogs.forPrincipal(alice(() => token(1_700_000_000 - 1, "old"))).access("org-acme/dev"),
    ).rejects.toMatchObject({ code: "unauthenticated" });
    expect(clients).toEqual([]);
  });

  it("refuses SSO passthrough to a cluster with no CA, and never reads its kubeconfig instead", async () => {
    const { catalogs, clients, management } = setup("sso-passthrough");
    management.configMaps.delete("org-acme/dev-ca-public");
    const error = await catalogs
      .forPrincipal(alice(() => token(1_700_000_000 + 3600, "alice")))
      .access("org-acme/dev")
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "unavailable", message: expect.stringContaining("CA certificate") });
    expect(clients).toEqual([]);
    expect(error).toMatchObject({ message: expect.stringContaining("configmap org-acme/dev-ca-public, key ca.crt") });
    expect(management.reads).toEqual(["configmap org-acme/dev-ca-public"]);
  });

  it("refuses the local user in SSO mode on workload clusters rather than using the kubeconfig secret", async () => {
    const { catalogs, clients, management } = setup("sso-passthrough");
    await expect(catalogs.forLocalUser().access("org-acme/dev")).rejects.toMatchObject({ code: "unauthenticated" });
    expect(clients).toEqual([]);
    expect(management.reads).toEqual([]);
  });

  it("fails impersonation clearly when the kubeconfig secret is missing", async () => {
    const { catalogs, clients, management } = setup("impersonation");
    management.secrets.delete("org-acme/dev-kubeconfig");
    await expect(catalogs.forPrincipal(alice()).access("org-acme/dev")).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("no kubeconfig"),
    });
    expect(clients).toEqual([]);
  });
});

describe("the client pool", () => {
  it("reuses one client per cluster and identity, and never hands one user's client to another", async () => {
    const { catalogs, clients, events } = setup("impersonation");
    const first = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    expect(await catalogs.forPrincipal(bob()).access("org-acme/dev")).toBe(first);
    const alices = await catalogs.forPrincipal(alice()).access("org-acme/dev");
    const bobMoreGroups = await catalogs
      .forPrincipal(principal("bob", ["acme-ops", "acme-dev"]))
      .access("org-acme/dev");
    const bobOtherCluster = await catalogs.forPrincipal(bob()).access("org-acme/prod");
    expect(new Set([first, alices, bobMoreGroups, bobOtherCluster]).size).toBe(4);
    expect(clients).toHaveLength(4);
    expect(catalogs.poolSize).toBe(4);
    expect(events.filter((event) => event.type === "miss")).toHaveLength(4);
    expect(events.filter((event) => event.type === "hit")).toHaveLength(1);
  });

  it("keys on sorted groups, so the same groups in another order share a client", async () => {
    const { catalogs, clients } = setup("impersonation");
    const one = await catalogs.forPrincipal(principal("bob", ["a", "acme-ops"])).access("org-acme/dev");
    const two = await catalogs.forPrincipal(principal("bob", ["acme-ops", "a"])).access("org-acme/dev");
    expect(two).toBe(one);
    expect(clients).toHaveLength(1);
  });

  it("in SSO mode keys on the token's fingerprint: a refreshed token gets a new client", async () => {
    const { catalogs, clients } = setup("sso-passthrough");
    let current = token(1_700_000_000 + 3600, "one");
    const user = alice(() => current);
    const first = await catalogs.forPrincipal(user).access("org-acme/dev");
    expect(await catalogs.forPrincipal(user).access("org-acme/dev")).toBe(first);
    current = token(1_700_000_000 + 7200, "two");
    const second = await catalogs.forPrincipal(user).access("org-acme/dev");
    expect(second).not.toBe(first);
    expect(clients.map((client) => client.request.identity.bearerToken)).toEqual([
      token(1_700_000_000 + 3600, "one"),
      current,
    ]);
  });

  it("builds one client for concurrent misses of one key, and separate ones for separate users", async () => {
    const { catalogs, clients, events } = setup("impersonation");
    const calls = [
      ...Array.from({ length: 10 }, () => catalogs.forPrincipal(bob()).access("org-acme/dev")),
      ...Array.from({ length: 10 }, () => catalogs.forPrincipal(alice()).access("org-acme/dev")),
    ];
    const results = await Promise.all(calls);
    expect(clients).toHaveLength(2);
    expect(new Set(results.slice(0, 10)).size).toBe(1);
    expect(new Set(results.slice(10)).size).toBe(1);
    expect(results[0]).not.toBe(results[10]);
    for (const [index, access] of results.entries()) {
      const answer = await access.canI(question);
      expect(JSON.parse(answer.reason ?? "{}").impersonate.user).toBe(
        index < 10 ? "bob@example.com" : "alice@example.com",
      );
    }
    expect(events.filter((event) => event.type === "miss")).toHaveLength(2);
  });

  it("in SSO mode, concurrent misses with different tokens for the same user never share a client", async () => {
    const { catalogs, clients } = setup("sso-passthrough");
    const tokens = ["a", "b", "c"].map((marker) => token(1_700_000_000 + 3600, marker));
    const results = await Promise.all(
      tokens.flatMap((idToken) =>
        Array.from({ length: 4 }, () => catalogs.forPrincipal(alice(() => idToken)).access("org-acme/dev")),
      ),
    );
    expect(clients.map((client) => client.request.identity.bearerToken).sort()).toEqual([...tokens].sort());
    for (const [index, access] of results.entries()) {
      const answer = await access.canI(question);
      expect(JSON.parse(answer.reason ?? "{}")).toEqual({ bearerToken: tokens[Math.floor(index / 4)] });
    }
    expect(new Set(results).size).toBe(3);
  });

  it("drops a deleted cluster's clients, closes them, and no longer knows the cluster", async () => {
    const { catalogs, directory, clients, events } = setup("impersonation");
    await catalogs.forPrincipal(bob()).access("org-acme/dev");
    await catalogs.forPrincipal(alice()).access("org-acme/dev");
    await catalogs.forPrincipal(bob()).access("org-acme/prod");
    directory.remove("org-acme", "dev");
    expect(events.filter((event) => event.type === "eviction")).toEqual([
      { type: "eviction", reason: "cluster-deleted" },
      { type: "eviction", reason: "cluster-deleted" },
    ]);
    expect(clients.map((client) => client.closed)).toEqual([true, true, false]);
    expect(catalogs.poolSize).toBe(1);
    await expect(catalogs.forPrincipal(bob()).access("org-acme/dev")).rejects.toMatchObject({
      code: "cluster_not_found",
    });
  });

  it("treats a Cluster recreated under the same name (another uid) as a new cluster", async () => {
    const { catalogs, directory, clients, events } = setup("impersonation");
    const before = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    directory.put(capiCluster("org-acme", "dev", { uid: "uid-recreated" }));
    expect(events.at(-1)).toEqual({ type: "eviction", reason: "cluster-deleted" });
    const after = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    expect(after).not.toBe(before);
    expect(clients[0]?.closed).toBe(true);
  });

  it("drops clients and re-reads the kubeconfig when the kubeconfig secret changes", async () => {
    const { catalogs, directory, clients, management, events } = setup("impersonation");
    const before = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    await catalogs.forPrincipal(alice()).access("org-acme/dev");
    directory.credentialsChanged("org-acme", "unrelated-secret");
    directory.credentialsChanged("org-acme", "dev-ca");
    expect(events.some((event) => event.type === "eviction")).toBe(false);
    management.secrets.set("org-acme/dev-kubeconfig", {
      value: workloadKubeconfig("https://rotated.example:6443", "rotated"),
    });
    directory.credentialsChanged("org-acme", "dev-kubeconfig");
    expect(events.filter((event) => event.type === "eviction")).toEqual([
      { type: "eviction", reason: "credentials-changed" },
      { type: "eviction", reason: "credentials-changed" },
    ]);
    const after = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    expect(after).not.toBe(before);
    expect(clients.at(-1)?.request.kubeConfig.getCurrentUser()?.token).toBe("admin-token-rotated");
    expect(management.reads.filter((read) => read === "secret org-acme/dev-kubeconfig")).toHaveLength(2);
  });

  it("in SSO mode drops clients when the CA ConfigMap changes or the control plane moves", async () => {
    const { catalogs, directory, clients, events } = setup("sso-passthrough");
    const user = bob(() => token(1_700_000_000 + 3600, "bob"));
    await catalogs.forPrincipal(user).access("org-acme/prod");
    directory.credentialsChanged("org-acme", "prod-kubeconfig", "secret");
    directory.credentialsChanged("org-acme", "prod-ca", "secret");
    // A Secret that happens to carry the ConfigMap's name is not what this pool was built from.
    directory.credentialsChanged("org-acme", "prod-ca-public", "secret");
    expect(events.some((event) => event.type === "eviction")).toBe(false);
    directory.credentialsChanged("org-acme", "prod-ca-public", "configmap");
    expect(events.at(-1)).toEqual({ type: "eviction", reason: "credentials-changed" });
    await catalogs.forPrincipal(user).access("org-acme/prod");
    directory.put(capiCluster("org-acme", "prod", { port: 7443 }));
    expect(events.at(-1)).toEqual({ type: "eviction", reason: "credentials-changed" });
    await catalogs.forPrincipal(user).access("org-acme/prod");
    expect(clients.at(-1)?.request.kubeConfig.getCurrentCluster()?.server).toBe("https://prod.org-acme.example:7443");
  });

  it("drops a client whose API server answers 401, rethrows the error, and builds a fresh one next time", async () => {
    const { catalogs, clients, events } = setup("impersonation");
    const access = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    const other = await catalogs.forPrincipal(alice()).access("org-acme/dev");
    const [bobs] = clients;
    if (bobs) bobs.behaviour = "unauthorized";
    await expect(access.get(configMaps, "cluster-identity", "default")).rejects.toMatchObject({
      code: "unauthenticated",
    });
    expect(events.at(-1)).toEqual({ type: "eviction", reason: "unauthorized" });
    expect(bobs?.closed).toBe(true);
    expect(catalogs.poolSize).toBe(1);
    expect(await catalogs.forPrincipal(alice()).access("org-acme/dev")).toBe(other);
    const fresh = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    expect(fresh).not.toBe(access);
    await expect(fresh.get(configMaps, "cluster-identity", "default")).resolves.toBeDefined();
  });

  it("closes an evicted client only after the calls running on it finish", async () => {
    const { catalogs, directory, clients } = setup("impersonation");
    const access = await catalogs.forPrincipal(bob()).access("org-acme/dev");
    const [client] = clients;
    if (client) client.behaviour = "slow";
    const running = access.get(configMaps, "cluster-identity", "default");
    await new Promise((resolve) => setImmediate(resolve));
    directory.remove("org-acme", "dev");
    expect(client?.closed).toBe(false);
    client?.release?.();
    await running;
    expect(client?.closed).toBe(true);
  });

  it("evicts the least recently used client at capacity", async () => {
    const { catalogs, clients, events } = setup("impersonation", { maxEntries: 1 });
    await catalogs.forPrincipal(bob()).access("org-acme/dev");
    await catalogs.forPrincipal(bob()).access("org-acme/prod");
    expect(events.at(-1)).toEqual({ type: "eviction", reason: "capacity" });
    expect(clients[0]?.closed).toBe(true);
    expect(catalogs.poolSize).toBe(1);
  });

  it("never keeps an SSO client past its token's expiry, while impersonation clients live for the pool TTL", async () => {
    vi.useFakeTimers();
    const { catalogs, clients, events, clock } = setup("sso-passthrough", { ttlMilliseconds: 600_000 });
    await catalogs.forPrincipal(alice(() => token(clock.now / 1000 + 90, "short"))).access("org-acme/dev");
    clock.now += 60_000;
    vi.advanceTimersByTime(60_000);
    expect(catalogs.poolSize).toBe(1);
    clock.now += 31_000;
    vi.advanceTimersByTime(60_000);
    expect(events.at(-1)).toEqual({ type: "eviction", reason: "expired" });
    expect(clients[0]?.closed).toBe(true);
    expect(catalogs.poolSize).toBe(0);

    const impersonation = setup("impersonation", { ttlMilliseconds: 600_000 });
    await impersonation.catalogs.forPrincipal(alice()).access("org-acme/dev");
    impersonation.clock.now += 120_000;
    vi.advanceTimersByTime(120_000);
    expect(impersonation.catalogs.poolSize).toBe(1);
  });

  it("closes every pooled client and stops listening when closed", async () => {
    const { catalogs, directory, clients } = setup("impersonation");
    await catalogs.forPrincipal(bob()).access("org-acme/dev");
    await catalogs.forPrincipal(bob()).access("org-acme/prod");
    expect(directory.listeners).toBe(1);
    await catalogs.close();
    expect(clients.every((client) => client.closed)).toBe(true);
    expect(directory.listeners).toBe(0);
    await expect(catalogs.forPrincipal(bob()).access("org-acme/dev")).rejects.toMatchObject({ code: "unavailable" });
  });
});
