// charts/capi-mcp without a cluster: helm lint, helm template over the values matrix (objects
// parsed and checked), the schema's refusals as helm prints them, and the rendered config file
// read by the gateway's own loader.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { loadConfig } from "@capi-mcp/gateway";
import { describe, expect, it } from "vitest";
import {
  baseValues,
  chartDirectory,
  clusterNamespaces,
  configFileOf,
  generatedSecrets,
  HelmFailure,
  helmWithValues,
  type KubeObject,
  merge,
  type Rendered,
  renderChart,
  renderEntry,
  type Values,
  valuesMatrix,
} from "../chart/values-matrix.ts";
import { helmBinary } from "../fleet/helm-kubectl.ts";

const run = promisify(execFile);
const entry = (name: string) => {
  const found = valuesMatrix.find((item) => item.name === name);
  if (!found) throw new Error(`no matrix entry ${name}`);
  return found;
};

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface Container {
  args: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
  volumeMounts: { name: string; mountPath: string }[];
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
  securityContext: Record<string, unknown>;
}
interface PodSpec {
  automountServiceAccountToken: boolean;
  containers: Container[];
  volumes: { name: string; [key: string]: unknown }[];
  topologySpreadConstraints?: unknown[];
  securityContext: Record<string, unknown>;
}

const podOf = (rendered: Rendered): PodSpec =>
  (rendered.one("Deployment").spec as { template: { spec: PodSpec } }).template.spec;
const containerOf = (rendered: Rendered): Container => podOf(rendered).containers[0] as Container;

/** Every RBAC rule rendered, as "kind/namespace: group resource verbs" lines, sorted. */
function rbacRules(rendered: Rendered): string[] {
  const lines: string[] = [];
  for (const role of [...rendered.all("ClusterRole"), ...rendered.all("Role")]) {
    const scope = role.kind === "ClusterRole" ? "cluster" : `role/${role.metadata.namespace}`;
    for (const rule of (role.rules as Rule[] | undefined) ?? []) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          lines.push(`${scope}: ${group || "core"} ${resource} ${[...rule.verbs].sort().join(",")}`);
        }
      }
    }
  }
  return lines.sort();
}

/** Each binding must bind its role to the chart's ServiceAccount, in the release namespace. */
function expectBindingsToServiceAccount(rendered: Rendered): void {
  const account = rendered.one("ServiceAccount");
  for (const binding of [...rendered.all("ClusterRoleBinding"), ...rendered.all("RoleBinding")]) {
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: account.metadata.name, namespace: "capi-mcp" }]);
    const roleRef = binding.roleRef as { kind: string; name: string };
    const role = rendered
      .all(roleRef.kind)
      .find(
        (object) =>
          object.metadata.name === roleRef.name &&
          (binding.kind === "ClusterRoleBinding" || object.metadata.namespace === binding.metadata.namespace),
      );
    expect(role, `${binding.kind} ${binding.metadata.name} binds a role that exists`).toBeDefined();
  }
}

async function loadRenderedConfig(rendered: Rendered) {
  const directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-chart-config-"));
  try {
    const configFile = path.join(directory, "config.yaml");
    await writeFile(configFile, configFileOf(rendered));
    // The container's plain environment too: the instrumentation variables are the loader's to check.
    const environment = Object.fromEntries(
      (containerOf(rendered).env ?? []).flatMap((variable) =>
        variable.value === undefined ? [] : [[variable.name, variable.value] as const],
      ),
    );
    return loadConfig({ flags: {}, environment, configFile, homeDirectory: directory });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function refusal(values: Values, helmArguments: string[] = []): Promise<string> {
  try {
    await renderChart(values, { helmArguments });
  } catch (error) {
    if (error instanceof HelmFailure) return error.stderr;
    throw error;
  }
  throw new Error("helm template accepted values it should refuse");
}

describe("helm lint", () => {
  it("passes --strict on the base values and on every matrix entry's values", async () => {
    for (const item of [{ name: "base", values: baseValues }, ...valuesMatrix]) {
      const { stdout } = await helmWithValues(["lint", "--strict", chartDirectory], item.values);
      expect(stdout, item.name).toContain("1 chart(s) linted, 0 chart(s) failed");
    }
  });

  it("fails --strict on values the chart refuses", async () => {
    const result = await run(helmBinary(), ["lint", "--strict", chartDirectory, "--set", "replicaCount=two"]).catch(
      (error: { stdout: string; stderr: string; code: number }) => error,
    );
    expect("code" in result ? result.code : 0).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toContain(
      "[ERROR] values.yaml: - at '/replicaCount': got string, want integer",
    );
    expect(`${result.stdout}${result.stderr}`).toContain("1 chart(s) linted, 1 chart(s) failed");
  });
});

describe("every matrix entry", () => {
  it("renders, and its config file is accepted by the gateway's own loader", async () => {
    for (const item of valuesMatrix) {
      const rendered = await renderEntry(item);
      const config = await loadRenderedConfig(rendered);
      expect(config.transport, item.name).toBe("streamable-http");
      expect(config.enableOauth, item.name).toBe(true);
      expect(config.nonDestructive, item.name).toBe(true);
      expect(config.allowSecretValues, item.name).toBe(false);
      const args = containerOf(rendered).args;
      expect(args, item.name).toEqual(["serve", "--config", "/etc/capi-mcp/config.yaml"]);
    }
  });

  it("never puts a secret value in args, env, the ConfigMap or annotations; only in the chart's Secret", async () => {
    for (const item of valuesMatrix) {
      const rendered = await renderEntry(item);
      for (const secret of Object.values(generatedSecrets)) {
        expect(rendered.text.includes(secret), `${item.name}: plain ${secret.slice(0, 4)}… in the output`).toBe(false);
        const encoded = Buffer.from(secret).toString("base64");
        for (const object of rendered.objects.filter((candidate) => candidate.kind !== "Secret")) {
          expect(JSON.stringify(object).includes(encoded), `${item.name}: ${object.kind} holds a secret`).toBe(false);
        }
      }
      const container = containerOf(rendered);
      for (const variable of container.env ?? []) {
        expect(variable.valueFrom?.secretKeyRef, `${item.name}: env ${variable.name}`).toBeUndefined();
      }
      expect(container.args.join(" ")).not.toMatch(/secret|token|password|key/i);
    }
  });

  it("runs as non-root with a read-only root, no capabilities, RuntimeDefault seccomp and a projected token", async () => {
    for (const item of valuesMatrix) {
      const rendered = await renderEntry(item);
      const pod = podOf(rendered);
      const container = containerOf(rendered);
      expect(pod.automountServiceAccountToken, item.name).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(container.volumeMounts.find((mount) => mount.mountPath === "/tmp")?.name).toBe("tmp");
      const capi = (item.values.capiMode as { enabled: boolean }).enabled;
      const token = pod.volumes.find((volume) => volume.name === "service-account-token") as
        | { projected: { sources: { serviceAccountToken?: { expirationSeconds: number } }[] } }
        | undefined;
      if (capi) {
        expect(token?.projected.sources[0]?.serviceAccountToken?.expirationSeconds, item.name).toBe(3600);
      } else {
        expect(token, `${item.name}: kubeconfig mode mounts no service-account token`).toBeUndefined();
      }
    }
  });
});

describe("RBAC, rendered from the mode", () => {
  const namespaced = (resource: string) =>
    clusterNamespaces.flatMap((namespace) => [
      `role/${namespace}: cluster.x-k8s.io clusters get,list,watch`,
      `role/${namespace}: core ${resource} get,list,watch`,
    ]);
  const reviews = "cluster: authorization.k8s.io subjectaccessreviews create";

  it("impersonation: Cluster objects and Secrets in each allowed namespace, reviews cluster-wide", async () => {
    const rendered = await renderEntry(entry("impersonation-dex"));
    expect(rbacRules(rendered)).toEqual([reviews, ...namespaced("secrets")].sort());
    expect(rendered.all("Role").map((role) => role.metadata.namespace)).toEqual(clusterNamespaces);
    expectBindingsToServiceAccount(rendered);
    const config = await loadRenderedConfig(rendered);
    expect(config).toMatchObject({ enableCapi: true, inCluster: true, workloadAuth: "impersonation" });
    expect(config.capiNamespaces).toEqual(clusterNamespaces);
  });

  it("SSO passthrough (default): ConfigMaps, and no Secret rule anywhere", async () => {
    const rendered = await renderEntry(entry("sso-passthrough-configmap"));
    expect(rbacRules(rendered)).toEqual([reviews, ...namespaced("configmaps")].sort());
    expect(rbacRules(rendered).some((line) => line.includes("secrets"))).toBe(false);
    expectBindingsToServiceAccount(rendered);
    const config = await loadRenderedConfig(rendered);
    expect(config).toMatchObject({ workloadAuth: "sso-passthrough", caConfigmapSuffix: "-ca-public" });
    expect(config.caSecretSuffix).toBeUndefined();
    expect(config.dexKubernetesAudience).toBe("kubernetes");
  });

  it("SSO passthrough with caSecretSuffix: Secrets instead of ConfigMaps, and NOTES warn of the CA key", async () => {
    const item = entry("sso-passthrough-ca-secret");
    const rendered = await renderEntry(item);
    expect(rbacRules(rendered)).toEqual([reviews, ...namespaced("secrets")].sort());
    const config = await loadRenderedConfig(rendered);
    expect(config).toMatchObject({ workloadAuth: "sso-passthrough", caSecretSuffix: "-ca" });
    expect(config.caConfigmapSuffix).toBeUndefined();
    const { stdout } = await helmWithValues(
      ["install", "capi-mcp", chartDirectory, "--dry-run=client", "--namespace", "capi-mcp"],
      item.values,
    );
    expect(stdout).toContain("CAPI's <name>-ca Secret holds the workload");
    expect(stdout).toContain("PRIVATE KEY");
  });

  it("clusterWideSecrets: one ClusterRole for clusters and Secrets, no Roles, every namespace watched", async () => {
    const rendered = await renderEntry(entry("cluster-wide-secrets"));
    expect(rbacRules(rendered)).toEqual(
      [reviews, "cluster: cluster.x-k8s.io clusters get,list,watch", "cluster: core secrets get,list,watch"].sort(),
    );
    expect(rendered.all("Role")).toHaveLength(0);
    expect((await loadRenderedConfig(rendered)).capiNamespaces).toBeUndefined();
  });

  it("kubeconfig mode (both auth modes): no rules on the management cluster at all", async () => {
    for (const [name, mode] of [
      ["kubeconfig-mode", "impersonation"],
      ["kubeconfig-mode-sso", "sso-passthrough"],
    ] as const) {
      const rendered = await renderEntry(entry(name));
      expect(rbacRules(rendered), name).toEqual([]);
      expect([...rendered.all("ClusterRoleBinding"), ...rendered.all("RoleBinding")], name).toHaveLength(0);
      const config = await loadRenderedConfig(rendered);
      expect(config).toMatchObject({ enableCapi: false, inCluster: false, kubeAuth: mode });
      expect(config.kubeconfig).toBe("/etc/capi-mcp/kubeconfig/kubeconfig");
      const volume = podOf(rendered).volumes.find((item) => item.name === "kubeconfig") as unknown as {
        secret: { secretName: string };
      };
      expect(volume.secret.secretName).toBe("fleet-kubeconfig");
    }
  });

  it("renders no RBAC when rbac.create is false", async () => {
    const rendered = await renderChart(merge(baseValues, { rbac: { create: false } }));
    expect(rbacRules(rendered)).toEqual([]);
  });
});

describe("OAuth providers and secrets as files", () => {
  const secretFiles = (rendered: Rendered) => {
    const volume = podOf(rendered).volumes.find((item) => item.name === "secrets") as
      | { projected: { sources: { secret: { name: string; items: { key: string; path: string }[] } }[] } }
      | undefined;
    return (volume?.projected.sources ?? []).flatMap((source) =>
      source.secret.items.map((item) => `${source.secret.name}:${item.key}`),
    );
  };

  it("dex: the client secret is a file from the chart's Secret", async () => {
    const rendered = await renderEntry(entry("impersonation-dex"));
    expect(secretFiles(rendered)).toEqual(["capi-mcp-oauth:dex-client-secret"]);
    const secret = rendered.one("Secret", "capi-mcp-oauth");
    expect(Object.keys(secret.data as object)).toEqual(["dex-client-secret"]);
    expect(
      Buffer.from((secret.data as Record<string, string>)["dex-client-secret"] as string, "base64").toString(),
    ).toBe(generatedSecrets.dexClientSecret);
    const config = await loadRenderedConfig(rendered);
    expect(config).toMatchObject({
      oauthProvider: "dex",
      dexIssuerUrl: "https://dex.example.com",
      dexClientSecretFile: "/etc/capi-mcp/secrets/dex-client-secret",
      tokenStore: "memory",
    });
  });

  it("google: client secret and registration token as files", async () => {
    const rendered = await renderEntry(entry("google"));
    expect(secretFiles(rendered)).toEqual(["capi-mcp-oauth:google-client-secret", "capi-mcp-oauth:registration-token"]);
    const config = await loadRenderedConfig(rendered);
    expect(config).toMatchObject({
      oauthProvider: "google",
      googleClientId: "capi-mcp.apps.example.com",
      googleClientSecretFile: "/etc/capi-mcp/secrets/google-client-secret",
      registrationTokenFile: "/etc/capi-mcp/secrets/registration-token",
    });
  });

  it("oidc with a private CA: the CA Secret mounted and named by oidcCaFile; group mappings as a file", async () => {
    const rendered = await renderEntry(entry("oidc-private-ca"));
    const config = await loadRenderedConfig(rendered);
    expect(config).toMatchObject({
      oauthProvider: "oidc",
      oidcIssuerUrl: "https://idp.example.com",
      oidcClientSecretFile: "/etc/capi-mcp/secrets/oidc-client-secret",
      oidcCaFile: "/etc/capi-mcp/oidc-ca/ca.crt",
      groupMappingsFile: "/etc/capi-mcp/group-mappings.json",
    });
    const volume = podOf(rendered).volumes.find((item) => item.name === "oidc-ca") as unknown as {
      secret: { secretName: string };
    };
    expect(volume.secret.secretName).toBe("idp-ca");
    const configMap = rendered.one("ConfigMap", "capi-mcp");
    expect(JSON.parse((configMap.data as Record<string, string>)["group-mappings.json"] as string)).toEqual({
      "platform-admins": ["cluster-admins"],
    });
  });

  it("existingSecret: no Secret is rendered and its keys are mounted by reference", async () => {
    const rendered = await renderEntry(entry("existing-secret"));
    expect(rendered.all("Secret")).toHaveLength(0);
    expect(secretFiles(rendered)).toEqual(["capi-mcp-credentials:dex-client-secret"]);
    const withToken = await renderChart(
      merge(entry("existing-secret").values, {
        mcpKubernetes: { oauth: { existingSecretHasRegistrationToken: true } },
      }),
    );
    expect(secretFiles(withToken)).toEqual([
      "capi-mcp-credentials:dex-client-secret",
      "capi-mcp-credentials:registration-token",
    ]);
  });

  it("refuses dex.caSecret, naming the value and what to use instead", async () => {
    const stderr = await refusal(
      merge(baseValues, { mcpKubernetes: { oauth: { dex: { caSecret: { name: "dex-ca" } } } } }),
    );
    expect(stderr).toContain("mcpKubernetes.oauth.dex.caSecret: the gateway takes a private CA only for provider oidc");
  });
});

describe("several replicas", () => {
  it("2 replicas with valkey: redis store, encryption key and password as files, PDB policy/v1, spread", async () => {
    const rendered = await renderEntry(entry("replicas-valkey"));
    const config = await loadRenderedConfig(rendered);
    expect(config).toMatchObject({
      tokenStore: "redis",
      redisUrl: "redis://valkey.capi-mcp.svc:6379",
      redisPasswordFile: "/etc/capi-mcp/secrets/valkey-password",
      tokenEncryptionKeyFile: "/etc/capi-mcp/secrets/oauth-encryption-key",
    });
    expect((rendered.one("Deployment").spec as { replicas: number }).replicas).toBe(2);
    const budget = rendered.one("PodDisruptionBudget");
    expect(budget.apiVersion).toBe("policy/v1");
    expect(budget.spec).toMatchObject({ maxUnavailable: 1 });
    expect(podOf(rendered).topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: {
          matchLabels: { "app.kubernetes.io/name": "capi-mcp", "app.kubernetes.io/instance": "capi-mcp" },
        },
      },
    ]);
  });

  it("on Kubernetes 1.20 the PDB is policy/v1beta1; one replica renders no PDB and no spread", async () => {
    expect((await renderEntry(entry("replicas-kube-1.20"))).one("PodDisruptionBudget").apiVersion).toBe(
      "policy/v1beta1",
    );
    const single = await renderChart(baseValues);
    expect(single.all("PodDisruptionBudget")).toHaveLength(0);
    expect(podOf(single).topologySpreadConstraints).toBeUndefined();
  });

  it("autoscaling: an HPA (autoscaling/v2, v2beta2 on 1.20) and no fixed replicas", async () => {
    const rendered = await renderEntry(entry("autoscaling-redis"));
    expect(rendered.one("HorizontalPodAutoscaler").apiVersion).toBe("autoscaling/v2");
    expect(rendered.one("HorizontalPodAutoscaler").spec).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect((rendered.one("Deployment").spec as { replicas?: number }).replicas).toBeUndefined();
    const old = await renderEntry(entry("autoscaling-redis"), { helmArguments: ["--kube-version", "1.20.2"] });
    expect(old.one("HorizontalPodAutoscaler").apiVersion).toBe("autoscaling/v2beta2");
  });
});

describe("routing", () => {
  it("ingress with TLS: hosts, class, TLS secret, and the host accepted by the gateway", async () => {
    const rendered = await renderEntry(entry("ingress-tls"));
    const ingress = rendered.one("Ingress");
    expect(ingress.spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["mcp.example.com"], secretName: "mcp-example-tls" }],
      rules: [
        {
          host: "mcp.example.com",
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name: "capi-mcp", port: { name: "http" } } } },
            ],
          },
        },
      ],
    });
    const config = await loadRenderedConfig(rendered);
    expect(config.allowedHosts).toContain("mcp.example.com");
    expect(config.trustedProxies).toEqual(["10.0.0.0/8"]);
  });

  it("Gateway API: an HTTPRoute whose timeouts are 0s and an Envoy BackendTrafficPolicy with 0s", async () => {
    const rendered = await renderEntry(entry("gateway-api"));
    const route = rendered.one("HTTPRoute");
    expect(route.apiVersion).toBe("gateway.networking.k8s.io/v1");
    expect(route.spec).toMatchObject({
      parentRefs: [{ name: "public", namespace: "gateways" }],
      hostnames: ["mcp.example.com"],
      rules: [{ backendRefs: [{ name: "capi-mcp", port: 8080 }], timeouts: { request: "0s", backendRequest: "0s" } }],
    });
    const policy = rendered.one("BackendTrafficPolicy");
    expect(policy.spec).toEqual({
      targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "capi-mcp" }],
      timeout: { http: { requestTimeout: "0s" } },
    });
  });

  it("the probes hit /healthz and /readyz on the http port, and can be overridden or dropped", async () => {
    const rendered = await renderChart(baseValues);
    const container = containerOf(rendered);
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "http" } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: "/readyz", port: "http" } });
    expect(container.startupProbe).toMatchObject({ httpGet: { path: "/healthz" }, failureThreshold: 60 });
    // In-cluster callers name the Service; the gateway accepts those Host names.
    expect((await loadRenderedConfig(rendered)).allowedHosts).toEqual(
      expect.arrayContaining(["capi-mcp.capi-mcp.svc:8080", "capi-mcp.capi-mcp.svc.cluster.local:8080"]),
    );
    const custom = containerOf(
      await renderChart(
        merge(baseValues, {
          probes: {
            liveness: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 30 },
            startup: null,
          },
        }),
      ),
    );
    expect(custom.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 30 });
    expect(custom.startupProbe).toBeUndefined();
  });
});

describe("NetworkPolicy", () => {
  it("lets in the MCP port from the chosen peers, metrics only from the monitoring namespace; out only API servers, IdP, DNS", async () => {
    const rendered = await renderEntry(entry("network-policy"));
    const policy = rendered.one("NetworkPolicy");
    expect(policy.apiVersion).toBe("networking.k8s.io/v1");
    const spec = policy.spec as { policyTypes: string[]; ingress: unknown[]; egress: unknown[] };
    expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(spec.ingress).toEqual([
      {
        ports: [{ port: "http", protocol: "TCP" }],
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
      },
      {
        ports: [{ port: "metrics", protocol: "TCP" }],
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      },
    ]);
    expect(spec.egress).toEqual([
      {
        ports: [
          { port: 443, protocol: "TCP" },
          { port: 6443, protocol: "TCP" },
        ],
        to: [{ ipBlock: { cidr: "10.96.0.1/32" } }, { ipBlock: { cidr: "192.168.0.0/16" } }],
      },
      { ports: [{ port: 443, protocol: "TCP" }], to: [{ ipBlock: { cidr: "203.0.113.0/24" } }] },
      {
        ports: [
          { port: 53, protocol: "UDP" },
          { port: 53, protocol: "TCP" },
        ],
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
      },
    ]);
  });

  it("adds Redis egress with the shared token store", async () => {
    const rendered = await renderChart(
      merge(entry("replicas-valkey").values, {
        networkPolicy: { enabled: true, egress: { redis: { podSelector: { matchLabels: { app: "valkey" } } } } },
      }),
    );
    const egress = (rendered.one("NetworkPolicy").spec as { egress: { ports: { port: number }[]; to?: unknown }[] })
      .egress;
    expect(egress.find((rule) => rule.ports[0]?.port === 6379)?.to).toEqual([
      { podSelector: { matchLabels: { app: "valkey" } } },
    ]);
  });
});

describe("monitoring", () => {
  const ruleNames = [
    "McpKubernetesHighErrorRate",
    "McpKubernetesK8sOperationFailures",
    "McpKubernetesOAuthFailures",
    "McpKubernetesClusterOperationFailures",
    "McpKubernetesWorkloadClusterAuthFailures",
  ];

  it("with monitoring.coreos.com/v1: a ServiceMonitor on the metrics port and alerts on giantswarm's metric names", async () => {
    const rendered = await renderEntry(entry("monitoring"));
    expect(rendered.one("ServiceMonitor").spec).toMatchObject({
      endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
      namespaceSelector: { matchNames: ["capi-mcp"] },
    });
    const service = rendered.one("Service").spec as { ports: { name: string; port: number }[] };
    expect(service.ports.map((port) => `${port.name}:${port.port}`)).toEqual(["http:8080", "metrics:9090"]);
    const groups = (rendered.one("PrometheusRule").spec as { groups: { rules: { alert: string; expr: string }[] }[] })
      .groups;
    const rules = groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.alert)).toEqual(ruleNames);
    const expressions = Object.fromEntries(rules.map((rule) => [rule.alert, rule.expr]));
    expect(expressions.McpKubernetesHighErrorRate).toContain(
      'http_requests_total{namespace="capi-mcp", job="capi-mcp", status=~"5.."}',
    );
    expect(expressions.McpKubernetesOAuthFailures).toContain(
      'oauth_downstream_auth_total{namespace="capi-mcp", job="capi-mcp", result="failure"}',
    );
    expect(expressions.McpKubernetesWorkloadClusterAuthFailures).toContain(
      "sum by (auth_mode) (rate(mcp_kubernetes_wc_auth_total{",
    );
    expect(expressions.McpKubernetesClusterOperationFailures).toContain('cluster_scope="workload", status="error"');
    const config = await loadRenderedConfig(rendered);
    expect(config.metricsAddr).toBe(":9090");
    expect(config.instrumentation).toMatchObject({ tracingExporter: "otlp", metricsExporter: "prometheus" });
  });

  it("instrumentation values become giantswarm's environment variables", async () => {
    const env = containerOf(await renderEntry(entry("monitoring"))).env ?? [];
    const plain = Object.fromEntries(
      env.filter((item) => item.value !== undefined).map((item) => [item.name, item.value]),
    );
    expect(plain).toMatchObject({
      INSTRUMENTATION_ENABLED: "true",
      METRICS_EXPORTER: "prometheus",
      TRACING_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: "otel-collector.monitoring:4318",
      OTEL_EXPORTER_OTLP_INSECURE: "false",
      OTEL_TRACES_SAMPLER_ARG: "0.1",
      METRICS_DETAILED_LABELS: "false",
      OTEL_SERVICE_NAME: "capi-mcp",
    });
    expect(env.find((item) => item.name === "K8S_POD_NAME")?.valueFrom).toEqual({
      fieldRef: { fieldPath: "metadata.name" },
    });
  });

  it("grafanaDashboards: one ConfigMap holding every files/dashboards/*.json, for the sidecar", async () => {
    const directory = path.join(chartDirectory, "files/dashboards");
    const files = existsSync(directory)
      ? readdirSync(directory)
          .filter((file) => file.endsWith(".json"))
          .sort()
      : [];
    const rendered = await renderEntry(entry("monitoring"));
    const dashboards = rendered.all("ConfigMap").filter((object) => object.metadata.name === "capi-mcp-dashboards");
    if (files.length === 0) {
      expect(dashboards).toHaveLength(0);
      return;
    }
    const configMap = dashboards[0] as KubeObject;
    expect(configMap.metadata.labels?.grafana_dashboard).toBe("1");
    expect(configMap.metadata.annotations?.grafana_folder).toBe("capi-mcp");
    const data = configMap.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(files);
    for (const file of files) {
      expect(JSON.parse(data[file] as string)).toEqual(JSON.parse(readFileSync(path.join(directory, file), "utf8")));
    }
    expect((await renderChart(baseValues)).all("ConfigMap").map((object) => object.metadata.name)).toEqual([
      "capi-mcp",
    ]);
  });

  it("without the Prometheus Operator API, neither ServiceMonitor nor PrometheusRule is rendered, and NOTES say so", async () => {
    const rendered = await renderChart(entry("monitoring").values);
    expect(rendered.all("ServiceMonitor")).toHaveLength(0);
    expect(rendered.all("PrometheusRule")).toHaveLength(0);
    const install = ["install", "capi-mcp", chartDirectory, "--dry-run=client", "--namespace", "capi-mcp"];
    const without = await helmWithValues(install, entry("monitoring").values);
    expect(without.stdout).toContain("does not serve monitoring.coreos.com/v1 (Prometheus Operator)");
    // helm install has no --api-versions; with the API the objects render (the test above).
  });
});

describe("audit records", () => {
  it("go to stdout by default, and to a rotated file as well when a path is given", async () => {
    expect((await loadRenderedConfig(await renderChart(baseValues))).auditLog).toBe("stdout");
    const config = await loadRenderedConfig(
      await renderChart(
        merge(baseValues, {
          mcpKubernetes: { auditLogFile: { path: "/var/log/capi-mcp/audit.jsonl", maxSize: 50, maxBackups: 3 } },
        }),
      ),
    );
    expect(config).toMatchObject({
      auditLog: "stdout",
      auditLogFile: "/var/log/capi-mcp/audit.jsonl",
      auditLogMaxSize: 50,
      auditLogMaxBackups: 3,
    });
  });
});

describe("the checksum annotation", () => {
  const checksums = (rendered: Rendered) =>
    (rendered.one("Deployment").spec as { template: { metadata: { annotations: Record<string, string> } } }).template
      .metadata.annotations;

  it("is stable for the same values and changes when the config or the Secret changes", async () => {
    const first = checksums(await renderChart(baseValues));
    const again = checksums(await renderChart(baseValues));
    expect(again).toEqual(first);
    expect(first["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
    const configChanged = checksums(
      await renderChart(merge(baseValues, { mcpKubernetes: { safety: { qpsLimit: 5 } } })),
    );
    expect(configChanged["checksum/config"]).not.toBe(first["checksum/config"]);
    expect(configChanged["checksum/secret"]).toBe(first["checksum/secret"]);
    const secretChanged = checksums(
      await renderChart(
        merge(baseValues, { mcpKubernetes: { oauth: { dex: { clientSecret: "another-generated-one" } } } }),
      ),
    );
    expect(secretChanged["checksum/secret"]).not.toBe(first["checksum/secret"]);
  });
});

describe("values the chart refuses, with helm's own messages naming the key", () => {
  const schemaError = "values don't meet the specifications of the schema(s) in the following chart(s):";

  it("an unknown workload-cluster auth mode", async () => {
    const stderr = await refusal(merge(baseValues, { capiMode: { workloadClusterAuth: { mode: "foo" } } }));
    expect(stderr).toContain(schemaError);
    expect(stderr).toContain(
      "- at '/capiMode/workloadClusterAuth/mode': value must be one of 'impersonation', 'sso-passthrough'",
    );
  });

  it("an unknown top-level key", async () => {
    const stderr = await refusal(merge(baseValues, { replicas: 2 }));
    expect(stderr).toContain("- at '': additional properties 'replicas' not allowed");
  });

  it("an unknown nested key (a giantswarm key with no counterpart)", async () => {
    const stderr = await refusal(merge(baseValues, { capiMode: { connectivity: { retryAttempts: 3 } } }));
    expect(stderr).toContain("- at '/capiMode/connectivity': additional properties 'retryAttempts' not allowed");
  });

  it("two replicas with the in-memory token store", async () => {
    const stderr = await refusal(merge(baseValues, { replicaCount: 2 }));
    expect(stderr).toContain("- at '/mcpKubernetes/oauth/storage/type': value must be one of 'valkey', 'redis'");
    expect(stderr).toContain("- at '/replicaCount': maximum: got 2, want 1");
  });

  it("autoscaling with the in-memory token store", async () => {
    const stderr = await refusal(merge(baseValues, { autoscaling: { enabled: true } }));
    expect(stderr).toContain("- at '/mcpKubernetes/oauth/storage/type': value must be one of 'valkey', 'redis'");
    expect(stderr).toContain("- at '/autoscaling/enabled': value must be false");
  });

  it("the same refusals at helm install time", async () => {
    try {
      await helmWithValues(
        ["install", "capi-mcp", chartDirectory, "--dry-run=client", "--namespace", "capi-mcp"],
        merge(baseValues, { capiMode: { workloadClusterAuth: { mode: "foo" } } }),
      );
      throw new Error("helm install accepted mode foo");
    } catch (error) {
      expect(error).toBeInstanceOf(HelmFailure);
      expect((error as HelmFailure).stderr).toContain(
        "- at '/capiMode/workloadClusterAuth/mode': value must be one of",
      );
    }
  });

  it("rules the schema cannot say: missing OAuth settings, no namespaces, secrets beside existingSecret", async () => {
    const cases: [Values, string][] = [
      [
        merge(baseValues, { mcpKubernetes: { oauth: { enabled: false } } }),
        "mcpKubernetes.oauth.enabled: false is refused",
      ],
      [merge(baseValues, { mcpKubernetes: { oauth: { baseURL: "" } } }), "mcpKubernetes.oauth.baseURL: required"],
      [
        merge(baseValues, { mcpKubernetes: { oauth: { dex: { clientSecret: "" } } } }),
        "mcpKubernetes.oauth.dex.clientSecret: required with provider dex",
      ],
      [
        merge(baseValues, { capiMode: { rbac: { allowedNamespaces: [] } } }),
        "capiMode.rbac.allowedNamespaces: list the namespaces that hold the Cluster objects",
      ],
      [
        merge(baseValues, { mcpKubernetes: { oauth: { existingSecret: "mine" } } }),
        "mcpKubernetes.oauth.dex.clientSecret: leave it empty with mcpKubernetes.oauth.existingSecret (mine)",
      ],
      [
        merge(baseValues, { capiMode: { enabled: false } }),
        "mcpKubernetes.kubernetes.kubeconfigSecret.name: required with capiMode.enabled false",
      ],
      [
        merge(baseValues, { mcpKubernetes: { kubernetes: { inCluster: false } } }),
        "mcpKubernetes.kubernetes.inCluster: must be true with capiMode.enabled",
      ],
      [
        merge(baseValues, { replicaCount: 2, mcpKubernetes: { oauth: { storage: { type: "valkey" } } } }),
        "mcpKubernetes.oauth.storage.valkey.url: required with the valkey/redis token store",
      ],
    ];
    for (const [values, message] of cases) {
      expect(await refusal(values), message).toContain(message);
    }
  });
});

describe("the kinds rendered", () => {
  it("by default: ServiceAccount, Secret, ConfigMap, RBAC, Service, Deployment and nothing else", async () => {
    const kinds = (await renderChart(baseValues)).objects.map((object: KubeObject) => object.kind).sort();
    expect(kinds).toEqual(
      [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Role",
        "Role",
        "RoleBinding",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
      ].sort(),
    );
  });
});
