// packages/federation's Cluster API catalogs on the real fleet, in both workload modes: who sees
// which cluster, who may do what there, whose identity each workload API server saw (from its
// audit log), that no mode ever falls back to other credentials, and that pooled clients go away
// when a cluster is deleted, its credentials rotate, or its API server answers 401.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type ApiResource, type ClusterAccess, GatewayError, type KubeObject, type Principal } from "@capi-mcp/core";
// The lead re-exports these from @capi-mcp/federation; until then, the built module itself.
import {
  type CapiCatalogs,
  type CapiChange,
  type CapiCluster,
  type CapiDirectory,
  type CapiPoolEvent,
  createCapiCatalogs,
  createCapiDirectory,
} from "@capi-mcp/federation";
import { createKubeConnection } from "@capi-mcp/kube";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { jwtClaims, loginAs, type TokenSet } from "../fleet/login.ts";
import { type AuditEvent, type ClusterName, clusterInfo, failureOf, fleetInfo } from "../fleet/test-context.ts";

type Mode = "impersonation" | "sso-passthrough";
type UserName = "alice" | "bob" | "carol";

let info: FleetInfo;
const tokens = new Map<UserName, TokenSet>();
let directory: ListedDirectory;

// ---------------------------------------------------------------------------------------------
// A stand-in for the watch-based directory (built by another change): one list of v1beta2
// Clusters with the gateway's service account, re-listed on demand, diffs emitted as changes.

interface ListedDirectory extends CapiDirectory {
  /** Waits until the watch shows what the API server lists now. */
  refresh(): Promise<void>;
  /** Waits until the watch has reported a change of that secret. */
  credentialsChanged(namespace: string, name: string): Promise<void>;
}

function gatewayKubeConfig(): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(info.management.gatewayKubeconfig);
  return config;
}

function toCapiCluster(item: KubeObject): CapiCluster {
  const metadata = (item.metadata ?? {}) as {
    namespace: string;
    name: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
  };
  const endpoint = (item as { spec?: { controlPlaneEndpoint?: { host?: string; port?: number } } }).spec
    ?.controlPlaneEndpoint;
  return {
    ref: { namespace: metadata.namespace, name: metadata.name },
    uid: metadata.uid,
    resourceVersion: metadata.resourceVersion,
    labels: metadata.labels ?? {},
    object: item,
    apiVersion: String(item.apiVersion),
    ...(endpoint?.host && endpoint.port ? { endpoint: { host: endpoint.host, port: endpoint.port } } : {}),
  };
}

/**
 * The real directory (a watch as the gateway's service account), with two waits for the tests:
 * `refresh` until the watch agrees with a fresh list, and `credentialsChanged` until the watch
 * itself has reported that secret's change. Nothing is signalled by hand.
 */
function listedDirectory(): ListedDirectory {
  const custom = gatewayKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  const connection = createKubeConnection({ kubeConfig: gatewayKubeConfig() });
  // Both kinds of credential objects, since these tests run both modes on one directory (the
  // gateway itself watches only the kind its mode reads).
  const live = createCapiDirectory({ connection, caConfigMapSuffix: "-ca-public" });
  const history: CapiChange[] = [];
  live.onChange((change) => history.push(change));
  const seen = new Map<string, number>();
  async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the watch did not report ${what} within 15 s`);
  }
  async function listedVersions(): Promise<string> {
    const list = (await custom.listClusterCustomObject({
      group: "cluster.x-k8s.io",
      version: "v1beta2",
      plural: "clusters",
    })) as {
      items: KubeObject[];
    };
    return list.items
      .map(toCapiCluster)
      .map((cluster) => `${cluster.ref.namespace}/${cluster.ref.name}@${cluster.resourceVersion}`)
      .sort()
      .join(",");
  }
  return {
    ready: live.ready,
    list: () => live.list(),
    get: (ref) => live.get(ref),
    onChange: (listener) => live.onChange(listener),
    async close() {
      await live.close();
      await connection.close();
    },
    async refresh() {
      await until(async () => {
        const watched = live
          .list()
          .map((cluster) => `${cluster.ref.namespace}/${cluster.ref.name}@${cluster.resourceVersion}`)
          .sort()
          .join(",");
        return watched === (await listedVersions());
      }, "the current clusters");
    },
    async credentialsChanged(namespace, name) {
      const key = `${namespace}/${name}`;
      const count = () =>
        history.filter(
          (change) => change.type === "credentials-changed" && change.namespace === namespace && change.name === name,
        ).length;
      await until(() => count() > (seen.get(key) ?? 0), `a change of ${key}`);
      seen.set(key, count());
    },
  };
}

// ---------------------------------------------------------------------------------------------

function principalOf(idToken: () => string): Principal {
  const claims = jwtClaims(idToken()) as { sub: string; iss: string; email: string; groups: string[] };
  return {
    subject: claims.sub,
    issuer: claims.iss,
    username: claims.email,
    email: claims.email,
    emailVerified: true,
    groups: claims.groups,
    idTokenCustody: { currentIdToken: async () => idToken() },
  };
}

function userPrincipal(user: UserName): Principal {
  const set = tokens.get(user);
  if (!set) throw new Error(`no login for ${user}`);
  return principalOf(() => set.idToken);
}

function catalogsFor(mode: Mode, extra: { caSecretSuffix?: string; events?: CapiPoolEvent[] } = {}): CapiCatalogs {
  return createCapiCatalogs({
    directory,
    management: { kubeConfig: gatewayKubeConfig() },
    mode,
    ...(extra.caSecretSuffix === undefined ? {} : { caSecretSuffix: extra.caSecretSuffix }),
    pool: { maxEntries: 100, ttlMilliseconds: 300_000 },
    workload: { qps: 50, burst: 100, connectTimeoutMilliseconds: 3_000, requestTimeoutMilliseconds: 10_000 },
    visibilityCacheMilliseconds: 30_000,
    ...(extra.events ? { onPoolEvent: (event: CapiPoolEvent) => extra.events?.push(event) } : {}),
  });
}

async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
}

async function listIn(access: ClusterAccess, resource: string, namespace: string) {
  return access.list(await access.resolve({ resource }), { namespace, limit: 5 });
}

async function clusterIdentity(access: ClusterAccess): Promise<string | undefined> {
  const configMap = await access.get(await access.resolve({ resource: "configmaps" }), "cluster-identity", "default");
  return (configMap as { data?: Record<string, string> }).data?.cluster;
}

const configMaps: ApiResource = {
  group: "",
  version: "v1",
  resource: "configmaps",
  kind: "ConfigMap",
  singular: "configmap",
  shortNames: ["cm"],
  namespaced: true,
  verbs: ["get", "list", "create"],
  categories: [],
  subresources: [],
};

/**
 * Reads a marker config map without discovery first: not found, or forbidden, but always one
 * request whose URI (and so audit event) carries the marker.
 */
async function probe(access: ClusterAccess, namespace: string, marker: string): Promise<string> {
  return outcome(access.get(configMaps, marker, namespace));
}

/** Every ResponseComplete audit event of a cluster whose URI contains one of the markers, waiting for all. */
async function auditEventsFor(cluster: ClusterName, markers: readonly string[]): Promise<Map<string, AuditEvent[]>> {
  const found = new Map<string, AuditEvent[]>();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    found.clear();
    const text = await readFile(clusterInfo(info, cluster).auditLog, "utf8");
    for (const line of text.split("\n")) {
      const marker = markers.find((candidate) => line.includes(candidate));
      if (!marker) continue;
      const event = JSON.parse(line) as AuditEvent;
      if (event.stage !== "ResponseComplete") continue;
      found.set(marker, [...(found.get(marker) ?? []), event]);
    }
    if (markers.every((marker) => found.has(marker))) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return found;
}

/** All audit lines of every fleet cluster that mention the marker (none expected when no call was made). */
async function anyAuditLines(marker: string): Promise<string[]> {
  // Give the API servers' audit writers a moment, so "none" is not a race.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const files = [info.management.auditLog, ...info.workloadClusters.map((cluster) => cluster.auditLog)];
  const lines: string[] = [];
  for (const file of files)
    lines.push(...(await readFile(file, "utf8")).split("\n").filter((line) => line.includes(marker)));
  return lines;
}

const marker = (label: string) => `capi-e2e-${label}-${randomBytes(5).toString("hex")}`;

beforeAll(async () => {
  info = await fleetInfo();
  for (const user of ["alice", "bob", "carol"] as const) tokens.set(user, await loginAs(info, user));
  directory = listedDirectory();
  await directory.ready;
});

afterAll(async () => {
  await directory?.close();
});

describe.each(["impersonation", "sso-passthrough"] as const)("in %s mode", (mode) => {
  let catalogs: CapiCatalogs;
  beforeAll(() => {
    catalogs = catalogsFor(mode);
  });
  afterAll(async () => {
    await catalogs?.close();
  });

  it("shows alice, bob and carol different cluster lists, with each cluster's endpoint and Cluster API status", async () => {
    const names = async (user: UserName) =>
      (await catalogs.forPrincipal(userPrincipal(user)).list()).map((cluster) => cluster.name);
    expect(await names("alice")).toEqual(["management", "org-acme/dev"]);
    expect(await names("bob")).toEqual(["management", "org-acme/dev", "org-acme/prod"]);
    expect(await names("carol")).toEqual(["management", "org-globex/prod"]);
    const [, globex] = await catalogs.forPrincipal(userPrincipal("carol")).list();
    expect(globex).toMatchObject({
      name: "org-globex/prod",
      server: clusterInfo(info, "org-globex/prod").server,
      labels: { organization: "globex", environment: "prod" },
      phase: "Provisioned",
      clusterObject: { kind: "Cluster", metadata: { namespace: "org-globex", name: "prod" } },
    });
    expect(globex?.conditions?.map((condition) => condition.type)).toEqual(
      expect.arrayContaining(["Available", "ControlPlaneAvailable", "WorkersAvailable"]),
    );
  });

  it.each([
    // user, cluster, what, namespace, expected
    ["alice", "org-acme/dev", "pods", "web", "ok"],
    ["alice", "org-acme/dev", "secrets", "payments", "ok"],
    ["alice", "org-acme/dev", "pods", "kube-system", "forbidden"],
    ["alice", "org-acme/prod", "pods", "web", "cluster_not_found"],
    ["alice", "org-globex/prod", "pods", "web", "cluster_not_found"],
    ["bob", "org-acme/dev", "pods", "kube-system", "ok"],
    ["bob", "org-acme/dev", "secrets", "kube-system", "forbidden"],
    ["bob", "org-acme/prod", "secrets", "payments", "ok"],
    ["bob", "org-globex/prod", "pods", "web", "cluster_not_found"],
    ["carol", "org-globex/prod", "secrets", "kube-system", "ok"],
    ["carol", "org-acme/dev", "pods", "web", "cluster_not_found"],
  ] as const)("lets %s on %s list %s in %s: %s", async (user, cluster, resource, namespace, expected) => {
    const catalog = catalogs.forPrincipal(userPrincipal(user));
    expect(await outcome(catalog.access(cluster).then((access) => listIn(access, resource, namespace)))).toBe(expected);
  });

  it("lets each user write exactly where their RBAC allows (server-side dry run)", async () => {
    const write = async (user: UserName, cluster: string, namespace: string) => {
      const access = await catalogs.forPrincipal(userPrincipal(user)).access(cluster);
      const resource = await access.resolve({ resource: "configmaps" });
      return outcome(
        access.create(resource, { metadata: { name: marker("write") }, data: { a: "b" } }, { namespace, dryRun: true }),
      );
    };
    expect(await write("alice", "org-acme/dev", "web")).toBe("ok");
    expect(await write("bob", "org-acme/dev", "kube-system")).toBe("forbidden");
    expect(await write("bob", "org-acme/prod", "payments")).toBe("ok");
    expect(await write("carol", "org-globex/prod", "kube-system")).toBe("ok");
  });

  it("answers an unknown cluster exactly as one the user may not see", async () => {
    const catalog = catalogs.forPrincipal(userPrincipal("alice"));
    const forbidden = await failureOf(catalog.access("org-acme/prod"));
    const unknown = await failureOf(catalog.access("org-acme/nowhere"));
    expect(forbidden.code).toBe("cluster_not_found");
    expect(forbidden.message.replace("org-acme/prod", "X")).toBe(unknown.message.replace("org-acme/nowhere", "X"));
  });

  it("never confuses org-acme/prod with org-globex/prod, by full name or by each user's bare name", async () => {
    const bob = catalogs.forPrincipal(userPrincipal("bob"));
    const carol = catalogs.forPrincipal(userPrincipal("carol"));
    expect(await clusterIdentity(await bob.access("org-acme/prod"))).toBe("org-acme/prod");
    expect(await clusterIdentity(await bob.access("prod"))).toBe("org-acme/prod");
    expect(await clusterIdentity(await carol.access("org-globex/prod"))).toBe("org-globex/prod");
    expect(await clusterIdentity(await carol.access("prod"))).toBe("org-globex/prod");
    expect((await failureOf(catalogs.forPrincipal(userPrincipal("alice")).access("prod"))).code).toBe(
      "cluster_not_found",
    );
  });

  it("reaches each workload cluster as the user: the audit log shows whose request it was", async () => {
    const calls = [
      ["alice", "org-acme/dev", "web"],
      ["bob", "org-acme/prod", "payments"],
      ["carol", "org-globex/prod", "web"],
    ] as const;
    const markers = calls.map(([user]) => marker(`audit-${user}`));
    for (const [index, [user, cluster, namespace]] of calls.entries()) {
      const access = await catalogs.forPrincipal(userPrincipal(user)).access(cluster);
      expect(await probe(access, namespace, markers[index] ?? "")).toBe("not_found");
    }
    for (const [index, [user, cluster]] of calls.entries()) {
      const events = (await auditEventsFor(cluster, [markers[index] ?? ""])).get(markers[index] ?? "") ?? [];
      expect(events).toHaveLength(1);
      const [event] = events;
      const principal = userPrincipal(user);
      if (mode === "impersonation") {
        expect(event?.user.username).toBe("fleet-admin");
        expect(event?.impersonatedUser).toEqual({
          username: `${user}@example.com`,
          groups: [...principal.groups, "system:authenticated"],
          extra: { sub: [principal.subject], agent: ["capi-mcp"] },
        });
      } else {
        expect(event?.user.username).toBe(`${user}@example.com`);
        expect(event?.user.groups).toEqual(expect.arrayContaining([...principal.groups, "system:authenticated"]));
        expect(event?.impersonatedUser).toBeUndefined();
      }
    }
  });

  it("reaches the management cluster as the user too, never with the gateway's own rights", async () => {
    const alice = await catalogs.forPrincipal(userPrincipal("alice")).access("management");
    const clusters = await alice.resolve({ resource: "clusters.cluster.x-k8s.io" }).catch(() => undefined);
    if (mode === "sso-passthrough") {
      // Alice's own RBAC on the management cluster: her Cluster, not the others.
      expect(clusters).toBeDefined();
      if (!clusters) return;
      expect(await outcome(alice.get(clusters, "dev", "org-acme"))).toBe("ok");
      expect(await outcome(alice.get(clusters, "prod", "org-acme"))).toBe("forbidden");
      expect(await outcome(alice.get(clusters, "prod", "org-globex"))).toBe("forbidden");
    } else {
      // The fleet does not let the gateway's service account impersonate on the management
      // cluster, so every call is refused, although the service account itself may read every
      // Cluster: proof that the gateway never falls back to its own identity.
      const resource: ApiResource = {
        group: "cluster.x-k8s.io",
        version: "v1beta2",
        resource: "clusters",
        kind: "Cluster",
        singular: "cluster",
        shortNames: [],
        namespaced: true,
        verbs: ["get"],
        categories: [],
        subresources: [],
      };
      expect(await outcome(alice.get(resource, "dev", "org-acme"))).toBe("forbidden");
      expect(await outcome(alice.get(resource, "prod", "org-globex"))).toBe("forbidden");
    }
  });

  it("never uses one user's client for another over many interleaved concurrent calls", async () => {
    const events: CapiPoolEvent[] = [];
    const fresh = catalogsFor(mode, { events });
    try {
      const plan: { user: UserName; cluster: ClusterName; namespace: string; expected: string; marker: string }[] = [];
      const options: Record<UserName, { cluster: ClusterName; namespace: string; expected: string }[]> = {
        alice: [
          { cluster: "org-acme/dev", namespace: "web", expected: "not_found" },
          { cluster: "org-acme/dev", namespace: "kube-system", expected: "forbidden" },
        ],
        bob: [
          { cluster: "org-acme/dev", namespace: "kube-system", expected: "not_found" },
          { cluster: "org-acme/prod", namespace: "payments", expected: "not_found" },
        ],
        carol: [{ cluster: "org-globex/prod", namespace: "kube-system", expected: "not_found" }],
      };
      const users = ["alice", "bob", "carol"] as const;
      for (let index = 0; index < 60; index += 1) {
        const user = users[Math.floor(Math.random() * users.length)] ?? "alice";
        const choices = options[user];
        const choice = choices[Math.floor(Math.random() * choices.length)] ?? choices[0];
        if (!choice) continue;
        plan.push({ user, ...choice, marker: marker(`mix-${index}`) });
      }
      const results = await Promise.all(
        plan.map(async (call) => {
          // Random small delays interleave cache misses, builds and hits across users.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
          const access = await fresh.forPrincipal(userPrincipal(call.user)).access(call.cluster);
          return probe(access, call.namespace, call.marker);
        }),
      );
      expect(results).toEqual(plan.map((call) => call.expected));
      const pairs = new Set(plan.map((call) => `${call.user} ${call.cluster}`));
      expect(events.filter((event) => event.type === "miss")).toHaveLength(pairs.size);
      expect(fresh.poolSize).toBe(pairs.size);
      for (const cluster of new Set(plan.map((call) => call.cluster))) {
        const calls = plan.filter((call) => call.cluster === cluster);
        const audit = await auditEventsFor(
          cluster,
          calls.map((call) => call.marker),
        );
        for (const call of calls) {
          const [event, ...more] = audit.get(call.marker) ?? [];
          expect(more).toEqual([]);
          const seen = mode === "impersonation" ? event?.impersonatedUser?.username : event?.user.username;
          expect(seen, `${call.marker} on ${cluster}`).toBe(`${call.user}@example.com`);
        }
      }
    } finally {
      await fresh.close();
    }
  });
});

describe("no fallback", () => {
  it("in SSO mode, fails without an ID token and makes no request at all", async () => {
    const catalogs = catalogsFor("sso-passthrough");
    try {
      const tag = marker("no-token");
      const withoutToken: Principal = { ...userPrincipal("bob"), idTokenCustody: undefined };
      const failure = await failureOf(
        catalogs
          .forPrincipal(withoutToken)
          .access("org-acme/dev")
          .then((access) => probe(access, "web", tag)),
      );
      expect(failure.code).toBe("unauthenticated");
      expect(failure.message).not.toContain("bob");
      expect(catalogs.poolSize).toBe(0);
      expect(await anyAuditLines(tag)).toEqual([]);
    } finally {
      await catalogs.close();
    }
  });

  it("in SSO mode, fails on a cluster without a CA and makes no request to it", async () => {
    const catalogs = catalogsFor("sso-passthrough", { caSecretSuffix: "-no-such-ca" });
    try {
      const failure = await failureOf(catalogs.forPrincipal(userPrincipal("bob")).access("org-acme/dev"));
      expect(failure.code).toBe("unavailable");
      expect(failure.message).toContain("CA certificate");
      expect(catalogs.poolSize).toBe(0);
    } finally {
      await catalogs.close();
    }
  });

  it("in SSO mode, a token the API server rejects fails with 401 and is never replaced by impersonation", async () => {
    const other = await loginAs(info, "bob", { client: info.oidc.otherClient });
    const events: CapiPoolEvent[] = [];
    const catalogs = catalogsFor("sso-passthrough", { events });
    try {
      const tag = marker("rejected");
      const access = await catalogs.forPrincipal(principalOf(() => other.idToken)).access("org-acme/dev");
      expect(await probe(access, "web", tag)).toBe("unauthenticated");
      // 401 evicts the client (covered again below); no request reached the cluster as anyone else.
      expect(events).toContainEqual({ type: "eviction", reason: "unauthorized" });
      const lines = await anyAuditLines(tag);
      expect(lines.filter((line) => line.includes("impersonatedUser") || line.includes("fleet-admin"))).toEqual([]);
    } finally {
      await catalogs.close();
    }
  });

  it("in impersonation mode, every request is impersonated and the user's token is never asked for", async () => {
    const catalogs = catalogsFor("impersonation");
    try {
      let custodyCalls = 0;
      const bob: Principal = {
        ...userPrincipal("bob"),
        idTokenCustody: {
          currentIdToken: async () => {
            custodyCalls += 1;
            return tokens.get("bob")?.idToken ?? "";
          },
        },
      };
      const tag = marker("impersonated");
      const access = await catalogs.forPrincipal(bob).access("org-acme/prod");
      expect(await probe(access, "payments", tag)).toBe("not_found");
      expect(await listIn(access, "pods", "web")).toBeDefined();
      expect(custodyCalls).toBe(0);
      const events = (await auditEventsFor("org-acme/prod", [tag])).get(tag) ?? [];
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((event) => event.impersonatedUser?.username === "bob@example.com")).toBe(true);
      expect(events.every((event) => event.user.username !== "bob@example.com")).toBe(true);
    } finally {
      await catalogs.close();
    }
  });
});

describe("cache invalidation on a cluster's lifecycle", () => {
  const name = `e2e-${randomBytes(4).toString("hex")}`;
  const namespace = "org-acme";
  const created: string[] = [];

  async function admin() {
    return fleetAdminClient(info, "management");
  }

  async function secretData(secret: string): Promise<Record<string, string>> {
    const client = await admin();
    try {
      return (
        await client.expectOk<{ data: Record<string, string> }>(
          "GET",
          `/api/v1/namespaces/${namespace}/secrets/${secret}`,
        )
      ).data;
    } finally {
      client.close();
    }
  }

  async function putSecret(secret: string, data: Record<string, string>): Promise<void> {
    const client = await admin();
    try {
      const path = `/api/v1/namespaces/${namespace}/secrets/${secret}`;
      await client.apply(path, { apiVersion: "v1", kind: "Secret", metadata: { name: secret, namespace }, data });
      created.push(path);
    } finally {
      client.close();
    }
  }

  async function configMapData(configMap: string): Promise<Record<string, string>> {
    const client = await admin();
    try {
      return (
        await client.expectOk<{ data: Record<string, string> }>(
          "GET",
          `/api/v1/namespaces/${namespace}/configmaps/${configMap}`,
        )
      ).data;
    } finally {
      client.close();
    }
  }

  async function putConfigMap(configMap: string, data: Record<string, string>): Promise<void> {
    const client = await admin();
    try {
      const path = `/api/v1/namespaces/${namespace}/configmaps/${configMap}`;
      await client.apply(path, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: configMap, namespace }, data });
      created.push(path);
    } finally {
      client.close();
    }
  }

  async function putCluster(port: number): Promise<void> {
    const client = await admin();
    try {
      const path = `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/clusters/${name}`;
      await client.apply(path, {
        apiVersion: "cluster.x-k8s.io/v1beta2",
        kind: "Cluster",
        metadata: { name, namespace, labels: { organization: "acme", environment: "e2e" } },
        spec: { controlPlaneEndpoint: { host: "127.0.0.1", port } },
      });
      created.push(path);
    } finally {
      client.close();
    }
  }

  function portOf(cluster: ClusterName): number {
    return Number(new URL(clusterInfo(info, cluster).server).port);
  }

  beforeAll(async () => {
    // A temporary Cluster pointing at org-acme/dev, with copies of its secrets, that bob may use.
    await putSecret(`${name}-kubeconfig`, await secretData("dev-kubeconfig"));
    await putConfigMap(`${name}-ca-public`, await configMapData("dev-ca-public"));
    const client = await admin();
    try {
      const role = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles/${name}`;
      await client.apply(role, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name, namespace },
        rules: [
          { apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["get"], resourceNames: [name] },
          { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: [`${name}-kubeconfig`] },
        ],
      });
      created.push(role);
      const binding = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings/${name}`;
      await client.apply(binding, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "acme-ops" }],
      });
      created.push(binding);
    } finally {
      client.close();
    }
  });

  afterAll(async () => {
    const client = await admin();
    try {
      for (const path of [...new Set(created)].reverse()) await client.request("DELETE", path);
    } finally {
      client.close();
    }
    await directory.refresh();
  });

  it("in impersonation mode, follows a kubeconfig rotation and drops the clients of a deleted cluster", async () => {
    await putCluster(portOf("org-acme/dev"));
    await directory.refresh();
    const events: CapiPoolEvent[] = [];
    const catalogs = catalogsFor("impersonation", { events });
    try {
      const bob = catalogs.forPrincipal(userPrincipal("bob"));
      const target = `${namespace}/${name}`;
      expect(await clusterIdentity(await bob.access(target))).toBe("org-acme/dev");
      expect(await clusterIdentity(await bob.access(target))).toBe("org-acme/dev");
      expect(events.filter((event) => event.type === "miss")).toHaveLength(1);

      // Rotation: the secret now holds org-acme/prod's kubeconfig. Without invalidation the
      // pooled client would keep talking to org-acme/dev.
      await putSecret(`${name}-kubeconfig`, await secretData("prod-kubeconfig"));
      await directory.credentialsChanged(namespace, `${name}-kubeconfig`);
      expect(events).toContainEqual({ type: "eviction", reason: "credentials-changed" });
      expect(catalogs.poolSize).toBe(0);
      expect(await clusterIdentity(await bob.access(target))).toBe("org-acme/prod");

      const client = await admin();
      try {
        await client.expectOk("DELETE", `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/clusters/${name}`);
      } finally {
        client.close();
      }
      await directory.refresh();
      expect(events).toContainEqual({ type: "eviction", reason: "cluster-deleted" });
      expect(catalogs.poolSize).toBe(0);
      expect((await failureOf(bob.access(target))).code).toBe("cluster_not_found");
    } finally {
      await catalogs.close();
      await putSecret(`${name}-kubeconfig`, await secretData("dev-kubeconfig"));
    }
  });

  it("in SSO mode, follows a moved control plane and a new CA ConfigMap, and drops a client on 401", async () => {
    await putConfigMap(`${name}-ca-public`, await configMapData("dev-ca-public"));
    await putCluster(portOf("org-acme/dev"));
    await directory.refresh();
    const events: CapiPoolEvent[] = [];
    const catalogs = catalogsFor("sso-passthrough", { events });
    try {
      const target = `${namespace}/${name}`;
      const bob = catalogs.forPrincipal(userPrincipal("bob"));
      expect(await clusterIdentity(await bob.access(target))).toBe("org-acme/dev");

      await putConfigMap(`${name}-ca-public`, await configMapData("prod-ca-public"));
      await directory.credentialsChanged(namespace, `${name}-ca-public`);
      await putCluster(portOf("org-acme/prod"));
      await directory.refresh();
      expect(events.filter((event) => event.type === "eviction")).toEqual([
        { type: "eviction", reason: "credentials-changed" },
      ]);
      expect(await clusterIdentity(await bob.access(target))).toBe("org-acme/prod");

      // A token the API server rejects (issued to another client): 401 drops that client.
      const other = await loginAs(info, "bob", { client: info.oidc.otherClient });
      const rejected = await catalogs.forPrincipal(principalOf(() => other.idToken)).access(target);
      const before = catalogs.poolSize;
      expect((await failureOf(clusterIdentity(rejected))).code).toBe("unauthenticated");
      expect(events.at(-1)).toEqual({ type: "eviction", reason: "unauthorized" });
      expect(catalogs.poolSize).toBe(before - 1);
      // Bob's own client is untouched.
      expect(await clusterIdentity(await bob.access(target))).toBe("org-acme/prod");
    } finally {
      await catalogs.close();
    }
  });
});
