// The real test fleet: one etcd, one management kube-apiserver with the Cluster API CRD and
// Cluster objects, three workload kube-apiservers (RBAC, audit log, OIDC), an OpenID provider and
// stand-in kubelets, all on 127.0.0.1. `startFleet` returns a handle whose `stop()` ends every
// process it started and removes the run's temporary state.
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { DaemonConfig } from "./daemon.ts";
import {
  apiserverArguments,
  etcdArguments,
  locateEtcd,
  locateKubeApiserver,
  writeAuditPolicy,
} from "./kube-apiserver.ts";
import { KubeRestClient } from "./kube-rest.ts";
import { loginAs } from "./login.ts";
import {
  caPublicConfigMap,
  caSecret,
  clusterCrd,
  clusterObject,
  clusterStatus,
  gatewayRbac,
  type KubeObject,
  kubeconfigSecret,
  managementNamespaces,
  managementUserRbac,
  objectPath,
  workloadObjects,
} from "./manifests.ts";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  createServiceAccountKeys,
  issueCertificate,
} from "./pki.ts";
import { freePorts, isAlive, type StartedProcess, startDetached, stopProcesses, waitFor } from "./processes.ts";
import {
  gatewayClientId,
  gatewayServiceAccount,
  nodeName,
  otherClientId,
  userSpecs,
  type WorkloadClusterSpec,
  workloadClusterSpecs,
} from "./topology.ts";

export interface FleetClusterInfo {
  readonly name: string;
  readonly server: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfig: string;
  readonly caFile: string;
  readonly auditLog: string;
}

export interface FleetWorkloadClusterInfo extends FleetClusterInfo {
  readonly namespace: string;
  readonly nodeName: string;
  readonly kubeletPort: number;
}

export interface FleetUserInfo {
  readonly name: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly groups: readonly string[];
  readonly password: string;
  readonly note: string;
}

export interface FleetOidcClientInfo {
  readonly clientId: string;
  readonly clientSecretFile: string;
  readonly redirectUri: string;
  readonly tokenEndpointAuthMethod: "client_secret_basic";
}

export interface FleetInfo {
  readonly version: 1;
  readonly createdAt: string;
  readonly stateDirectory: string;
  readonly kubernetesVersion: string;
  readonly kubeconfig: string;
  readonly management: FleetClusterInfo & { readonly gatewayKubeconfig: string };
  readonly workloadClusters: readonly FleetWorkloadClusterInfo[];
  readonly oidc: {
    readonly issuer: string;
    readonly caFile: string;
    readonly gatewayClient: FleetOidcClientInfo;
    /** A second client: its ID tokens carry another audience, which API servers must refuse. */
    readonly otherClient: FleetOidcClientInfo;
  };
  readonly gateway: { readonly port: number };
  readonly users: readonly FleetUserInfo[];
  readonly processes: readonly StartedProcess[];
}

export interface StartFleetOptions {
  /** Where PKI, data, logs and audit logs go; default: a new temporary directory. */
  readonly stateDirectory?: string;
  /** The gateway's fixed port, used in the OIDC redirect URI; default: a free port. */
  readonly gatewayPort?: number;
  readonly log?: (message: string) => void;
  readonly startupTimeoutMilliseconds?: number;
}

export interface Fleet {
  readonly info: FleetInfo;
  stop(): Promise<void>;
}

const daemonScript = fileURLToPath(new URL("./daemon.ts", import.meta.url));
const run = promisify(execFile);

function kubeconfigYaml(
  contexts: readonly {
    name: string;
    server: string;
    caPem: string;
    user: { name: string; certPem?: string; keyPem?: string; token?: string };
  }[],
  currentContext: string,
): string {
  const encode = (text: string) => Buffer.from(text).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    "current-context": currentContext,
    clusters: contexts.map((context) => ({
      name: context.name,
      cluster: { server: context.server, "certificate-authority-data": encode(context.caPem) },
    })),
    users: contexts.map((context) => ({
      name: context.user.name,
      user: context.user.token
        ? { token: context.user.token }
        : {
            "client-certificate-data": encode(context.user.certPem ?? ""),
            "client-key-data": encode(context.user.keyPem ?? ""),
          },
    })),
    contexts: contexts.map((context) => ({
      name: context.name,
      context: { cluster: context.name, user: context.user.name },
    })),
  });
}

interface ClusterMaterial {
  readonly id: string;
  readonly displayName: string;
  readonly spec: WorkloadClusterSpec | undefined;
  readonly port: number;
  readonly directory: string;
  readonly ca: CertificateAuthority;
  readonly admin: { certFile: string; keyFile: string };
  readonly auditLog: string;
  readonly kubeletPort: number;
  readonly kubelet: { certFile: string; keyFile: string } | undefined;
}

async function prepareCluster(
  stateDirectory: string,
  id: string,
  displayName: string,
  spec: WorkloadClusterSpec | undefined,
  port: number,
  kubeletPort: number,
  etcdClientPort: number,
  oidc: { issuer: string; caFile: string },
): Promise<{ material: ClusterMaterial; args: string[] }> {
  const directory = path.join(stateDirectory, "clusters", id);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority(directory, id);
  const [serving, admin, kubeletClient, kubelet, serviceAccount] = await Promise.all([
    issueCertificate(ca, directory, "apiserver", {
      commonName: "kube-apiserver",
      usage: "server",
      ipAddresses: ["127.0.0.1"],
      dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    }),
    issueCertificate(ca, directory, "admin", {
      commonName: "fleet-admin",
      organizations: ["system:masters"],
      usage: "client",
    }),
    issueCertificate(ca, directory, "apiserver-kubelet-client", {
      commonName: "kube-apiserver-kubelet-client",
      organizations: ["system:masters"],
      usage: "client",
    }),
    spec
      ? issueCertificate(ca, directory, "kubelet", {
          commonName: `system:node:${nodeName}`,
          usage: "server",
          ipAddresses: ["127.0.0.1"],
          dnsNames: [nodeName],
        })
      : Promise.resolve(undefined),
    createServiceAccountKeys(directory, id),
  ]);
  const auditLog = path.join(directory, "audit.log");
  const auditPolicyFile = path.join(directory, "audit-policy.yaml");
  await writeAuditPolicy(auditPolicyFile);
  const args = apiserverArguments({
    id,
    port,
    etcdClientPort,
    directory,
    caFile: ca.certFile,
    servingCertFile: serving.certFile,
    servingKeyFile: serving.keyFile,
    serviceAccountPublicKeyFile: serviceAccount.publicKeyFile,
    serviceAccountPrivateKeyFile: serviceAccount.privateKeyFile,
    kubeletClientCertFile: kubeletClient.certFile,
    kubeletClientKeyFile: kubeletClient.keyFile,
    auditLogFile: auditLog,
    auditPolicyFile,
    oidc: { issuerUrl: oidc.issuer, clientId: gatewayClientId, caFile: oidc.caFile },
  });
  return {
    material: { id, displayName, spec, port, directory, ca, admin, auditLog, kubeletPort, kubelet },
    args,
  };
}

async function adminClient(material: ClusterMaterial): Promise<KubeRestClient> {
  return new KubeRestClient({
    server: `https://127.0.0.1:${material.port}`,
    caPem: await readFile(material.ca.certFile, "utf8"),
    certPem: await readFile(material.admin.certFile, "utf8"),
    keyPem: await readFile(material.admin.keyFile, "utf8"),
  });
}

async function applyAll(client: KubeRestClient, objects: readonly KubeObject[]): Promise<void> {
  // Namespaces, CRDs and cluster-scoped RBAC first; the rest can go in parallel.
  const first = objects.filter((object) =>
    ["Namespace", "CustomResourceDefinition", "ServiceAccount", "Node"].includes(object.kind),
  );
  const rest = objects.filter((object) => !first.includes(object));
  for (const object of first) await client.apply(objectPath(object), object);
  await Promise.all(rest.map((object) => client.apply(objectPath(object), object)));
}

async function mergeStatus(
  client: KubeRestClient,
  objectApiPath: string,
  status: Record<string, unknown>,
): Promise<void> {
  await client.expectOk("PATCH", `${objectApiPath}/status`, { status }, "application/merge-patch+json");
}

interface ClusterRoleObject {
  metadata: { name: string; labels?: Record<string, string>; resourceVersion?: string };
  aggregationRule?: { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] };
  rules?: unknown[];
}

/**
 * Fills aggregated ClusterRoles (`view`, `edit`, `admin`) as kube-controller-manager's
 * clusterrole-aggregation controller would. The fleet runs no controller manager, and without
 * this those roles grant nothing.
 */
async function aggregateClusterRoles(client: KubeRestClient): Promise<void> {
  for (let pass = 0; pass < 5; pass += 1) {
    const { items } = await client.expectOk<{ items: ClusterRoleObject[] }>(
      "GET",
      "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    );
    let changed = false;
    for (const role of items) {
      const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
      if (selectors.length === 0) continue;
      const matches = items.filter(
        (candidate) =>
          candidate.metadata.name !== role.metadata.name &&
          selectors.some((selector) =>
            Object.entries(selector.matchLabels ?? {}).every(
              ([key, value]) => candidate.metadata.labels?.[key] === value,
            ),
          ),
      );
      const rules: unknown[] = [];
      const seen = new Set<string>();
      for (const match of matches.sort((left, right) => left.metadata.name.localeCompare(right.metadata.name))) {
        for (const rule of match.rules ?? []) {
          const key = JSON.stringify(rule);
          if (!seen.has(key)) {
            seen.add(key);
            rules.push(rule);
          }
        }
      }
      if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) continue;
      await client.expectOk("PUT", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role.metadata.name}`, {
        ...role,
        rules,
      });
      changed = true;
    }
    if (!changed) return;
  }
}

async function bootstrapWorkload(material: ClusterMaterial, now: Date): Promise<void> {
  if (!material.spec) throw new Error("not a workload cluster");
  const client = await adminClient(material);
  try {
    const { objects, statuses } = workloadObjects(material.spec, material.kubeletPort, now);
    await aggregateClusterRoles(client);
    await applyAll(client, objects);
    await Promise.all(statuses.map((entry) => mergeStatus(client, entry.path, entry.status)));
  } finally {
    client.close();
  }
}

async function bootstrapManagement(
  management: ClusterMaterial,
  workloads: readonly ClusterMaterial[],
  now: Date,
): Promise<{ gatewayToken: string }> {
  const client = await adminClient(management);
  try {
    await aggregateClusterRoles(client);
    await applyAll(client, [clusterCrd, ...managementNamespaces(), ...gatewayRbac(), ...managementUserRbac()]);
    await waitFor(
      "the Cluster API CRD to be established",
      async () => {
        const crd = await client.expectOk<{ status?: { conditions?: { type: string; status: string }[] } }>(
          "GET",
          "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusters.cluster.x-k8s.io",
        );
        const established = crd.status?.conditions?.some(
          (condition) => condition.type === "Established" && condition.status === "True",
        );
        if (!established) return false;
        const served = await client.request("GET", "/apis/cluster.x-k8s.io/v1beta2/clusters");
        return served.status === 200;
      },
      { timeoutMilliseconds: 30_000 },
    );
    for (const workload of workloads) {
      const spec = workload.spec;
      if (!spec) continue;
      const cluster = clusterObject(spec, workload.port);
      await client.apply(objectPath(cluster), cluster);
      await mergeStatus(client, objectPath(cluster), clusterStatus(spec, now));
      const caPem = await readFile(workload.ca.certFile, "utf8");
      const config = kubeconfigYaml(
        [
          {
            name: spec.name,
            server: `https://127.0.0.1:${workload.port}`,
            caPem,
            user: {
              name: `${spec.name}-admin`,
              certPem: await readFile(workload.admin.certFile, "utf8"),
              keyPem: await readFile(workload.admin.keyFile, "utf8"),
            },
          },
        ],
        spec.name,
      );
      // CAPI's two secrets, and the CA's public half as a ConfigMap (what SSO passthrough reads).
      const credentials = [
        kubeconfigSecret(spec, config),
        caSecret(spec, caPem, await readFile(workload.ca.keyFile, "utf8")),
        caPublicConfigMap(spec, caPem),
      ];
      for (const object of credentials) await client.apply(objectPath(object), object);
    }
    const tokenRequest = await client.expectOk<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${gatewayServiceAccount.namespace}/serviceaccounts/${gatewayServiceAccount.name}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 7 * 24 * 3600 } },
    );
    return { gatewayToken: tokenRequest.status.token };
  } finally {
    client.close();
  }
}

/**
 * Waits until every API server authenticates a real ID token: kube-apiserver 1.20 sets up its
 * OIDC authenticator in the background, and a fleet that answers /readyz may still refuse tokens.
 */
/** Waits until an API server authenticates this ID token (TokenReview as its admin). */
async function waitUntilIdTokenAccepted(
  client: KubeRestClient,
  name: string,
  idToken: string,
  timeout: number,
): Promise<void> {
  await waitFor(
    `kube-apiserver ${name} to accept ID tokens`,
    async () => {
      const review = await client.expectOk<{ status?: { authenticated?: boolean } }>(
        "POST",
        "/apis/authentication.k8s.io/v1/tokenreviews",
        { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: idToken } },
      );
      return review.status?.authenticated === true;
    },
    { timeoutMilliseconds: timeout },
  );
}

/**
 * Waits until every API server authenticates a real ID token: kube-apiserver 1.20 sets up its
 * OIDC authenticator in the background, and a fleet that answers /readyz may still refuse tokens.
 */
async function waitForOidcAuthentication(
  info: FleetInfo,
  clusters: readonly ClusterMaterial[],
  timeout: number,
): Promise<void> {
  const probeUser = userSpecs[0]?.name ?? "alice";
  const { idToken } = await loginAs(info, probeUser);
  await Promise.all(
    clusters.map(async (material) => {
      const client = await adminClient(material);
      try {
        await waitUntilIdTokenAccepted(client, material.displayName, idToken, timeout);
      } finally {
        client.close();
      }
    }),
  );
}

async function kubernetesVersion(binary: string): Promise<string> {
  const { stdout } = await run(binary, ["--version"]);
  return stdout.trim().replace(/^Kubernetes\s+/, "");
}

export async function startFleet(options: StartFleetOptions = {}): Promise<Fleet> {
  const log = options.log ?? (() => undefined);
  const timeout = options.startupTimeoutMilliseconds ?? 120_000;
  const started = Date.now();
  const apiserverBinary = locateKubeApiserver();
  const etcdBinary = locateEtcd();
  const stateDirectory = options.stateDirectory ?? (await mkdtemp(path.join(os.tmpdir(), "capi-mcp-fleet-")));
  await mkdir(stateDirectory, { recursive: true, mode: 0o700 });
  const processes: StartedProcess[] = [];
  const stopAll = async () => {
    // restartApiServer replaces a process and records the new PID in the run's fleet.json; stop
    // what is recorded there as well as what this handle started.
    const recorded = await readFleetInfo(path.join(stateDirectory, "fleet.json")).catch(() => undefined);
    const byPid = new Map([...processes, ...(recorded?.processes ?? [])].map((started) => [started.pid, started]));
    await stopProcesses([...byPid.values()]);
    await rm(stateDirectory, { recursive: true, force: true });
  };

  try {
    const clusterCount = 1 + workloadClusterSpecs.length;
    const ports = await freePorts(3 + clusterCount * 2 + (options.gatewayPort === undefined ? 1 : 0));
    const take = () => {
      const port = ports.shift();
      if (port === undefined) throw new Error("ran out of allocated ports");
      return port;
    };
    const etcdClientPort = take();
    const etcdPeerPort = take();
    const oidcPort = take();
    const gatewayPort = options.gatewayPort ?? take();
    const issuer = `https://127.0.0.1:${oidcPort}`;

    // PKI and credentials for this run only.
    log("generating certificates and credentials for this run");
    const pkiDirectory = path.join(stateDirectory, "pki");
    await mkdir(pkiDirectory, { recursive: true, mode: 0o700 });
    const oidcCa = await createCertificateAuthority(pkiDirectory, "oidc");
    const oidcServing = await issueCertificate(oidcCa, pkiDirectory, "oidc-serving", {
      commonName: "fleet-oidc",
      usage: "server",
      ipAddresses: ["127.0.0.1"],
      dnsNames: ["localhost"],
    });
    const signingJwkFile = path.join(pkiDirectory, "oidc-signing.jwk.json");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = {
      ...privateKey.export({ format: "jwk" }),
      kid: randomBytes(8).toString("hex"),
      use: "sig",
      alg: "RS256",
    };
    await writeFile(signingJwkFile, JSON.stringify(jwk), { mode: 0o600 });
    const cookieKeyFile = path.join(pkiDirectory, "oidc-cookie.key");
    await writeFile(cookieKeyFile, randomBytes(32).toString("base64url"), { mode: 0o600 });
    const secretFile = async (name: string) => {
      const file = path.join(pkiDirectory, `${name}.secret`);
      await writeFile(file, randomBytes(24).toString("base64url"), { mode: 0o600 });
      return file;
    };
    const gatewayClient: FleetOidcClientInfo = {
      clientId: gatewayClientId,
      clientSecretFile: await secretFile(gatewayClientId),
      redirectUri: `http://127.0.0.1:${gatewayPort}/oauth/callback`,
      tokenEndpointAuthMethod: "client_secret_basic",
    };
    const otherClient: FleetOidcClientInfo = {
      clientId: otherClientId,
      clientSecretFile: await secretFile(otherClientId),
      redirectUri: "http://127.0.0.1/other-app/callback",
      tokenEndpointAuthMethod: "client_secret_basic",
    };
    const users: FleetUserInfo[] = userSpecs.map((user) => ({
      ...user,
      password: randomBytes(12).toString("base64url"),
    }));
    const usersFile = path.join(pkiDirectory, "users.json");
    await writeFile(usersFile, JSON.stringify(users), { mode: 0o600 });

    const clusterIds = ["management", ...workloadClusterSpecs.map((spec) => `${spec.namespace}-${spec.name}`)];
    const prepared = await Promise.all(
      clusterIds.map((id, index) =>
        prepareCluster(
          stateDirectory,
          id,
          index === 0
            ? "management"
            : `${workloadClusterSpecs[index - 1]?.namespace}/${workloadClusterSpecs[index - 1]?.name}`,
          workloadClusterSpecs[index - 1],
          take(),
          take(),
          etcdClientPort,
          { issuer, caFile: oidcCa.certFile },
        ),
      ),
    );
    const [managementPrepared, ...workloadPrepared] = prepared;
    if (!managementPrepared) throw new Error("no management cluster prepared");
    const logs = path.join(stateDirectory, "logs");
    await mkdir(logs, { recursive: true });

    // etcd
    log(`starting etcd on 127.0.0.1:${etcdClientPort}`);
    const etcd = startDetached({
      name: "etcd",
      command: etcdBinary,
      args: etcdArguments({
        dataDirectory: path.join(stateDirectory, "etcd"),
        clientPort: etcdClientPort,
        peerPort: etcdPeerPort,
      }),
      logFile: path.join(logs, "etcd.log"),
    });
    processes.push(etcd);

    // OpenID provider and stand-in kubelets
    const daemonConfig: DaemonConfig = {
      readyFile: path.join(stateDirectory, "daemon.ready"),
      oidc: {
        issuer,
        port: oidcPort,
        certFile: oidcServing.certFile,
        keyFile: oidcServing.keyFile,
        signingJwkFile,
        cookieKeyFile,
        usersFile,
        clients: [gatewayClient, otherClient].map((client) => ({
          clientId: client.clientId,
          clientSecretFile: client.clientSecretFile,
          redirectUris: [client.redirectUri],
        })),
      },
      kubelets: workloadPrepared.map(({ material }) => {
        if (!material.kubelet) throw new Error("workload cluster without kubelet certificate");
        return {
          clusterName: material.displayName,
          nodeName,
          port: material.kubeletPort,
          certFile: material.kubelet.certFile,
          keyFile: material.kubelet.keyFile,
          clusterCaFile: material.ca.certFile,
          apiServer: `https://127.0.0.1:${material.port}`,
          adminCertFile: material.admin.certFile,
          adminKeyFile: material.admin.keyFile,
        };
      }),
    };
    const daemonConfigFile = path.join(stateDirectory, "daemon.json");
    await writeFile(daemonConfigFile, JSON.stringify(daemonConfig, null, 2), { mode: 0o600 });
    log(`starting the OpenID provider (${issuer}) and ${workloadPrepared.length} stand-in kubelets`);
    const daemon = startDetached({
      name: "fleet-daemon",
      command: process.execPath,
      args: [daemonScript, daemonConfigFile],
      logFile: path.join(logs, "daemon.log"),
    });
    processes.push(daemon);

    await waitFor(
      "etcd to be healthy",
      async () => {
        const response = await fetch(`http://127.0.0.1:${etcdClientPort}/health`);
        return response.ok && ((await response.json()) as { health?: string }).health === "true";
      },
      { timeoutMilliseconds: timeout, process: etcd },
    );

    // The API servers fetch the issuer's discovery document at start and retry only every 10 s,
    // so the OpenID provider must be listening first.
    await waitFor("the OpenID provider and stand-in kubelets", async () => existsSync(daemonConfig.readyFile), {
      timeoutMilliseconds: timeout,
      process: daemon,
    });

    // API servers
    log(`starting ${prepared.length} kube-apiservers`);
    const apiservers = prepared.map(({ material, args }) => {
      const apiserver = startDetached({
        name: `kube-apiserver-${material.id}`,
        command: apiserverBinary,
        args,
        logFile: path.join(logs, `kube-apiserver-${material.id}.log`),
      });
      processes.push(apiserver);
      return apiserver;
    });
    await Promise.all(
      prepared.map(async ({ material }, index) => {
        const client = await adminClient(material);
        try {
          await waitFor(
            `kube-apiserver ${material.displayName} to be ready`,
            async () =>
              (await client.request("GET", "/readyz", undefined, { timeoutMilliseconds: 2000 })).status === 200,
            { timeoutMilliseconds: timeout, ...(apiservers[index] ? { process: apiservers[index] } : {}) },
          );
        } finally {
          client.close();
        }
      }),
    );
    log(
      `API servers ready after ${((Date.now() - started) / 1000).toFixed(1)} s; creating clusters, users, RBAC and workloads`,
    );

    const now = new Date();
    const workloads = workloadPrepared.map(({ material }) => material);
    const [{ gatewayToken }] = await Promise.all([
      bootstrapManagement(managementPrepared.material, workloads, now),
      ...workloads.map((material) => bootstrapWorkload(material, now)),
    ]);

    // Kubeconfigs and the description of the fleet.
    const management = managementPrepared.material;
    const caOf = (material: ClusterMaterial) => readFile(material.ca.certFile, "utf8");
    const adminUser = async (material: ClusterMaterial) => ({
      name: `${material.displayName}-admin`,
      certPem: await readFile(material.admin.certFile, "utf8"),
      keyPem: await readFile(material.admin.keyFile, "utf8"),
    });
    const kubeconfigFor = async (material: ClusterMaterial) => {
      const file = path.join(material.directory, "admin.kubeconfig");
      await writeFile(
        file,
        kubeconfigYaml(
          [
            {
              name: material.displayName,
              server: `https://127.0.0.1:${material.port}`,
              caPem: await caOf(material),
              user: await adminUser(material),
            },
          ],
          material.displayName,
        ),
        { mode: 0o600 },
      );
      return file;
    };
    const gatewayKubeconfig = path.join(management.directory, "gateway.kubeconfig");
    await writeFile(
      gatewayKubeconfig,
      kubeconfigYaml(
        [
          {
            name: "management",
            server: `https://127.0.0.1:${management.port}`,
            caPem: await caOf(management),
            user: { name: `${gatewayServiceAccount.namespace}/${gatewayServiceAccount.name}`, token: gatewayToken },
          },
        ],
        "management",
      ),
      { mode: 0o600 },
    );
    const combinedKubeconfig = path.join(stateDirectory, "kubeconfig");
    await writeFile(
      combinedKubeconfig,
      kubeconfigYaml(
        await Promise.all(
          [management, ...workloads].map(async (material) => ({
            name: material.displayName,
            server: `https://127.0.0.1:${material.port}`,
            caPem: await caOf(material),
            user: await adminUser(material),
          })),
        ),
        "management",
      ),
      { mode: 0o600 },
    );

    const info: FleetInfo = {
      version: 1,
      createdAt: new Date().toISOString(),
      stateDirectory,
      kubernetesVersion: await kubernetesVersion(apiserverBinary),
      kubeconfig: combinedKubeconfig,
      management: {
        name: "management",
        server: `https://127.0.0.1:${management.port}`,
        kubeconfig: await kubeconfigFor(management),
        gatewayKubeconfig,
        caFile: management.ca.certFile,
        auditLog: management.auditLog,
      },
      workloadClusters: await Promise.all(
        workloads.map(async (material) => ({
          namespace: material.spec?.namespace ?? "",
          name: material.spec?.name ?? "",
          server: `https://127.0.0.1:${material.port}`,
          kubeconfig: await kubeconfigFor(material),
          caFile: material.ca.certFile,
          auditLog: material.auditLog,
          nodeName,
          kubeletPort: material.kubeletPort,
        })),
      ),
      oidc: { issuer, caFile: oidcCa.certFile, gatewayClient, otherClient },
      gateway: { port: gatewayPort },
      users,
      processes,
    };
    await writeFile(path.join(stateDirectory, "fleet.json"), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    await waitForOidcAuthentication(info, [management, ...workloads], timeout);
    log(`fleet up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { info, stop: stopAll };
  } catch (error) {
    await stopProcesses(processes);
    // Keep the logs of a failed start for diagnosis, and nothing else (no keys, no data).
    const kept = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-fleet-failed-logs-"));
    await rename(path.join(stateDirectory, "logs"), path.join(kept, "logs")).catch(() => undefined);
    await rm(stateDirectory, { recursive: true, force: true });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message.replaceAll(stateDirectory, kept)} (logs kept in ${kept})`, { cause: error });
  }
}

/** Stops a fleet described by its fleet.json (possibly started by another process). */
export async function stopFleet(info: FleetInfo): Promise<void> {
  await stopProcesses(info.processes);
  await rm(info.stateDirectory, { recursive: true, force: true });
}

export interface FleetProcessStatus {
  readonly name: string;
  readonly pid: number;
  readonly alive: boolean;
}

export function fleetProcessStatus(info: FleetInfo): FleetProcessStatus[] {
  return info.processes.map((started) => ({ name: started.name, pid: started.pid, alive: isAlive(started.pid) }));
}

export async function readFleetInfo(file: string): Promise<FleetInfo> {
  return JSON.parse(await readFile(file, "utf8")) as FleetInfo;
}

/** An admin REST client for one of the fleet's clusters, from its kubeconfig's files. */
export async function fleetAdminClient(
  info: FleetInfo,
  cluster: "management" | `${string}/${string}`,
  headers?: Readonly<Record<string, string | readonly string[]>>,
): Promise<KubeRestClient> {
  const id = cluster === "management" ? "management" : cluster.replace("/", "-");
  const directory = path.join(info.stateDirectory, "clusters", id);
  const target =
    cluster === "management"
      ? info.management
      : info.workloadClusters.find((item) => `${item.namespace}/${item.name}` === cluster);
  if (!target) throw new Error(`no cluster ${cluster} in this fleet`);
  return new KubeRestClient({
    server: target.server,
    caPem: await readFile(target.caFile, "utf8"),
    certPem: await readFile(path.join(directory, "admin.crt"), "utf8"),
    keyPem: await readFile(path.join(directory, "admin.key"), "utf8"),
    ...(headers ? { headers } : {}),
  });
}

/** A running process's command line from /proc, for fleets whose fleet.json predates `args`. */
async function commandLineOf(pid: number): Promise<{ command: string; args: string[] }> {
  const parts = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
  if (parts.at(-1) === "") parts.pop();
  const [command, ...args] = parts;
  if (!command) throw new Error(`could not read the command line of process ${pid}`);
  return { command, args };
}

const repositoryFleetInfoFile = fileURLToPath(new URL("../../.fleet/fleet.json", import.meta.url));

/**
 * Stops one of the fleet's kube-apiservers (SIGTERM by PID) and starts it again with the same
 * command line, state and ports, then waits for `/readyz`. Its new PID is written into every
 * fleet.json describing this fleet (the run's own, the CLI's `.fleet/fleet.json` and the file
 * named by CAPI_MCP_E2E_FLEET), before waiting, so `down` stops it even if it never gets ready;
 * and into `info` itself, so later calls with the same object find it.
 */
export async function restartApiServer(info: FleetInfo, cluster: "management" | `${string}/${string}`): Promise<void> {
  const id = cluster === "management" ? "management" : cluster.replace("/", "-");
  const name = `kube-apiserver-${id}`;
  const index = info.processes.findIndex((started) => started.name === name);
  const current = info.processes[index];
  if (!current) throw new Error(`no process ${name} in this fleet`);
  const commandLine =
    current.command !== undefined && current.args !== undefined
      ? { command: current.command, args: [...current.args] }
      : await commandLineOf(current.pid);
  await stopProcesses([current]);
  const restarted = startDetached({ name, ...commandLine, logFile: current.logFile });
  // FleetInfo is read-only to its readers; this helper is the one writer that must keep a shared,
  // cached copy truthful, or a second restart would signal a PID that no longer exists.
  (info.processes as StartedProcess[])[index] = restarted;

  const candidates = new Set([
    path.join(info.stateDirectory, "fleet.json"),
    repositoryFleetInfoFile,
    ...(process.env.CAPI_MCP_FLEET_DIR ? [path.join(path.resolve(process.env.CAPI_MCP_FLEET_DIR), "fleet.json")] : []),
    ...(process.env.CAPI_MCP_E2E_FLEET ? [path.resolve(process.env.CAPI_MCP_E2E_FLEET)] : []),
  ]);
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const described = JSON.parse(await readFile(file, "utf8")) as FleetInfo;
    if (described.stateDirectory !== info.stateDirectory) continue;
    const processes = described.processes.map((started) =>
      started.name === name && started.pid === current.pid ? restarted : started,
    );
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ ...described, processes }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, file);
  }

  const client = await fleetAdminClient(info, cluster);
  try {
    await waitFor(
      `kube-apiserver ${cluster} to be ready again`,
      async () => (await client.request("GET", "/readyz", undefined, { timeoutMilliseconds: 2000 })).status === 200,
      { timeoutMilliseconds: 120_000, process: restarted },
    );
    // As at start: OIDC comes up in the background after /readyz; tests right after need it.
    const { idToken } = await loginAs(info, userSpecs[0]?.name ?? "alice");
    await waitUntilIdTokenAccepted(client, cluster, idToken, 60_000);
  } finally {
    client.close();
  }
}

/** The `capi-mcp serve` arguments that log users in through this fleet's OpenID provider. */
export function fleetOAuthArguments(info: FleetInfo, baseUrl: string): string[] {
  return [
    "--enable-oauth",
    "--oauth-base-url",
    baseUrl,
    "--oauth-provider",
    "oidc",
    "--oidc-issuer-url",
    info.oidc.issuer,
    "--oidc-client-id",
    info.oidc.gatewayClient.clientId,
    "--oidc-client-secret-file",
    info.oidc.gatewayClient.clientSecretFile,
    "--oidc-ca-file",
    info.oidc.caFile,
  ];
}
