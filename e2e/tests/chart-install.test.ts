// The chart, installed for real: `helm install` of charts/capi-mcp into the fleet's management
// cluster, then the gateway run as the installed pod would run it (e2e/gateway/as-pod.ts: its
// ServiceAccount's own token from a TokenRequest, the config, secrets and args read back from the
// installed ConfigMap, Secret and Deployment at the paths the Deployment mounts, in a private
// mount namespace, as uid 1000 with a read-only root, --in-cluster). The only overrides are the
// loopback listen addresses. In both modes it serves the fleet's Clusters as the user; each RBAC
// rule the chart grants is removed in turn to show what breaks without it; `helm upgrade` moves
// from impersonation to SSO passthrough; `helm uninstall` leaves nothing the chart made.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { helmBinary } from "../fleet/helm-kubectl.ts";
import type { KubeRestClient } from "../fleet/kube-rest.ts";
import { freePorts } from "../fleet/processes.ts";
import { auditEventsMatching, fleetInfo } from "../fleet/test-context.ts";
import {
  containerEnvironment,
  type Deployment,
  materializeVolumes,
  type PodFilesystem,
  type PodProcess,
  startPodProcess,
} from "../gateway/as-pod.ts";
import { resultText } from "../gateway/harness.ts";
import { type LoggedInClient, loginThroughGateway, type OAuthGateway } from "../gateway/oauth-flow.ts";

const run = promisify(execFile);
const chart = new URL("../../charts/capi-mcp", import.meta.url).pathname;
const release = "e2e-install";
const fullname = `${release}-capi-mcp`;
const clusterNamespaces = ["org-acme", "org-globex"] as const;

let info: FleetInfo;
let admin: KubeRestClient;
let scratch: string;
let namespace: string;
let serviceAccountUser: string;
/** Objects this test made beside the chart (namespace content it must remove itself). */
const ownObjects: string[] = [];

type Mode = "impersonation" | "sso-passthrough";

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

async function helm(...args: string[]): Promise<string> {
  const home = path.join(scratch, "helm-home");
  const { stdout } = await run(helmBinary(), [...args, "--kubeconfig", info.management.kubeconfig], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      HELM_CACHE_HOME: path.join(home, "cache"),
      HELM_CONFIG_HOME: path.join(home, "config"),
      HELM_DATA_HOME: path.join(home, "data"),
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** The values a platform team would write for this fleet: its OpenID provider with a private CA. */
async function valuesFile(mode: Mode): Promise<string> {
  const file = path.join(scratch, `values-${mode}.yaml`);
  await writeFile(
    file,
    stringify({
      mcpKubernetes: {
        oauth: {
          baseURL: `http://127.0.0.1:${info.gateway.port}`,
          provider: "oidc",
          oidc: {
            issuerURL: info.oidc.issuer,
            clientID: info.oidc.gatewayClient.clientId,
            clientSecret: (await readFile(info.oidc.gatewayClient.clientSecretFile, "utf8")).trim(),
            caSecret: { name: "fleet-oidc-ca", key: "ca.crt" },
          },
          registrationAccessToken: randomBytes(24).toString("base64url"),
        },
      },
      capiMode: {
        workloadClusterAuth: { mode },
        rbac: { allowedNamespaces: [...clusterNamespaces] },
      },
    }),
    { mode: 0o600 },
  );
  return file;
}

async function issueToken(serviceAccount: string, expirationSeconds: number, audience?: string): Promise<string> {
  const answer = await admin.expectOk<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds, ...(audience ? { audiences: [audience] } : {}) },
    },
  );
  return answer.status.token;
}

interface RunningPod {
  readonly gateway: OAuthGateway;
  readonly pod: PodProcess;
  readonly filesystem: PodFilesystem;
  readonly ready: boolean;
  readonly users: Map<string, LoggedInClient>;
  stop(): Promise<void>;
}

let podCount = 0;

/** A fresh pod of the installed Deployment, as the kubelet would start it; users logged in on demand. */
async function startInstalledPod(): Promise<RunningPod> {
  const deployment = await admin.expectOk<Deployment>(
    "GET",
    `/apis/apps/v1/namespaces/${namespace}/deployments/${fullname}`,
  );
  podCount += 1;
  const podName = `${fullname}-pod-${podCount}`;
  const staging = await mkdtemp(path.join(scratch, "pod-"));
  const filesystem = await materializeVolumes(admin, deployment, staging, issueToken, podName);
  const management = new URL(info.management.server);
  const [metricsPort] = await freePorts(1);
  const pod = startPodProcess({
    deployment,
    filesystem,
    staging,
    environment: {
      ...containerEnvironment(deployment, podName),
      KUBERNETES_SERVICE_HOST: management.hostname,
      KUBERNETES_SERVICE_PORT: management.port,
    },
    extraArguments: ["--http-addr", `127.0.0.1:${info.gateway.port}`, "--metrics-addr", `127.0.0.1:${metricsPort}`],
  });
  const base = `http://127.0.0.1:${info.gateway.port}`;
  const status = async (route: string) => (await fetch(`${base}${route}`).catch(() => undefined))?.status;
  const deadline = Date.now() + 30_000;
  while ((await status("/healthz")) !== 200) {
    if (pod.process.exitCode !== null || Date.now() > deadline) {
      await pod.stop();
      throw new Error(`the pod's gateway did not come up (exit ${pod.process.exitCode}): ${pod.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let ready = false;
  for (const until = Date.now() + 8_000; Date.now() < until && !ready; ) {
    ready = (await status("/readyz")) === 200;
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // What the pod itself reads: the config file its args name, and the files that config names.
  const args = deployment.spec.template.spec.containers[0]?.args ?? [];
  const configPath = args[args.indexOf("--config") + 1] ?? "";
  const config = parse(await readFile(filesystem.hostPathOf(configPath), "utf8")) as Record<string, string>;
  const registrationToken = (
    await readFile(filesystem.hostPathOf(String(config.registrationTokenFile)), "utf8")
  ).trim();
  const gateway: OAuthGateway = {
    endpoint: `${base}${config.httpEndpoint ?? "/mcp"}`,
    baseUrl: String(config.oauthBaseUrl),
    registrationToken,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    auditFile: "",
    process: pod.process,
    stderr: pod.stderr,
    auditRecords: async () => [],
    stop: pod.stop,
  };
  const users = new Map<string, LoggedInClient>();
  return {
    gateway,
    pod,
    filesystem,
    ready,
    users,
    async stop() {
      for (const user of users.values()) await user.close().catch(() => undefined);
      await pod.stop();
      await rm(staging, { recursive: true, force: true });
    },
  };
}

async function as(running: RunningPod, userName: string): Promise<LoggedInClient> {
  let user = running.users.get(userName);
  if (!user) {
    user = await loginThroughGateway(info, running.gateway, userName);
    running.users.set(userName, user);
  }
  return user;
}

async function call(running: RunningPod, userName: string, name: string, args: Record<string, unknown>) {
  const result = await (await as(running, userName)).client.callTool({ name, arguments: args });
  return { text: resultText(result), isError: result.isError === true };
}

async function visibleClusters(running: RunningPod, userName: string): Promise<string[]> {
  const { text } = await call(running, userName, "capi_list_clusters", {});
  return [...text.matchAll(/^(org-[a-z]+\/[a-z-]+)\s/gm)].map((match) => match[1] ?? "").sort();
}

/** A real read on a workload cluster whose request URI carries a marker, to find its audit event. */
async function markedRead(running: RunningPod, userName: string, cluster: string, inNamespace: string) {
  const marker = `install-${randomBytes(4).toString("hex")}`;
  const answer = await call(running, userName, "k8s_get_resource", {
    cluster,
    resource: "configmap",
    name: marker,
    namespace: inNamespace,
  });
  return { marker, ...answer };
}

async function expectServedAsUser(running: RunningPod, mode: Mode, userName: string, cluster: string, ns: string) {
  const read = await markedRead(running, userName, cluster, ns);
  expect(read.text, read.text).toMatch(/^Not found/);
  const events = await auditEventsMatching(info, cluster as "org-acme/dev", read.marker);
  expect(events.length).toBeGreaterThan(0);
  const email = `${userName}@example.com`;
  for (const event of events) {
    if (mode === "impersonation") {
      expect(event.impersonatedUser?.username).toBe(email);
      expect(event.user.username).not.toBe(email);
    } else {
      expect(event.user.username).toBe(email);
      expect(event.impersonatedUser).toBeUndefined();
    }
  }
}

/** Requests the chart's ServiceAccount made on the management cluster, from its audit log. */
async function serviceAccountRequests(
  since: number,
): Promise<{ verb: string; resource: string; namespace?: string }[]> {
  const lines = (await readFile(info.management.auditLog, "utf8")).split("\n").filter(Boolean);
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter(
      (event) =>
        (event.user as { username?: string } | undefined)?.username === serviceAccountUser &&
        event.stage === "ResponseComplete" &&
        Date.parse(String(event.requestReceivedTimestamp)) >= since,
    )
    .map((event) => {
      const ref = (event.objectRef ?? {}) as { resource?: string; namespace?: string };
      return {
        verb: String(event.verb),
        resource: ref.resource ?? "",
        ...(ref.namespace ? { namespace: ref.namespace } : {}),
      };
    });
}

const roleUrl = (inNamespace: string) =>
  `/apis/rbac.authorization.k8s.io/v1/namespaces/${inNamespace}/roles/${fullname}`;
const clusterRoleUrl = `/apis/rbac.authorization.k8s.io/v1/clusterroles/${fullname}`;

async function rulesOf(url: string): Promise<Rule[]> {
  return (await admin.expectOk<{ rules: Rule[] }>("GET", url)).rules;
}

const ruleName = (rule: Rule) => `${rule.apiGroups.join(",") || "core"}/${rule.resources.join(",")}`;

interface RbacObject {
  readonly kind: string;
  readonly rules: Rule[];
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly managedFields?: { manager: string; fieldsV1?: Record<string, unknown> }[];
  };
}

const minimalityManager = "e2e-rbac-minimality";

/** Removes one rule, runs `body`, and restores the rules exactly, owned by helm's field manager again. */
async function withoutRule(url: string, rule: Rule, body: () => Promise<void>): Promise<void> {
  const original = await admin.expectOk<RbacObject>("GET", url);
  // Whoever wrote the rules (helm), so that a later `helm upgrade` owns them as before.
  const owner = original.metadata.managedFields?.find(
    (entry) => entry.manager !== minimalityManager && entry.fieldsV1 && "f:rules" in entry.fieldsV1,
  )?.manager;
  if (!owner) throw new Error(`${url}: no field manager owns its rules`);
  const kept = original.rules.filter((candidate) => ruleName(candidate) !== ruleName(rule));
  expect(kept.length).toBe(original.rules.length - 1);
  await admin.expectOk(
    "PATCH",
    `${url}?fieldManager=${minimalityManager}`,
    [{ op: "replace", path: "/rules", value: kept }],
    "application/json-patch+json",
  );
  try {
    await body();
  } finally {
    const { name, namespace: inNamespace, labels, annotations } = original.metadata;
    await admin.expectOk(
      "PATCH",
      `${url}?fieldManager=${encodeURIComponent(owner)}&force=true`,
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: original.kind,
        metadata: {
          name,
          ...(inNamespace ? { namespace: inNamespace } : {}),
          ...(labels ? { labels } : {}),
          ...(annotations ? { annotations } : {}),
        },
        rules: original.rules,
      },
      "application/apply-patch+yaml",
    );
    expect(await rulesOf(url)).toEqual(original.rules);
  }
}

/**
 * What breaks without each rule the chart grants, per mode: the gateway is started afresh with
 * the rule gone (in org-acme only, for the namespaced rules, so org-globex is the control).
 */
function breakageChecks(mode: Mode): Record<string, (running: RunningPod) => Promise<void>> {
  return {
    // Per-user visibility asks the management cluster; refused, it fails closed: nobody sees anything.
    "authorization.k8s.io/subjectaccessreviews": async (running) => {
      for (const user of ["bob", "carol"]) {
        const listing = await call(running, user, "capi_list_clusters", {});
        expect(listing.isError, listing.text).toBe(true);
        expect(listing.text).toContain("The gateway may not create subjectaccessreviews on the management cluster");
        expect(listing.text).not.toMatch(/org-(acme|globex)\//);
      }
      const refused = await markedRead(running, "bob", "org-acme/dev", "web");
      expect(refused.isError).toBe(true);
      expect(refused.text).toContain("its service account lacks that RBAC rule");
      expect(await auditEventsMatching(info, "org-acme/dev", refused.marker)).toEqual([]);
    },
    // Without get/list/watch on clusters in org-acme, the directory never loads: the pod is never
    // Ready (/readyz 503), every call is refused, even for org-globex, and the log says why once.
    "cluster.x-k8s.io/clusters": async (running) => {
      expect(running.ready).toBe(false);
      const listing = await call(running, "carol", "capi_list_clusters", {});
      expect(listing.isError).toBe(true);
      expect(listing.text).toContain("The gateway has not loaded the Cluster API clusters from the management cluster");
      const refused = await markedRead(running, "carol", "org-globex/prod", "default");
      expect(refused.isError).toBe(true);
      expect(await auditEventsMatching(info, "org-globex/prod", refused.marker)).toEqual([]);
      const warnings = running.pod
        .stderr()
        .split("\n")
        .filter((line) => line.includes("watching clusters (/apis/cluster.x-k8s.io/"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/namespaces\/org-acme\/clusters\) list failed: .*403/);
    },
    // Impersonation without secrets in org-acme: the Cluster is seen, but no client can be built
    // (its kubeconfig Secret cannot be read), and no call reaches the workload cluster.
    "core/secrets": async (running) => {
      expect(await visibleClusters(running, "bob")).toEqual(["org-acme/dev", "org-acme/prod"]);
      const refused = await markedRead(running, "bob", "org-acme/dev", "web");
      expect(refused.isError).toBe(true);
      expect(refused.text).toContain("The gateway may not get secrets in namespace org-acme on the management cluster");
      expect(await auditEventsMatching(info, "org-acme/dev", refused.marker)).toEqual([]);
      await expectServedAsUser(running, mode, "carol", "org-globex/prod", "default");
    },
    // SSO passthrough without configmaps in org-acme: no CA to trust, so no call is made.
    "core/configmaps": async (running) => {
      expect(await visibleClusters(running, "bob")).toEqual(["org-acme/dev", "org-acme/prod"]);
      const refused = await markedRead(running, "bob", "org-acme/dev", "web");
      expect(refused.isError).toBe(true);
      expect(refused.text).toContain(
        "The gateway may not get configmaps in namespace org-acme on the management cluster",
      );
      expect(await auditEventsMatching(info, "org-acme/dev", refused.marker)).toEqual([]);
      await expectServedAsUser(running, mode, "carol", "org-globex/prod", "default");
    },
  };
}

async function expectRbacMinimal(mode: Mode): Promise<void> {
  const checks = breakageChecks(mode);
  const granted: [string, Rule][] = [
    ...(await rulesOf(clusterRoleUrl)).map((rule) => [clusterRoleUrl, rule] as [string, Rule]),
    ...(await rulesOf(roleUrl("org-acme"))).map((rule) => [roleUrl("org-acme"), rule] as [string, Rule]),
  ];
  for (const [url, rule] of granted) {
    const check = checks[ruleName(rule)];
    if (!check)
      throw new Error(`the chart grants ${ruleName(rule)} (${url}) and this test names nothing that breaks without it`);
    await withoutRule(url, rule, async () => {
      const running = await startInstalledPod();
      try {
        await check(running);
      } catch (error) {
        throw new Error(
          `without ${ruleName(rule)}: ${error instanceof Error ? error.message : String(error)}\n${running.pod.stderr().slice(-3000)}`,
        );
      } finally {
        await running.stop();
      }
    });
  }
}

interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

const plural: Record<string, string> = {
  ServiceAccount: "serviceaccounts",
  Secret: "secrets",
  ConfigMap: "configmaps",
  Service: "services",
  Deployment: "deployments",
  ClusterRole: "clusterroles",
  ClusterRoleBinding: "clusterrolebindings",
  Role: "roles",
  RoleBinding: "rolebindings",
};

function objectUrl(object: RenderedObject): string {
  const resource = plural[object.kind];
  if (!resource) throw new Error(`the chart rendered a ${object.kind}, which this test cannot look up`);
  const prefix = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  return `${prefix}${object.namespace ? `/namespaces/${object.namespace}` : ""}/${resource}/${object.name}`;
}

async function installedManifest(): Promise<RenderedObject[]> {
  const text = await helm("get", "manifest", release, "--namespace", namespace);
  return parseAllDocuments(text)
    .map(
      (document) =>
        document.toJS() as {
          apiVersion?: string;
          kind?: string;
          metadata?: { name?: string; namespace?: string };
        } | null,
    )
    .filter((object) => object?.kind !== undefined)
    .map((object) => ({
      apiVersion: String(object?.apiVersion),
      kind: String(object?.kind),
      name: String(object?.metadata?.name),
      // Namespaced kinds without a namespace in the manifest land in the release namespace.
      ...(["ClusterRole", "ClusterRoleBinding"].includes(String(object?.kind))
        ? {}
        : { namespace: object?.metadata?.namespace ?? namespace }),
    }));
}

beforeAll(async () => {
  info = await fleetInfo();
  admin = await fleetAdminClient(info, "management");
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-chart-install-"));
  namespace = `capi-mcp-${randomBytes(3).toString("hex")}`;
  serviceAccountUser = `system:serviceaccount:${namespace}:${fullname}`;
  // The namespace a platform team creates first; in it what a controller manager would have put
  // there (the root CA ConfigMap the projected token volume reads), and the IdP's CA Secret.
  await admin.expectOk("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  for (const object of [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kube-root-ca.crt", namespace },
      data: { "ca.crt": await readFile(info.management.caFile, "utf8") },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "fleet-oidc-ca", namespace },
      data: { "ca.crt": (await readFile(info.oidc.caFile)).toString("base64") },
    },
  ]) {
    const url = `/api/v1/namespaces/${namespace}/${object.kind === "Secret" ? "secrets" : "configmaps"}/${object.metadata.name}`;
    await admin.apply(url, object);
    ownObjects.push(url);
  }
});

afterAll(async () => {
  if (admin) {
    await helm("uninstall", release, "--namespace", namespace).catch(() => undefined);
    for (const url of ownObjects) await admin.request("DELETE", url);
    // No namespace controller runs in the fleet: delete, then finalize the (empty) namespace.
    await admin.request("DELETE", `/api/v1/namespaces/${namespace}`);
    await admin.request("PUT", `/api/v1/namespaces/${namespace}/finalize`, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
      spec: { finalizers: [] },
    });
    admin.close();
  }
  await rm(scratch, { recursive: true, force: true });
});

describe("helm install of charts/capi-mcp on the management cluster", () => {
  it("installs in impersonation mode with the mode's RBAC: clusters and secrets in the allowed namespaces, access reviews cluster-wide", async () => {
    await helm("install", release, chart, "--namespace", namespace, "--values", await valuesFile("impersonation"));
    expect(await rulesOf(clusterRoleUrl)).toEqual([
      { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
    ]);
    for (const clusterNamespace of clusterNamespaces) {
      expect(await rulesOf(roleUrl(clusterNamespace))).toEqual([
        { apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
      ]);
    }
  });

  it("serves the fleet's Clusters by impersonation as the installed pod would, each call as the user", async () => {
    const since = Date.now();
    const running = await startInstalledPod();
    try {
      expect(running.ready, running.pod.stderr()).toBe(true);
      expect(await visibleClusters(running, "bob")).toEqual(["org-acme/dev", "org-acme/prod"]);
      expect(await visibleClusters(running, "carol")).toEqual(["org-globex/prod"]);
      await expectServedAsUser(running, "impersonation", "bob", "org-acme/dev", "web");
      await expectServedAsUser(running, "impersonation", "carol", "org-globex/prod", "default");
      // It ran as the chart's ServiceAccount, with the token the kubelet would have mounted.
      const requests = await serviceAccountRequests(since);
      expect(requests.some((request) => request.resource === "clusters" && request.verb === "list")).toBe(true);
      expect(requests.some((request) => request.resource === "secrets" && request.verb === "get")).toBe(true);
    } finally {
      await running.stop();
    }
  });

  it("needs every rule it grants in impersonation mode: without each, a named thing breaks", {
    timeout: 240_000,
  }, async () => {
    await expectRbacMinimal("impersonation");
  });

  it("upgrades to SSO passthrough: the Secret rule goes, the ConfigMap rule comes, and the pod serves as the user's own token", {
    timeout: 120_000,
  }, async () => {
    await helm("upgrade", release, chart, "--namespace", namespace, "--values", await valuesFile("sso-passthrough"));
    expect(await rulesOf(clusterRoleUrl)).toEqual([
      { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
    ]);
    for (const clusterNamespace of clusterNamespaces) {
      expect(await rulesOf(roleUrl(clusterNamespace))).toEqual([
        { apiGroups: ["cluster.x-k8s.io"], resources: ["clusters"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] },
      ]);
    }
    const since = Date.now();
    const running = await startInstalledPod();
    try {
      expect(running.ready, running.pod.stderr()).toBe(true);
      expect(await visibleClusters(running, "bob")).toEqual(["org-acme/dev", "org-acme/prod"]);
      await expectServedAsUser(running, "sso-passthrough", "bob", "org-acme/dev", "web");
      await expectServedAsUser(running, "sso-passthrough", "bob", "org-acme/prod", "web");
      await expectServedAsUser(running, "sso-passthrough", "carol", "org-globex/prod", "default");
      // SSO passthrough never touches a Secret on the management cluster: not get, list or watch.
      const requests = await serviceAccountRequests(since);
      expect(requests.some((request) => request.resource === "configmaps" && request.verb === "get")).toBe(true);
      expect(
        requests.filter((request) => request.resource === "secrets"),
        `since ${new Date(since).toISOString()}`,
      ).toEqual([]);
    } finally {
      await running.stop();
    }
  });

  it("needs every rule it grants in SSO passthrough: without each, a named thing breaks", {
    timeout: 240_000,
  }, async () => {
    await expectRbacMinimal("sso-passthrough");
  });

  it("uninstalls leaving nothing it made: every rendered object and the release record are gone", async () => {
    const rendered = await installedManifest();
    const kinds = new Set(rendered.map((object) => object.kind));
    for (const kind of [
      "ServiceAccount",
      "Secret",
      "ConfigMap",
      "Service",
      "Deployment",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
    ]) {
      expect(kinds, kind).toContain(kind);
    }
    for (const object of rendered)
      expect((await admin.request("GET", objectUrl(object))).status, objectUrl(object)).toBe(200);
    await helm("uninstall", release, "--namespace", namespace);
    for (const object of rendered)
      expect((await admin.request("GET", objectUrl(object))).status, objectUrl(object)).toBe(404);
    // Nothing else labelled as this release anywhere the chart writes, and no helm release record.
    const selector = encodeURIComponent(`app.kubernetes.io/instance=${release}`);
    for (const url of [
      ...[namespace, ...clusterNamespaces].flatMap((inNamespace) => [
        `/api/v1/namespaces/${inNamespace}/configmaps?labelSelector=${selector}`,
        `/api/v1/namespaces/${inNamespace}/secrets?labelSelector=${selector}`,
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${inNamespace}/roles?labelSelector=${selector}`,
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${inNamespace}/rolebindings?labelSelector=${selector}`,
      ]),
      `/apis/rbac.authorization.k8s.io/v1/clusterroles?labelSelector=${selector}`,
      `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?labelSelector=${selector}`,
      `/api/v1/namespaces/${namespace}/secrets?labelSelector=${encodeURIComponent(`owner=helm,name=${release}`)}`,
    ]) {
      expect((await admin.expectOk<{ items: unknown[] }>("GET", url)).items, url).toEqual([]);
    }
    // Only what the test itself made is left in the namespace.
    const left = await admin.expectOk<{ items: { metadata: { name: string } }[] }>(
      "GET",
      `/api/v1/namespaces/${namespace}/secrets`,
    );
    expect(left.items.map((item) => item.metadata.name)).toEqual(["fleet-oidc-ca"]);
  });
});
