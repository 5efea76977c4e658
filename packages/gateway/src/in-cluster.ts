// `--in-cluster`: the pod's own service account, as the kubelet mounts it (token, ca.crt,
// namespace) and KUBERNETES_SERVICE_HOST/PORT. The user names the token FILE, not its value:
// client-node's tokenFile authenticator reads it again when its copy is over a minute old (what
// client-go does), and the kube connection asks for credentials on every request, so a projected
// token that the kubelet rotates is picked up without a restart. This checks first what
// client-node's loadFromCluster does not, so a gateway started outside a pod fails with a sentence
// instead of calling https://undefined:undefined.
import { accessSync, constants, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import path from "node:path";
import { GatewayError } from "@capi-mcp/core";
import { KubeConfig } from "@kubernetes/client-node";

/** Where the kubelet mounts the service account (token, ca.crt, namespace). */
export const serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

/** How long client-node keeps a token read from the token file (its FileAuth), in milliseconds. */
export const tokenFileRereadMilliseconds = 60_000;

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The management cluster as the pod's service account sees it. `directory` is for tests; in a
 * pod it is the kubelet's mount point.
 */
export function loadInClusterKubeConfig(
  environment: Readonly<Record<string, string | undefined>>,
  directory: string = serviceAccountDirectory,
): KubeConfig {
  const host = environment.KUBERNETES_SERVICE_HOST?.trim();
  const port = environment.KUBERNETES_SERVICE_PORT?.trim();
  if (!host || !port) {
    throw new GatewayError(
      "invalid_input",
      "Cannot use the in-cluster service account: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (is the gateway running in a pod?). Use --kubeconfig outside a cluster.",
    );
  }
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    throw new GatewayError(
      "invalid_input",
      "Cannot use the in-cluster service account: KUBERNETES_SERVICE_PORT is not a port number.",
    );
  }
  const tokenFile = path.join(directory, "token");
  const caFile = path.join(directory, "ca.crt");
  for (const file of [tokenFile, caFile]) {
    if (!readable(file)) {
      throw new GatewayError(
        "invalid_input",
        `Cannot use the in-cluster service account: ${file} is missing or unreadable (is a service-account token mounted, or automountServiceAccountToken false without a projected token?).`,
      );
    }
  }
  const namespaceFile = path.join(directory, "namespace");
  const namespace = readable(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined;
  const kubeConfig = new KubeConfig();
  // The same cluster, user and context names as client-node's loadFromCluster. Always https: the
  // kube connection refuses plain http, and an API server's service port is TLS.
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: "inCluster",
        server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        caFile,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile } } }],
    contexts: [
      {
        name: "inClusterContext",
        cluster: "inCluster",
        user: "inClusterUser",
        ...(namespace ? { namespace } : {}),
      },
    ],
    currentContext: "inClusterContext",
  });
  return kubeConfig;
}
