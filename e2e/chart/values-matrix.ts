// The chart's values matrix and a render helper: every combination the repo tests template and
// the fleet test applies as a server-side dry run (H2's install test may reuse both). Credentials
// are generated per process, so a test can search the rendered output for them.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { helmBinary } from "../fleet/helm-kubectl.ts";

const run = promisify(execFile);

export const chartDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../charts/capi-mcp");

/** Generated secrets: each appears in a values file and must never appear in plain text elsewhere. */
export const generatedSecrets = {
  dexClientSecret: `dex-${randomBytes(12).toString("hex")}`,
  googleClientSecret: `google-${randomBytes(12).toString("hex")}`,
  oidcClientSecret: `oidc-${randomBytes(12).toString("hex")}`,
  registrationToken: `reg-${randomBytes(12).toString("hex")}`,
  encryptionKey: randomBytes(32).toString("hex"),
  valkeyPassword: `valkey-${randomBytes(12).toString("hex")}`,
} as const;

export type Values = { [key: string]: unknown };

/** Custom resources an entry renders that a bare API server does not serve. */
export type NeededApi = "gateway.networking.k8s.io" | "gateway.envoyproxy.io" | "monitoring.coreos.com";

export interface MatrixEntry {
  readonly name: string;
  readonly values: Values;
  /** Extra `helm template` arguments (capabilities: --api-versions, --kube-version). */
  readonly helmArguments?: readonly string[];
  readonly needs?: readonly NeededApi[];
}

/** The namespaces holding the fleet's Cluster objects. */
export const clusterNamespaces = ["org-acme", "org-globex"];

const oauthDex = {
  enabled: true,
  baseURL: "https://mcp.example.com",
  provider: "dex",
  dex: { issuerURL: "https://dex.example.com", clientID: "capi-mcp", clientSecret: generatedSecrets.dexClientSecret },
};

/** A complete install: CAPI mode, impersonation, Dex, the Cluster namespaces of the fleet. */
export const baseValues: Values = {
  mcpKubernetes: { oauth: oauthDex },
  capiMode: { enabled: true, rbac: { allowedNamespaces: clusterNamespaces } },
};

const valkey = (type: "valkey" | "redis") => ({
  encryptionKey: generatedSecrets.encryptionKey,
  storage: { type, valkey: { url: "redis://valkey.capi-mcp.svc:6379", password: generatedSecrets.valkeyPassword } },
});

const monitoringApis = ["--api-versions", "monitoring.coreos.com/v1"];

export const valuesMatrix: readonly MatrixEntry[] = [
  { name: "impersonation-dex", values: baseValues },
  {
    name: "sso-passthrough-configmap",
    values: merge(baseValues, {
      capiMode: { workloadClusterAuth: { mode: "sso-passthrough" } },
      mcpKubernetes: { oauth: { dex: { kubernetesAuthenticatorClientID: "kubernetes" } } },
    }),
  },
  {
    name: "sso-passthrough-ca-secret",
    values: merge(baseValues, {
      capiMode: { workloadClusterAuth: { mode: "sso-passthrough", caSecretSuffix: "-ca" } },
    }),
  },
  {
    name: "cluster-wide-secrets",
    values: merge(baseValues, { capiMode: { rbac: { allowedNamespaces: [], clusterWideSecrets: true } } }),
  },
  {
    name: "google",
    values: merge(baseValues, {
      mcpKubernetes: {
        oauth: {
          provider: "google",
          google: { clientID: "capi-mcp.apps.example.com", clientSecret: generatedSecrets.googleClientSecret },
          registrationAccessToken: generatedSecrets.registrationToken,
        },
      },
    }),
  },
  {
    name: "oidc-private-ca",
    values: merge(baseValues, {
      mcpKubernetes: {
        oauth: {
          provider: "oidc",
          oidc: {
            issuerURL: "https://idp.example.com",
            clientID: "capi-mcp",
            clientSecret: generatedSecrets.oidcClientSecret,
            caSecret: { name: "idp-ca", key: "ca.crt" },
          },
        },
      },
      capiMode: { workloadClusterAuth: { groupMappings: { "platform-admins": ["cluster-admins"] } } },
    }),
  },
  {
    name: "existing-secret",
    values: merge(baseValues, {
      mcpKubernetes: { oauth: { existingSecret: "capi-mcp-credentials", dex: { clientSecret: "" } } },
    }),
  },
  {
    name: "ingress-tls",
    values: merge(baseValues, {
      ingress: {
        enabled: true,
        className: "nginx",
        annotations: { "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600" },
        hosts: [{ host: "mcp.example.com", paths: [{ path: "/", pathType: "Prefix" }] }],
        tls: [{ hosts: ["mcp.example.com"], secretName: "mcp-example-tls" }],
      },
      mcpKubernetes: { http: { trustedProxies: ["10.0.0.0/8"] } },
    }),
  },
  {
    name: "gateway-api",
    values: merge(baseValues, {
      gatewayAPI: {
        enabled: true,
        httpRoute: { parentRefs: [{ name: "public", namespace: "gateways" }], hostnames: ["mcp.example.com"] },
        backendTrafficPolicy: { enabled: true },
      },
    }),
    needs: ["gateway.networking.k8s.io", "gateway.envoyproxy.io"],
  },
  {
    name: "replicas-valkey",
    values: merge(baseValues, { replicaCount: 2, mcpKubernetes: { oauth: valkey("valkey") } }),
  },
  {
    name: "replicas-kube-1.20",
    values: merge(baseValues, { replicaCount: 3, mcpKubernetes: { oauth: valkey("redis") } }),
    helmArguments: ["--kube-version", "1.20.2"],
  },
  {
    name: "autoscaling-redis",
    values: merge(baseValues, {
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 5 },
      mcpKubernetes: { oauth: valkey("redis") },
    }),
  },
  {
    name: "network-policy",
    values: merge(baseValues, {
      networkPolicy: {
        enabled: true,
        ingressFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
        egress: {
          apiServers: { cidrs: ["10.96.0.1/32", "192.168.0.0/16"] },
          identityProvider: { cidrs: ["203.0.113.0/24"] },
        },
      },
      mcpKubernetes: { metrics: { enabled: true } },
    }),
  },
  {
    name: "monitoring",
    values: merge(baseValues, {
      mcpKubernetes: {
        metrics: { enabled: true, port: 9090 },
        instrumentation: {
          tracingExporter: "otlp",
          otlpEndpoint: "otel-collector.monitoring:4318",
          serviceMonitor: { enabled: true, interval: "30s" },
        },
      },
      prometheusRules: { enabled: true, runbookBaseUrl: "https://runbooks.example.com/capi-mcp" },
      grafanaDashboards: { enabled: true },
    }),
    helmArguments: monitoringApis,
    needs: ["monitoring.coreos.com"],
  },
  {
    name: "kubeconfig-mode",
    values: merge(baseValues, {
      capiMode: { enabled: false, rbac: { allowedNamespaces: [] } },
      mcpKubernetes: { kubernetes: { kubeconfigSecret: { name: "fleet-kubeconfig" } } },
    }),
  },
  {
    name: "kubeconfig-mode-sso",
    values: merge(baseValues, {
      capiMode: { enabled: false, rbac: { allowedNamespaces: [] }, workloadClusterAuth: { mode: "sso-passthrough" } },
      mcpKubernetes: { kubernetes: { kubeconfigSecret: { name: "fleet-kubeconfig" } } },
    }),
  },
];

/** A deep merge for values: objects merge, everything else (lists included) replaces. */
export function merge(base: Values, override: Values): Values {
  const result: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] =
      isPlainObject(current) && isPlainObject(value)
        ? merge(current as Values, value as Values)
        : structuredClone(value);
  }
  return result;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Rendered {
  /** The manifests as helm printed them. */
  readonly text: string;
  readonly objects: KubeObject[];
  /** The one object of a kind (and name, when given); fails when there is not exactly one. */
  one(kind: string, name?: string): KubeObject;
  all(kind: string): KubeObject[];
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly helmArguments?: readonly string[];
}

export class HelmFailure extends Error {
  readonly stderr: string;
  readonly exitCode: number | undefined;
  constructor(stderr: string, exitCode: number | undefined) {
    super(`helm failed (exit ${exitCode}): ${stderr}`);
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

/** `helm <subcommand> ... -f <values>` with the values written to a private temporary file. */
export async function helmWithValues(
  subcommandArguments: readonly string[],
  values: Values,
): Promise<{ stdout: string; stderr: string }> {
  const directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-chart-"));
  try {
    const valuesFile = path.join(directory, "values.yaml");
    await writeFile(valuesFile, JSON.stringify(values), { mode: 0o600 });
    return await run(helmBinary(), [...subcommandArguments, "-f", valuesFile], {
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, HELM_CACHE_HOME: directory, HELM_CONFIG_HOME: directory, HELM_DATA_HOME: directory },
    });
  } catch (error) {
    const failure = error as { stderr?: string; code?: number };
    if (typeof failure.stderr === "string") throw new HelmFailure(failure.stderr, failure.code);
    throw error;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** `helm template` of the chart with these values, parsed into objects. */
export async function renderChart(values: Values, options: RenderOptions = {}): Promise<Rendered> {
  const { stdout } = await helmWithValues(
    [
      "template",
      options.release ?? "capi-mcp",
      chartDirectory,
      "--namespace",
      options.namespace ?? "capi-mcp",
      ...(options.helmArguments ?? []),
    ],
    values,
  );
  const objects = parseAllDocuments(stdout)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`helm printed invalid YAML: ${document.errors[0]?.message}`);
      return document.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
  const all = (kind: string) => objects.filter((object) => object.kind === kind);
  return {
    text: stdout,
    objects,
    all,
    one(kind, name) {
      const found = all(kind).filter((object) => name === undefined || object.metadata.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, rendered ${found.length}`);
      }
      return found[0] as KubeObject;
    },
  };
}

/** Renders one matrix entry. */
export function renderEntry(entry: MatrixEntry, options: RenderOptions = {}): Promise<Rendered> {
  return renderChart(entry.values, {
    ...options,
    helmArguments: [...(entry.helmArguments ?? []), ...(options.helmArguments ?? [])],
  });
}

/** The rendered gateway config file (the ConfigMap's config.yaml). */
export function configFileOf(rendered: Rendered): string {
  const configMap = rendered
    .all("ConfigMap")
    .find((object) => (object.data as Record<string, string> | undefined)?.["config.yaml"] !== undefined);
  if (!configMap) throw new Error("no ConfigMap with config.yaml was rendered");
  return (configMap.data as Record<string, string>)["config.yaml"] as string;
}
