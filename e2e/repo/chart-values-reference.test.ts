// docs/deployment.md stays true to the chart: its values reference is what the generator makes
// from values.schema.json now, and its migration table names every giantswarm value.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chartDirectory } from "../chart/values-matrix.ts";
import { deploymentDoc, valuesReference, withReference } from "../chart/values-reference.ts";

const document = readFileSync(deploymentDoc, "utf8");

function leafPaths(node: { properties?: Record<string, unknown> }, prefix: string[] = []): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const here = [...prefix, key];
    const typed = child as { properties?: Record<string, unknown> };
    return typed.properties ? [here.join("."), ...leafPaths(typed, here)] : [here.join(".")];
  });
}

describe("docs/deployment.md", () => {
  it("carries the values reference exactly as `npm run docs:values` generates it", () => {
    expect(withReference(document) === document, "stale: run npm run docs:values").toBe(true);
  });

  it("names every value of the schema in that reference, with its default", () => {
    const schema = JSON.parse(readFileSync(path.join(chartDirectory, "values.schema.json"), "utf8"));
    const reference = valuesReference();
    const paths = leafPaths(schema);
    expect(paths.length).toBeGreaterThan(150);
    for (const key of paths) expect(reference, key).toContain(`- \`${key}\``);
    expect(reference).toContain(
      '- `capiMode.workloadClusterAuth.mode` (string; one of `"impersonation"`, `"sso-passthrough"`; default `"impersonation"`)',
    );
  });

  it("has a migration row for every giantswarm value group", () => {
    const table = document.slice(
      document.indexOf("## Moving from giantswarm"),
      document.indexOf("## How this is tested"),
    );
    const giantswarmValues = [
      "replicaCount",
      "autoscaling.",
      "image.",
      "serviceAccount.",
      "rbac.create",
      "rbac.profile",
      "rbac.adminConfirmation",
      "rbac.custom",
      "podSecurityContext",
      "securityContext",
      "service.",
      "mcpKubernetes.service.port",
      "ingress.",
      "gatewayAPI.enabled",
      "gatewayAPI.httpRoute",
      "gatewayAPI.backendTrafficPolicy",
      "resources",
      "nodeSelector",
      "tolerations",
      "affinity",
      "volumes",
      "volumeMounts",
      "podAnnotations",
      "podLabels",
      "mcpKubernetes.debug",
      "mcpKubernetes.kubernetes.inCluster",
      "mcpKubernetes.kubernetes.kubeconfig",
      "mcpKubernetes.oauth.{enabled,baseURL,provider}",
      "oauth.google.",
      "oauth.dex.",
      "dex.caSecret",
      "registrationAccessToken",
      "allowPublicRegistration",
      "allowInsecureAuthWithoutState",
      "allowPrivateURLs",
      "maxClientsPerIP",
      "oauth.encryptionKey",
      "disableStreaming",
      "enableDownstreamOAuth",
      "oauth.existingSecret",
      "storage.type",
      "valkey.{url,password,existingSecret,secretKeyPassword}",
      "valkey.tls.enabled",
      "valkey.db",
      "valkey.keyPrefix",
      "redirectURISecurity",
      "trustedPublicRegistrationSchemes",
      "disableStrictSchemeMatching",
      "enableCIMD",
      "cimd.allowPrivateIPs",
      "trustedAudiences",
      "trustedIssuers",
      "sso.allowPrivateIPs",
      "instrumentation.{enabled",
      "instrumentation.serviceMonitor",
      "metrics.{enabled,port}",
      "mcpKubernetes.env",
      "capiMode.enabled",
      "cache.{ttl,maxEntries}",
      "cache.cleanupInterval",
      "connectivity.{requestTimeout,qps,burst}",
      "connectivity.{timeout,retryAttempts,retryBackoff}",
      "output.maskSecrets",
      "output.{maxItems,maxClusters,maxResponseBytes,slimOutput}",
      "capiMode.rbac.{create,allowedNamespaces,clusterWideSecrets}",
      "workloadClusterAuth.{mode,caConfigMapSuffix,groupMappings}",
      "workloadClusterAuth.caSecretSuffix",
      "workloadClusterAuth.disableCaching",
      "privilegedAccess",
      "grafanaDashboards.{enabled,namespace,labels,folder}",
      "grafanaDashboards.giantswarm",
      "prometheusRules.{enabled,labels,annotations,runbookBaseUrl}",
      "prometheusRules.team",
      "prometheusRules.rules",
      "ciliumNetworkPolicy",
    ];
    for (const key of giantswarmValues) expect(table, key).toContain(key);
  });
});
