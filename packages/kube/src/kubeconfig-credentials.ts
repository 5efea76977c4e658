// What a kubeconfig context says about reaching and authenticating to its API server: the
// cluster's TLS material, and the user's client certificate and headers as client-node's
// authenticators (token, exec, token file, OIDC, basic) make them. No connection is made here.
import { readFile } from "node:fs/promises";
import type { RequestOptions } from "node:https";
import { GatewayError } from "@capi-mcp/core";
import { KubeConfig } from "@kubernetes/client-node";
import type { HeaderValues } from "./impersonation.js";
import { KubeTransportError } from "./transport-error.js";

export interface TlsMaterial {
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string | undefined;
}

function headerValue(value: unknown): string | string[] | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return value.map(String);
  return undefined;
}

/** A private copy, so selecting the context never changes the caller's KubeConfig. */
export function scopedKubeConfig(source: KubeConfig, context: string): KubeConfig {
  const scoped = new KubeConfig();
  scoped.loadFromOptions({
    clusters: source.clusters,
    users: source.users,
    contexts: source.contexts,
    currentContext: context,
  });
  return scoped;
}

export async function clusterTls(scoped: KubeConfig): Promise<TlsMaterial> {
  const cluster = scoped.getCurrentCluster();
  if (!cluster) throw new GatewayError("invalid_input", "The kubeconfig context names no cluster.");
  const ca = cluster.caFile
    ? await readFile(cluster.caFile)
    : cluster.caData
      ? Buffer.from(cluster.caData, "base64")
      : undefined;
  return {
    ca,
    rejectUnauthorized: !cluster.skipTLSVerify,
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
}

export interface UserCredentials {
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly headers: HeaderValues;
}

/** What client-node's authenticators (token, exec, token file, OIDC, basic) make of the kubeconfig user. */
export async function kubeConfigUserCredentials(scoped: KubeConfig): Promise<UserCredentials> {
  const options: RequestOptions = {};
  try {
    await scoped.applyToHTTPSOptions(options);
  } catch (error) {
    // An exec plugin's or token file's failure may quote its own output: keep only its kind.
    throw new KubeTransportError("credentials", error instanceof Error ? error.name : "credential failure", {
      cause: error,
    });
  }
  const headers: HeaderValues = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const normalized = headerValue(value);
    if (normalized !== undefined) headers[name] = normalized;
  }
  if (typeof options.auth === "string" && options.auth.includes(":")) {
    headers.Authorization = `Basic ${Buffer.from(options.auth, "utf8").toString("base64")}`;
  }
  const asBuffer = (value: unknown) =>
    typeof value === "string" ? Buffer.from(value) : Buffer.isBuffer(value) ? value : undefined;
  return { cert: asBuffer(options.cert), key: asBuffer(options.key), headers };
}
