// packages/kube's security model on real API servers: whose credentials a call carries (the
// kubeconfig user, an impersonated user, a user's own ID token), what the caller is told when
// the API server says no (never who they are), and one reused connection per client.
import { randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { GatewayError } from "@capi-mcp/core";
import { createClusterAccess, createKubeConnection } from "@capi-mcp/kube";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { loginAs, type TokenSet } from "../fleet/login.ts";
import {
  auditEventsMatching,
  createAccessFactory,
  failureOf,
  fleetInfo,
  kubeConfigFor,
} from "../fleet/test-context.ts";

let info: FleetInfo;
let alice: TokenSet;
const clusters = createAccessFactory();
const accessTo = clusters.accessTo;

beforeAll(async () => {
  info = await fleetInfo();
  alice = await loginAs(info, "alice");
});

afterAll(async () => {
  await clusters.closeAll();
});

const aliceImpersonated = { user: "alice@example.com", groups: ["acme-dev"] };

function expectNoIdentity(error: GatewayError): void {
  expect(error.message).not.toContain("alice");
  expect(error.message).not.toContain("acme-dev");
  expect(error.message).not.toContain("system:authenticated");
  expect(error.message).not.toMatch(/User "/);
}

describe("Forbidden, as a restricted user", () => {
  it("names the verb, resource, namespace and cluster, never alice's name or groups (her own ID token)", async () => {
    const access = await accessTo("org-acme/dev", { bearerToken: alice.idToken });
    const pods = await access.resolve({ resource: "pods" });
    expect((await access.list(pods, { namespace: "web" })).items.length).toBeGreaterThan(0);
    const error = await failureOf(access.list(pods, { namespace: "kube-system" }));
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe("Forbidden: you may not list pods in namespace kube-system on cluster org-acme/dev.");
    expectNoIdentity(error);
  });

  it("does the same through impersonation with the admin's credentials", async () => {
    const access = await accessTo("org-acme/prod", { impersonate: aliceImpersonated });
    const secrets = await access.resolve({ resource: "secrets" });
    const error = await failureOf(access.get(secrets, "db-credentials", "payments"));
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe(
      'Forbidden: you may not get secrets "db-credentials" in namespace payments on cluster org-acme/prod.',
    );
    expectNoIdentity(error);
    const configMaps = await access.resolve({ resource: "cm" });
    const create = await failureOf(
      access.create(configMaps, { metadata: { name: "nope" }, data: {} }, { dryRun: true, namespace: "web" }),
    );
    expect(create.code).toBe("forbidden");
    expect(create.message).toContain("you may not create configmaps");
    expectNoIdentity(create);
  });
});

describe("the identity a call carries", () => {
  it("sends Impersonate-User, each group and escaped extras, which the workload cluster's audit log records", async () => {
    const marker = `kube-impersonation-${randomBytes(6).toString("hex")}`;
    const access = await accessTo("org-acme/dev", {
      impersonate: {
        ...aliceImpersonated,
        groups: ["acme-dev", "acme-readers"],
        extra: { "capi-mcp.io/Session": ["session-1"], reason: ["audit probe", "second value"] },
      },
    });
    const configMaps = await access.resolve({ resource: "cm" });
    expect((await failureOf(access.get(configMaps, marker, "web"))).code).toBe("not_found");
    const events = await auditEventsMatching(info, "org-acme/dev", marker);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.user.username).toBe("fleet-admin");
    expect(event?.impersonatedUser?.username).toBe("alice@example.com");
    expect(event?.impersonatedUser?.groups).toEqual(expect.arrayContaining(["acme-dev", "acme-readers"]));
    expect(event?.impersonatedUser?.extra).toEqual({
      "capi-mcp.io/session": ["session-1"],
      reason: ["audit probe", "second value"],
    });
  });

  it("authenticates with a user's own bearer token instead of the kubeconfig's client certificate", async () => {
    const access = await accessTo("org-acme/dev", { bearerToken: alice.idToken });
    const marker = `kube-bearer-${randomBytes(6).toString("hex")}`;
    const configMaps = await access.resolve({ resource: "cm" });
    await failureOf(access.get(configMaps, marker, "web"));
    const [event] = await auditEventsMatching(info, "org-acme/dev", marker);
    expect(event?.user.username).toBe("alice@example.com");
    expect(event?.impersonatedUser).toBeUndefined();
  });

  it("reports a refused token as unauthenticated without echoing it", async () => {
    const token = `not-a-token-${randomBytes(8).toString("hex")}`;
    const access = await accessTo("org-acme/dev", { bearerToken: token });
    const error = await failureOf(access.listApiResources());
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toContain("org-acme/dev");
    expect(`${error.message} ${error.detail ?? ""}`).not.toContain(token);
  });
});

describe("access reviews", () => {
  it("answers canI as the calling user, without naming the groups in the reason", async () => {
    const access = await accessTo("org-acme/dev", { impersonate: aliceImpersonated });
    const allowed = await access.canI({ verb: "list", group: "", resource: "pods", namespace: "web" });
    expect(allowed.allowed).toBe(true);
    expect(allowed.reason ?? "").not.toContain("acme-dev");
    expect(await access.canI({ verb: "list", group: "", resource: "pods", namespace: "kube-system" })).toMatchObject({
      allowed: false,
    });
    expect(
      (await access.canI({ verb: "create", group: "", resource: "pods", subresource: "exec", namespace: "web" }))
        .allowed,
    ).toBe(true);
    const admin = await accessTo("org-acme/dev");
    expect((await admin.canI({ verb: "list", group: "", resource: "secrets", namespace: "kube-system" })).allowed).toBe(
      true,
    );
  });
});

describe("health", () => {
  it("reports readiness checks, the version and node readiness for a user who may list nodes", async () => {
    const health = await (await accessTo("org-acme/prod")).health();
    expect(health.reachable).toBe(true);
    expect(health.version).toBe("v1.20.2");
    expect(health.checks).toEqual(
      expect.arrayContaining([
        { name: "etcd", ok: true },
        { name: "ping", ok: true },
      ]),
    );
    expect(health.nodes).toEqual({ total: 1, ready: 1 });
  });

  it("omits the node summary for a user who may not list nodes", async () => {
    const health = await (await accessTo("org-acme/dev", { impersonate: aliceImpersonated })).health();
    expect(health.reachable).toBe(true);
    expect(health.checks.length).toBeGreaterThan(0);
    expect(health.nodes).toBeUndefined();
  });

  it("answers reachable: false, in bounded time, for a cluster nobody listens for", async () => {
    const config = await kubeConfigFor(info, "org-acme/dev");
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error("no cluster in the admin kubeconfig");
    const unreachable = new k8s.KubeConfig();
    unreachable.loadFromOptions({
      clusters: [{ ...cluster, server: "https://127.0.0.1:1" }],
      users: config.users,
      contexts: [{ name: "gone", cluster: cluster.name, user: config.getCurrentUser()?.name ?? "" }],
      currentContext: "gone",
    });
    const connection = createKubeConnection({ kubeConfig: unreachable });
    try {
      const access = createClusterAccess(connection, { clusterName: "org-acme/gone" });
      const started = performance.now();
      const health = await access.health();
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(health).toMatchObject({ reachable: false, checks: [] });
      expect(health.error).toBe("Cluster org-acme/gone is unreachable.");
      const error = await failureOf(access.listApiResources());
      expect(error.code).toBe("unavailable");
      expect(error.message).toBe("Cluster org-acme/gone is unreachable.");
    } finally {
      await connection.close();
    }
  });
});

describe("one connection per client", () => {
  it("reuses one keep-alive connection for many sequential reads, faster than client-node's per-request pool", async () => {
    let connects = 0;
    const onConnect = () => {
      connects += 1;
    };
    const access = await accessTo("org-acme/dev", {}, { qps: 10_000, burst: 10_000 });
    const deployments = await access.resolve({ resource: "deploy" });
    subscribe("undici:client:connected", onConnect);
    const ours: number[] = [];
    try {
      for (let index = 0; index < 200; index += 1) {
        const started = performance.now();
        await access.get(deployments, "frontend", "web");
        ours.push(performance.now() - started);
      }
    } finally {
      unsubscribe("undici:client:connected", onConnect);
    }
    expect(connects).toBeLessThanOrEqual(1);

    const apps = (await kubeConfigFor(info, "org-acme/dev")).makeApiClient(k8s.AppsV1Api);
    const theirs: number[] = [];
    for (let index = 0; index < 100; index += 1) {
      const started = performance.now();
      await apps.readNamespacedDeployment({ namespace: "web", name: "frontend" });
      theirs.push(performance.now() - started);
    }
    const median = (values: number[]) =>
      [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] ?? 0;
    expect(median(ours)).toBeLessThan(median(theirs));
  });

  it("holds callers to the QPS limit, queueing rather than dropping them", async () => {
    const access = await accessTo("org-acme/dev", {}, { qps: 5, burst: 2 });
    const deployments = await access.resolve({ resource: "deploy" });
    const started = performance.now();
    // Discovery took one token; 2 reads more use the burst, the last 5 wait 200 ms each.
    const results = await Promise.all(Array.from({ length: 7 }, () => access.get(deployments, "frontend", "web")));
    expect(results).toHaveLength(7);
    expect(performance.now() - started).toBeGreaterThan(900);
  });
});
