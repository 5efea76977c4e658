// How the fleet runs kube-apiserver (v1.20.2, built from Debian's source package and cached
// outside the repo by scripts/build-kube-apiserver.sh) and etcd (Debian's etcd-server).
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export function cacheDirectory(): string {
  const fromEnvironment = process.env.CAPI_MCP_CACHE_DIR;
  if (fromEnvironment) return fromEnvironment;
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache");
  return path.join(base, "capi-mcp");
}

/** The cached kube-apiserver, or an error that says how to build it. */
export function locateKubeApiserver(): string {
  const explicit = process.env.CAPI_MCP_KUBE_APISERVER;
  if (explicit) return explicit;
  const pointer = path.join(cacheDirectory(), "kube-apiserver", "current");
  if (existsSync(pointer)) {
    const binary = readFileSync(pointer, "utf8").trim();
    if (existsSync(binary)) return binary;
  }
  throw new Error(
    "kube-apiserver is not built on this machine yet: run `bash e2e/fleet/scripts/build-kube-apiserver.sh` " +
      "(or `bash .ci/run`, which does it), or point CAPI_MCP_KUBE_APISERVER at a v1.20 binary.",
  );
}

export function locateEtcd(): string {
  const explicit = process.env.CAPI_MCP_ETCD;
  if (explicit) return explicit;
  for (const candidate of ["/usr/bin/etcd", "/usr/local/bin/etcd"]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    "etcd is not installed: run `bash e2e/fleet/scripts/install-debian-packages.sh` (Debian etcd-server).",
  );
}

export interface EtcdSettings {
  readonly dataDirectory: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export function etcdArguments(settings: EtcdSettings): string[] {
  const client = `http://127.0.0.1:${settings.clientPort}`;
  const peer = `http://127.0.0.1:${settings.peerPort}`;
  return [
    "--name=fleet",
    `--data-dir=${settings.dataDirectory}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=fleet=${peer}`,
    "--initial-cluster-state=new",
    // Test data: keep the write path cheap on a 2-core machine.
    "--snapshot-count=5000",
    "--quota-backend-bytes=2147483648",
  ];
}

export interface ApiserverSettings {
  /** Cluster id, used as the etcd prefix so one etcd serves several independent clusters. */
  readonly id: string;
  readonly port: number;
  readonly etcdClientPort: number;
  readonly directory: string;
  readonly caFile: string;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
  readonly serviceAccountPublicKeyFile: string;
  readonly serviceAccountPrivateKeyFile: string;
  readonly kubeletClientCertFile: string;
  readonly kubeletClientKeyFile: string;
  readonly auditLogFile: string;
  readonly auditPolicyFile: string;
  readonly oidc: {
    readonly issuerUrl: string;
    readonly clientId: string;
    readonly caFile: string;
  };
}

/**
 * Records every request's metadata: user, groups, impersonated user and extras, verb, object.
 * That is what the tests read to prove who reached a cluster and how.
 */
export const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi*"]
  - level: Metadata
`;

export async function writeAuditPolicy(file: string): Promise<void> {
  await writeFile(file, auditPolicy);
}

export function apiserverArguments(settings: ApiserverSettings): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${settings.etcdClientPort}`,
    `--etcd-prefix=/fleet/${settings.id}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${settings.port}`,
    "--insecure-port=0",
    `--cert-dir=${settings.directory}`,
    `--tls-cert-file=${settings.servingCertFile}`,
    `--tls-private-key-file=${settings.servingKeyFile}`,
    `--client-ca-file=${settings.caFile}`,
    "--authorization-mode=RBAC",
    "--anonymous-auth=false",
    `--service-account-issuer=https://127.0.0.1:${settings.port}`,
    `--service-account-key-file=${settings.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${settings.serviceAccountPrivateKeyFile}`,
    `--api-audiences=https://127.0.0.1:${settings.port}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    // No controller manager runs, so nothing would create service-account tokens for pods, and
    // the apiserver's own endpoint for the `kubernetes` Service cannot be a loopback address.
    "--disable-admission-plugins=ServiceAccount",
    "--endpoint-reconciler-type=none",
    `--audit-log-path=${settings.auditLogFile}`,
    `--audit-policy-file=${settings.auditPolicyFile}`,
    "--audit-log-format=json",
    "--audit-log-maxsize=100",
    `--oidc-issuer-url=${settings.oidc.issuerUrl}`,
    `--oidc-client-id=${settings.oidc.clientId}`,
    `--oidc-ca-file=${settings.oidc.caFile}`,
    "--oidc-username-claim=email",
    "--oidc-groups-claim=groups",
    `--kubelet-client-certificate=${settings.kubeletClientCertFile}`,
    `--kubelet-client-key=${settings.kubeletClientKeyFile}`,
    `--kubelet-certificate-authority=${settings.caFile}`,
    "--kubelet-preferred-address-types=InternalIP",
    "--profiling=false",
    "--enable-priority-and-fairness=false",
    "--event-ttl=24h",
    "--v=1",
  ];
}
