// Every values-matrix entry of charts/capi-mcp, rendered for the fleet's Kubernetes (1.20) and
// applied with `kubectl apply --server-side --dry-run=server` to the management API server, which
// checks each manifest against its real API schema, admission included, and stores nothing.
//
// A bare API server serves no Gateway API, Envoy Gateway or Prometheus Operator kinds. The test
// installs minimal CRDs for them (group, version, kind; schema open, `x-kubernetes-preserve-
// unknown-fields`), so those objects are checked for kind, version, scope and metadata only:
// their field schemas belong to those projects' CRDs, which this machine does not carry.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type MatrixEntry, type NeededApi, renderEntry, valuesMatrix } from "../chart/values-matrix.ts";
import type { FleetInfo } from "../fleet/fleet.ts";
import { kubectlBinary } from "../fleet/helm-kubectl.ts";
import { fleetInfo } from "../fleet/test-context.ts";

const releaseNamespace = "capi-mcp";
/** The fleet's management API server version, so the chart picks the API versions it serves. */
const kubeVersion = "1.20.2";

let info: FleetInfo;

interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function kubectl(args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      kubectlBinary(),
      ["--kubeconfig", info.management.kubeconfig, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const minimalCrds: Record<NeededApi, { version: string; kinds: { kind: string; plural: string }[] }> = {
  "gateway.networking.k8s.io": { version: "v1", kinds: [{ kind: "HTTPRoute", plural: "httproutes" }] },
  "gateway.envoyproxy.io": {
    version: "v1alpha1",
    kinds: [{ kind: "BackendTrafficPolicy", plural: "backendtrafficpolicies" }],
  },
  "monitoring.coreos.com": {
    version: "v1",
    kinds: [
      { kind: "ServiceMonitor", plural: "servicemonitors" },
      { kind: "PrometheusRule", plural: "prometheusrules" },
    ],
  },
};

const crdNames = Object.entries(minimalCrds).flatMap(([group, api]) =>
  api.kinds.map((kind) => `${kind.plural}.${group}`),
);

function crdManifests(): string {
  return Object.entries(minimalCrds)
    .flatMap(([group, api]) =>
      api.kinds.map((kind) =>
        stringify({
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          metadata: {
            name: `${kind.plural}.${group}`,
            // *.k8s.io groups are protected; "unapproved, …" is the API server's own escape for
            // CRDs that are not the upstream ones, as this minimal stand-in is not.
            ...(group.endsWith(".k8s.io")
              ? { annotations: { "api-approved.kubernetes.io": "unapproved, minimal CRD for a dry-run test" } }
              : {}),
          },
          spec: {
            group,
            scope: "Namespaced",
            names: {
              kind: kind.kind,
              plural: kind.plural,
              singular: kind.kind.toLowerCase(),
              listKind: `${kind.kind}List`,
            },
            versions: [
              {
                name: api.version,
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
              },
            ],
          },
        }),
      ),
    )
    .join("---\n");
}

async function renderForFleet(entry: MatrixEntry) {
  return renderEntry(entry, { namespace: releaseNamespace, helmArguments: ["--kube-version", kubeVersion] });
}

beforeAll(async () => {
  info = await fleetInfo();
  const namespace = await kubectl(["create", "namespace", releaseNamespace]);
  expect(namespace.code, namespace.stderr).toBe(0);
  const crds = await kubectl(["apply", "-f", "-"], crdManifests());
  expect(crds.code, crds.stderr).toBe(0);
  const established = await kubectl([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    ...crdNames.map((name) => `crd/${name}`),
  ]);
  expect(established.code, established.stderr).toBe(0);
});

afterAll(async () => {
  if (!info) return;
  await kubectl(["delete", "--wait=false", "--ignore-not-found", ...crdNames.map((name) => `crd/${name}`)]);
  await kubectl(["delete", "namespace", releaseNamespace, "--wait=false", "--ignore-not-found"]);
});

describe("the chart against the fleet's management API server (server-side dry run)", () => {
  it("accepts every object of every matrix entry, and stores none of them", async () => {
    const summary: string[] = [];
    for (const entry of valuesMatrix) {
      const rendered = await renderForFleet(entry);
      const result = await kubectl(["apply", "--server-side", "--dry-run=server", "-f", "-"], rendered.text);
      expect(result.code, `${entry.name}: ${result.stderr}`).toBe(0);
      const applied = result.stdout.split("\n").filter((line) => line.endsWith("serverside-applied (server dry run)"));
      // One line per object: nothing rendered was skipped or merged away.
      expect(applied.length, `${entry.name}:\n${result.stdout}`).toBe(rendered.objects.length);
      for (const object of rendered.objects) {
        const kind = object.kind.toLowerCase();
        expect(
          applied.some(
            (line) =>
              (line.startsWith(`${kind}.`) || line.startsWith(`${kind}/`)) &&
              line.includes(`/${object.metadata.name} `),
          ),
          `${entry.name}: ${object.kind} ${object.metadata.name} was applied`,
        ).toBe(true);
      }
      summary.push(`${entry.name}: ${applied.length} objects`);
    }
    process.stdout.write(`server-side dry run on Kubernetes ${kubeVersion}:\n  ${summary.join("\n  ")}\n`);
    // A dry run stores nothing.
    const left = await kubectl([
      "get",
      "deployments,services,configmaps,secrets,serviceaccounts",
      "-n",
      releaseNamespace,
      "-o",
      "name",
    ]);
    expect(left.code, left.stderr).toBe(0);
    const stored = left.stdout
      .split("\n")
      .filter((line) => line !== "" && !/\/(default|kube-root-ca\.crt|default-token-\w+)$/.test(line));
    expect(stored).toEqual([]);
  });

  it("picked the versions the server serves: policy/v1 would be refused, so the chart rendered policy/v1beta1", async () => {
    const entry = valuesMatrix.find((item) => item.name === "replicas-valkey") as MatrixEntry;
    const rendered = await renderForFleet(entry);
    expect(rendered.one("PodDisruptionBudget").apiVersion).toBe("policy/v1beta1");
    const newer = await renderEntry(entry, { namespace: releaseNamespace });
    const budget = newer.one("PodDisruptionBudget");
    expect(budget.apiVersion).toBe("policy/v1");
    const refused = await kubectl(["apply", "--server-side", "--dry-run=server", "-f", "-"], stringify(budget));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('no matches for kind "PodDisruptionBudget" in version "policy/v1"');
  });

  it("refuses a manifest the real schema rejects (the dry run checks, it does not rubber-stamp)", async () => {
    const rendered = await renderForFleet(valuesMatrix[0] as MatrixEntry);
    const deployment = structuredClone(rendered.one("Deployment")) as unknown as { spec: { replicas: unknown } };
    deployment.spec.replicas = "two";
    const refused = await kubectl(["apply", "--server-side", "--dry-run=server", "-f", "-"], stringify(deployment));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/replicas/);
  });
});
