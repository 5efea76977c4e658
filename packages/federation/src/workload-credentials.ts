// Which object beside each Cluster the gateway reads (with its own credentials) to reach that
// workload cluster, by mode. The one decision both the directory (what it watches, so the pool
// follows rotations) and the catalogs (what they read) take from, so the two never disagree.
import type { WorkloadAuthMode } from "./user-catalog.js";

/** Cluster API's kubeconfig secret of cluster `<name>` (key `value`): a contract, not an option. */
export const kubeconfigSecretSuffix = "-kubeconfig";
/** SSO passthrough's default: ConfigMap `<name>-ca-public`, key `ca.crt` (the CA certificate only). */
export const defaultCaConfigMapSuffix = "-ca-public";

export interface WorkloadCredentialSource {
  readonly from: "secret" | "configmap";
  /** The object of cluster `<name>` is `<name><suffix>`, in the Cluster's namespace. */
  readonly suffix: string;
  /** The data key holding the kubeconfig (impersonation) or the PEM CA certificate (SSO). */
  readonly key: string;
  /** What the value is, for messages. */
  readonly what: "kubeconfig" | "CA certificate";
}

export interface WorkloadCredentialOptions {
  /** SSO passthrough: read the CA from Secret `<name><suffix>`, key `tls.crt`. Only when set. */
  readonly caSecretSuffix?: string;
  /** SSO passthrough: the CA ConfigMap `<name><suffix>`, key `ca.crt` (default `-ca-public`). */
  readonly caConfigMapSuffix?: string;
}

/**
 * Impersonation: the cluster's kubeconfig secret. SSO passthrough: a CA ConfigMap by default, so a
 * gateway that never impersonates never reads, lists or watches a Secret; a CA Secret only when
 * `caSecretSuffix` is chosen explicitly (CAPI's own `<name>-ca` Secret also holds the CA's private
 * key). Both suffixes at once is a configuration error.
 */
export function workloadCredentialSource(
  mode: WorkloadAuthMode,
  options: WorkloadCredentialOptions = {},
): WorkloadCredentialSource {
  if (mode === "impersonation") {
    return { from: "secret", suffix: kubeconfigSecretSuffix, key: "value", what: "kubeconfig" };
  }
  if (options.caSecretSuffix !== undefined && options.caConfigMapSuffix !== undefined) {
    throw new Error("Choose one CA source for SSO passthrough: a CA Secret suffix or a CA ConfigMap suffix, not both.");
  }
  if (options.caSecretSuffix !== undefined) {
    return { from: "secret", suffix: options.caSecretSuffix, key: "tls.crt", what: "CA certificate" };
  }
  return {
    from: "configmap",
    suffix: options.caConfigMapSuffix ?? defaultCaConfigMapSuffix,
    key: "ca.crt",
    what: "CA certificate",
  };
}
