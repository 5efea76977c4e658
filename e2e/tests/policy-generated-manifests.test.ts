// The guard's namespace rules against a real API server: a few hundred generated manifests
// (every JSON type where metadata has strings, name or generateName, request and object
// namespaces, open, closed and unknown namespaces) go through the guard in dry-run mode. Whatever
// the guard lets through, the API server must act on inside the open namespaces: checked with its
// answers and with its own audit log, which records every request that reached it.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type ApiResource, type ClusterAccess, GatewayError, type KubeObject, seededRandom } from "@capi-mcp/core";
import { createGuard } from "@capi-mcp/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import {
  type AuditEvent,
  auditEventsMatching,
  clusterInfo,
  createAccessFactory,
  fleetInfo,
} from "../fleet/test-context.ts";

const run = randomBytes(4).toString("hex");
const clusters = createAccessFactory();
const allowedNamespaces = ["web", "default"];
const guard = createGuard({
  nonDestructive: false,
  dryRun: true,
  allowOperations: [],
  allowedNamespaces,
  deniedNamespaces: ["kube-system"],
  allowSecretValues: false,
});

let info: FleetInfo;
let upstream: ClusterAccess;

beforeAll(async () => {
  info = await fleetInfo();
  upstream = await clusters.accessTo("org-acme/dev");
});

afterAll(async () => {
  await clusters.closeAll();
});

function pick<T>(random: () => number, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)] as T;
}

const absent = Symbol("absent");
const namespaceValues: readonly unknown[] = [
  absent,
  "",
  "web",
  "default",
  "kube-system",
  "payments",
  ["web"],
  { toString: "web" },
  {},
  42,
  null,
];
const requestNamespaces: readonly (string | undefined)[] = [undefined, "", "web", "default", "kube-system", "payments"];

function generateCall(random: () => number, index: number) {
  const namespaceObject = random() < 0.35;
  const metadata: Record<string, unknown> = {};
  const nameChoice = pick(random, ["name", "name", "generateName", "both", "neither", "wrong-type"] as const);
  const ownName = namespaceObject
    ? pick(random, ["web", "default", "kube-system", "payments", `policy-${run}-${index}`])
    : `policy-${run}-${index}`;
  if (nameChoice === "name" || nameChoice === "both") metadata.name = ownName;
  if (nameChoice === "generateName" || nameChoice === "both") {
    metadata.generateName = pick(random, ["web", "kube-", `policy-${run}-`, "payments-"]);
  }
  if (nameChoice === "wrong-type") metadata.name = pick(random, [["web"], { name: "web" }, 7]);
  const namespace = pick(random, namespaceValues);
  if (namespace !== absent) metadata.namespace = namespace;
  const object = {
    apiVersion: "v1",
    kind: namespaceObject ? "Namespace" : "ConfigMap",
    metadata,
    ...(namespaceObject ? {} : { data: { index: String(index) } }),
  } as unknown as KubeObject;
  return {
    namespaceObject,
    object,
    requestNamespace: pick(random, requestNamespaces),
    method: random() < 0.7 ? ("create" as const) : ("apply" as const),
  };
}

function isOpenNamespace(namespace: string | undefined): boolean {
  return namespace !== undefined && guard.namespaceAllowed(namespace);
}

describe("the guard on generated manifests, against a real API server", () => {
  it("lets nothing act outside the open namespaces: not by the API server's answers, nor by its audit log", async () => {
    const guarded = guard.guardAccess(upstream);
    const configMaps = await guarded.resolve({ resource: "configmaps" });
    const namespaces = await guarded.resolve({ resource: "namespaces" });
    // The fleet is shared with the other e2e files, whose dry runs are in the same audit log: a
    // first marker request bounds where this test's requests begin.
    const startMarker = `policy-${run}-start`;
    await upstream.get(configMaps, startMarker, "web").catch(() => undefined);
    const random = seededRandom(1515);
    const outcomes = { passed: 0, refusedByGuard: 0, refusedByServer: 0 };
    for (let index = 0; index < 300; index++) {
      const call = generateCall(random, index);
      const resource: ApiResource = call.namespaceObject ? namespaces : configMaps;
      const description = `case ${index}: ${JSON.stringify({ ...call, object: call.object })}`;
      const options = {
        dryRun: false,
        ...(call.requestNamespace === undefined ? {} : { namespace: call.requestNamespace }),
      };
      const outcome = await guarded[call.method](resource, call.object, options).then(
        (answer) => ({ answer }),
        (error: unknown) => ({ error }),
      );
      if ("answer" in outcome) {
        outcomes.passed += 1;
        const where = call.namespaceObject ? outcome.answer.metadata?.name : outcome.answer.metadata?.namespace;
        expect(isOpenNamespace(where), description).toBe(true);
        continue;
      }
      // Never a TypeError or a crash: a refusal, or the API server's own answer, as a GatewayError.
      expect(outcome.error, description).toBeInstanceOf(GatewayError);
      const error = outcome.error as GatewayError;
      if (error.code === "denied_by_policy" || error.detail?.startsWith("malformed manifest") === true) {
        outcomes.refusedByGuard += 1;
      } else {
        outcomes.refusedByServer += 1;
      }
    }
    expect(outcomes.passed).toBeGreaterThan(20);
    expect(outcomes.refusedByGuard).toBeGreaterThan(100);

    // A last request with its own marker: once it is in the audit log, so is everything before it.
    const sentinel = `policy-${run}-sentinel`;
    await upstream.get(configMaps, sentinel, "web").catch(() => undefined);
    expect((await auditEventsMatching(info, "org-acme/dev", sentinel)).length).toBeGreaterThan(0);
    const lines = (await readFile(clusterInfo(info, "org-acme/dev").auditLog, "utf8")).split("\n");
    const start = lines.findIndex((line) => line.includes(startMarker));
    expect(start).toBeGreaterThanOrEqual(0);
    const audited = lines
      .slice(start)
      .filter((line) => line.includes("dryRun=All"))
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((event) => event.stage === "ResponseComplete");
    expect(audited.length).toBeGreaterThan(20);
    for (const event of audited) {
      const where = event.objectRef?.resource === "namespaces" ? event.objectRef.name : event.objectRef?.namespace;
      expect(isOpenNamespace(where), `${event.verb} ${event.requestURI}`).toBe(true);
    }
  });
});
