// Property test of the guard's namespace rules on generated manifests: whatever the guard lets
// through, the API server (modelled here by how it names a namespace and a generated name) acts
// on inside the open namespaces; whatever it refuses fails with a GatewayError and reaches
// nothing. The same property against real API servers is e2e/tests/policy-generated-manifests.
import { type ApiResource, type ClusterAccess, GatewayError, type KubeObject, seededRandom } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import type { GuardSettings } from "./guard-settings.js";
import { guardClusterAccess } from "./guarded-cluster-access.js";
import { namespaceAllowed } from "./namespace-rules.js";
import { createInMemoryClusterAccess, testResources } from "./testing/in-memory-cluster-access.js";
import { testPaging } from "./testing/test-paging.js";

function pick<T>(random: () => number, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)] as T;
}

const absent = Symbol("absent");

// Strings the rules know, strings they do not, and every JSON type where a string belongs.
const namespaceValues: readonly unknown[] = [
  absent,
  "",
  "web",
  "default",
  "kube-system",
  "team-a",
  ["web"],
  ["kube-system"],
  { toString: "web" },
  {},
  42,
  null,
  true,
];
const nameValues: readonly unknown[] = [
  absent,
  "",
  "cm-1",
  "web",
  "default",
  "kube-system",
  "team-a",
  ["web"],
  { name: "web" },
  7,
];
const prefixValues: readonly unknown[] = [
  absent,
  "",
  "web",
  "we",
  "kube-",
  "kube-sys",
  "team-",
  "x".repeat(70),
  ["web"],
  5,
];
const requestNamespaces: readonly (string | undefined)[] = [undefined, "", "web", "kube-system", "team-a"];
const metadataShapes = ["object", "object", "object", "object", "array", "null", "string"] as const;

const ruleSets: readonly GuardSettings[] = [
  {
    nonDestructive: false,
    dryRun: true,
    allowOperations: [],
    allowedNamespaces: ["web", "default"],
    deniedNamespaces: ["kube-system"],
    allowSecretValues: false,
  },
  {
    nonDestructive: false,
    dryRun: true,
    allowOperations: [],
    deniedNamespaces: ["kube-system"],
    allowSecretValues: false,
  },
  {
    nonDestructive: false,
    dryRun: true,
    allowOperations: [],
    allowedNamespaces: ["web", "default"],
    deniedNamespaces: ["web"],
    allowSecretValues: false,
  },
];

interface GeneratedCall {
  readonly resource: ApiResource;
  readonly object: KubeObject;
  readonly requestNamespace: string | undefined;
  readonly method: "create" | "apply";
}

function generateCall(random: () => number): GeneratedCall {
  const resource = random() < 0.5 ? testResources.configMaps : testResources.namespaces;
  const metadata: Record<string, unknown> = {};
  for (const [field, values] of [
    ["name", nameValues],
    ["generateName", prefixValues],
    ["namespace", namespaceValues],
  ] as const) {
    const value = pick(random, values);
    if (value !== absent) metadata[field] = value;
  }
  const shape = pick(random, metadataShapes);
  const metadataValue =
    shape === "object" ? metadata : shape === "array" ? [metadata] : shape === "null" ? null : "web";
  const object = { apiVersion: "v1", kind: resource.kind, metadata: metadataValue } as unknown as KubeObject;
  return {
    resource,
    object,
    requestNamespace: pick(random, requestNamespaces),
    method: random() < 0.7 ? "create" : "apply",
  };
}

/** An upstream that records what reaches it and answers with the object, as a dry run would. */
function recordingAccess(): ClusterAccess & { readonly calls: { method: string; object: KubeObject }[] } {
  const calls: { method: string; object: KubeObject }[] = [];
  return {
    ...createInMemoryClusterAccess(),
    calls,
    async create(_resource, object) {
      calls.push({ method: "create", object });
      return object;
    },
    async apply(_resource, object) {
      calls.push({ method: "apply", object });
      return object;
    },
  };
}

const generatedNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

/** Names the API server could give a Namespace created from `prefix` (a sample, plus the rule's own cut). */
function generatedNames(prefix: string, random: () => number): string[] {
  const cut = prefix.slice(0, 58);
  return Array.from(
    { length: 20 },
    () => cut + Array.from({ length: 5 }, () => pick(random, [...generatedNameAlphabet])).join(""),
  );
}

/** Where the API server would act, for a call the guard passed on; a string that names a rule violation, or undefined. */
function violation(call: GeneratedCall, settings: GuardSettings, random: () => number): string | undefined {
  const metadata = call.object.metadata as Record<string, unknown> | undefined;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return "malformed metadata passed";
  for (const field of ["name", "generateName", "namespace"]) {
    if (metadata[field] !== undefined && typeof metadata[field] !== "string")
      return `non-string metadata.${field} passed`;
  }
  if (call.resource === testResources.namespaces) {
    const name = metadata.name as string | undefined;
    if (name !== undefined && name !== "")
      return namespaceAllowed(name, settings) ? undefined : `namespace ${name} created`;
    const prefix = (metadata.generateName as string | undefined) ?? "";
    const closed = generatedNames(prefix, random).find((generated) => !namespaceAllowed(generated, settings));
    if (closed !== undefined) return `a generated namespace such as ${closed} allowed`;
    const reachable = settings.deniedNamespaces.find(
      (denied) => denied.startsWith(prefix.slice(0, 58)) && denied.length === prefix.slice(0, 58).length + 5,
    );
    return reachable === undefined ? undefined : `generated namespace could be ${reachable}`;
  }
  const named = [call.requestNamespace, metadata.namespace as string | undefined].filter(
    (namespace): namespace is string => namespace !== undefined && namespace !== "",
  );
  if (named.length === 0) return "namespaced object with no namespace passed";
  const closed = named.find((namespace) => !namespaceAllowed(namespace, settings));
  return closed === undefined ? undefined : `object in namespace ${closed} passed`;
}

describe("the guard on generated manifests", () => {
  it("passes on only calls that act inside the open namespaces, and refuses the rest with a GatewayError that reaches nothing", async () => {
    const random = seededRandom(20261203);
    let passed = 0;
    let refused = 0;
    for (let index = 0; index < 3000; index++) {
      const settings = pick(random, ruleSets);
      const upstream = recordingAccess();
      const guarded = guardClusterAccess(upstream, settings, testPaging);
      const call = generateCall(random);
      const description = `case ${index}: ${JSON.stringify({ ...call, resource: call.resource.resource, settings })}`;
      const options = {
        dryRun: false,
        ...(call.requestNamespace === undefined ? {} : { namespace: call.requestNamespace }),
      };
      const outcome = await guarded[call.method](call.resource, call.object, options).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      if (outcome === undefined) {
        passed += 1;
        expect(upstream.calls.length, description).toBe(1);
        expect(violation(call, settings, random), description).toBeUndefined();
      } else {
        expect(outcome.error, description).toBeInstanceOf(GatewayError);
        expect(upstream.calls, description).toEqual([]);
        refused += 1;
      }
    }
    // Both outcomes occur often enough that the property says something about each.
    expect(passed).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(200);
  });

  it("refuses a non-string metadata.namespace with the field at fault, with or without namespace rules", async () => {
    for (const settings of [
      ...ruleSets,
      { ...ruleSets[0], allowedNamespaces: undefined, deniedNamespaces: [] } as GuardSettings,
    ]) {
      for (const namespace of [["web"], { toString: "web" }, 42, null]) {
        const upstream = recordingAccess();
        const guarded = guardClusterAccess(upstream, settings, testPaging);
        const object = {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "cm", namespace },
        } as unknown as KubeObject;
        const error = await guarded
          .create(testResources.configMaps, object, { dryRun: true, namespace: "web" })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(GatewayError);
        expect((error as GatewayError).code).toBe("invalid_input");
        expect((error as GatewayError).causes.map((cause) => cause.field)).toContain("metadata.namespace");
        expect(upstream.calls).toEqual([]);
      }
    }
  });

  it("refuses a Namespace created from generateName when an allow list is set, and one whose generated name could be denied", async () => {
    const upstream = recordingAccess();
    const allowList = guardClusterAccess(upstream, ruleSets[0] as GuardSettings, testPaging);
    const generated = { apiVersion: "v1", kind: "Namespace", metadata: { generateName: "web-" } };
    await expect(allowList.create(testResources.namespaces, generated, { dryRun: true })).rejects.toThrow(
      /--allowed-namespaces/,
    );
    const denyList = guardClusterAccess(upstream, ruleSets[1] as GuardSettings, testPaging);
    const reachesDenied = { apiVersion: "v1", kind: "Namespace", metadata: { generateName: "kube-" } };
    await expect(denyList.create(testResources.namespaces, reachesDenied, { dryRun: true })).rejects.toThrow(
      /kube-system/,
    );
    expect(upstream.calls).toEqual([]);
    await denyList
      .create(
        testResources.namespaces,
        { ...generated, metadata: { generateName: "team-", name: "" } },
        { dryRun: true },
      )
      .catch(() => {});
    expect(upstream.calls.map((call) => call.method)).toEqual(["create"]);
  });
});
