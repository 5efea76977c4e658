import {
  type AuditEvent,
  type ClusterCatalog,
  defineTool,
  GatewayError,
  type Principal,
  seededRandom,
  type ToolDefinition,
  type ToolSettings,
} from "@capi-mcp/core";
import { createGuard, redactToolArguments } from "@capi-mcp/policy";
import { applyResourceTool, capiListClustersTool, createResourceTool } from "@capi-mcp/tools";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createSessionState } from "./session.js";
import { testSettings, testToolContinueTokens } from "./testing/test-dependencies.js";
import { runTool, type ToolRunnerDependencies } from "./tool-runner.js";

/** A small seeded generator (mulberry32), so a failure names the seed that reproduces it. */
function generator(seed: number) {
  const next = seededRandom(seed);
  const integer = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  const characters = [..."abcXYZ019 \"'\\:#&*!{}[],|>-é€😀"];
  return {
    integer,
    pick: <T>(items: readonly T[]): T => items[integer(0, items.length - 1)] as T,
    text: (length: number) =>
      Array.from({ length }, () => characters[integer(0, characters.length - 1)] ?? "a").join(""),
  };
}

// A catalog with no cluster: the call is parsed, refused after parsing, and still audited.
const noClusters: ClusterCatalog = {
  defaultCluster: "dev",
  list: async () => [],
  access: async () => {
    throw new GatewayError("cluster_not_found", 'No cluster "dev" is available to you.');
  },
};

function runner(overrides: Partial<ToolRunnerDependencies> = {}) {
  const audited: AuditEvent[] = [];
  const logged: Record<string, unknown>[] = [];
  const dependencies: ToolRunnerDependencies = {
    guard: {
      offers: () => true,
      decide: () => ({ allowed: true, dryRun: false }),
      guardCatalog: (catalog) => catalog,
      toolContinueTokens: testToolContinueTokens,
      redactArguments: (_tool, args) => redactToolArguments(args),
    },
    telemetry: { startToolCall: () => ({ end: () => undefined }) },
    audit: {
      record: (event) => audited.push(event),
      recordAuthorization: () => undefined,
      close: async () => undefined,
    },
    logger: { warn: (object) => logged.push(object), error: (object) => logged.push(object) },
    settings: testSettings,
    toolTimeoutMilliseconds: 5000,
    localActor: { username: "kubeconfig-user", source: "kubeconfig" },
    ...overrides,
  };
  const call = (tool: ToolDefinition, args: Record<string, unknown>, catalog: ClusterCatalog = noClusters) =>
    runTool(dependencies, tool, args, {
      session: createSessionState("session-1"),
      catalog,
      principal: undefined,
      client: { name: "test" },
      protocolVersion: undefined,
      signal: new AbortController().signal,
    });
  return { call, audited, logged, dependencies };
}

const guardDefaults = {
  nonDestructive: false,
  dryRun: false,
  allowOperations: [],
  deniedNamespaces: [],
  allowSecretValues: false,
};

// Every way the manifest parser lets a text say `kind: Secret`, and write the keys that hold values.
const kindSpellings: readonly ((random: ReturnType<typeof generator>) => { kind: string; anchor?: string })[] = [
  () => ({ kind: "Secret" }),
  () => ({ kind: "'Secret'" }),
  () => ({ kind: '"Secret"' }),
  () => ({ kind: '"Secr\\x65t"' }),
  () => ({ kind: '"\\u0053ecret"' }),
  () => ({ kind: '"Sec\\u0072et"' }),
  () => ({ kind: "!!str Secret" }),
  () => ({ kind: "|-\n  Secret" }),
  () => ({ kind: ">-\n  Secret" }),
  () => ({ kind: "*secret-kind", anchor: "&secret-kind Secret" }),
  (random) => ({ kind: random.pick(["secret", "SECRET", "sEcReT", "'secrets'"]) }),
];
const stringDataSpellings = ["stringData", '"stringData"', '"string\\u0044ata"', "'stringData'", "!!str stringData"];

interface GeneratedManifest {
  readonly text: string;
  readonly values: readonly string[];
}

/** One Secret written as YAML (block or flow) or as JSON text, with generated values. */
function secretManifest(seed: number): GeneratedManifest {
  const random = generator(seed);
  const values = Array.from({ length: random.integer(1, 3) }, () => random.text(random.integer(12, 40)));
  const encoded = Buffer.from(random.text(random.integer(12, 40)), "utf8").toString("base64");
  const spelling = random.pick(kindSpellings)(random);
  const stringData = random.pick(stringDataSpellings);
  const name = `db-${seed}`;
  const form = random.integer(0, 2);
  const entries = values.map((value, index) => `key${index}: ${JSON.stringify(value)}`);
  let text: string;
  if (form === 0) {
    // An alias needs its anchor first, so with one the kind comes after the metadata.
    const kindLine = `kind: ${spelling.kind}`;
    text = [
      "apiVersion: v1",
      ...(spelling.anchor ? [] : [kindLine]),
      "metadata:",
      `  name: ${name}`,
      ...(spelling.anchor ? ["  labels:", `    kind: ${spelling.anchor}`, kindLine] : []),
      `${stringData}:`,
      ...entries.map((entry) => `  ${entry}`),
      "data:",
      `  encoded: ${encoded}`,
      "",
    ].join("\n");
  } else if (form === 1 && !spelling.kind.includes("\n")) {
    const labels = spelling.anchor ? `, labels: {kind: ${spelling.anchor}}` : "";
    text = `{apiVersion: v1, metadata: {name: ${name}${labels}}, kind: ${spelling.kind}, ${stringData}: {${entries.join(", ")}}, data: {encoded: ${encoded}}}`;
  } else {
    // JSON text: the kind and the key may be JSON escapes of themselves.
    const kind = random.pick(['"Secret"', '"Secr\\u0065t"', '"\\u0053\\u0065cret"', '"secret"']);
    const key = random.pick(['"stringData"', '"string\\u0044ata"']);
    text = `{"apiVersion":"v1","kind":${kind},"metadata":{"name":"${name}"},${key}:{${values
      .map((value, index) => `"key${index}":${JSON.stringify(value)}`)
      .join(",")}},"data":{"encoded":"${encoded}"}}`;
  }
  return { text, values: [...values, encoded, Buffer.from(encoded, "base64").toString("utf8")] };
}

function leaked(record: AuditEvent | undefined, values: readonly string[]): string | undefined {
  const line = JSON.stringify(record);
  return values.find((value) => line.includes(value) || line.includes(JSON.stringify(value).slice(1, -1)));
}

describe("the audit record of a manifest", () => {
  it("is redacted from the parsed object, for every spelling of a Secret the parser accepts", async () => {
    const { call, audited } = runner();
    for (let seed = 1; seed <= 300; seed += 1) {
      const manifest = secretManifest(seed);
      const tool = seed % 2 === 0 ? createResourceTool : applyResourceTool;
      await call(tool as unknown as ToolDefinition, { manifest: manifest.text });
      const record = audited.at(-1);
      expect(leaked(record, manifest.values), `seed ${seed}:\n${manifest.text}`).toBeUndefined();
      // The record holds the parsed object (keys kept, values sized), not a marker for the text.
      const recorded = record?.arguments.manifest as Record<string, Record<string, unknown>>;
      expect(recorded.stringData?.key0, `seed ${seed}:\n${manifest.text}`).toMatch(/^<redacted: \d+ bytes>$/);
      expect(recorded.metadata?.name).toBe(`db-${seed}`);
      // The target, too, is read from the parsed object.
      expect(record?.name).toBe(`db-${seed}`);
    }
  });

  it("records nothing of a manifest text that does not parse", async () => {
    const { call, audited } = runner();
    for (let seed = 1; seed <= 100; seed += 1) {
      const manifest = secretManifest(seed);
      // Cut inside the text and add a stray flow bracket: never valid YAML or JSON.
      const broken = `${manifest.text.slice(0, Math.max(1, manifest.text.length - 5))}\n: ]: [`;
      const outcome = await call(createResourceTool as unknown as ToolDefinition, { manifest: broken });
      expect(outcome.isError).toBe(true);
      const record = audited.at(-1);
      expect(record?.arguments.manifest).toEqual({
        notRecorded: "not a valid value for manifest",
        bytes: Buffer.byteLength(broken),
      });
      expect(leaked(record, manifest.values)).toBeUndefined();
    }
  });

  it("records nothing of a manifest text that parses to a scalar rather than an object", async () => {
    const { call, audited } = runner();
    await call(createResourceTool as unknown as ToolDefinition, { manifest: "hunter2-the-password" });
    expect(audited[0]?.arguments.manifest).toBe("<not recorded: manifest text that was not parsed, 20 bytes>");
  });

  it("records a value its schema refuses, or a key the tool does not take, by size only", async () => {
    const { call, audited } = runner();
    await call(createResourceTool as unknown as ToolDefinition, {
      manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" } },
      namespace: "Not A Label\r\n",
      extra: "hunter2",
    });
    expect(audited[0]?.arguments).toEqual({
      manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" } },
      namespace: { notRecorded: "not a valid value for namespace", bytes: 13 },
      extra: { notRecorded: "not an argument of k8s_create_resource", bytes: 7 },
    });
    expect(audited[0]?.namespace).toBeUndefined();
  });
});

describe("the exec bound handed to a tool", () => {
  const settingsSeen: ToolSettings[] = [];
  const probe = defineTool({
    name: "probe",
    title: "Probe",
    description: "Reports the settings it was given.",
    operation: "exec",
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    input: z.object({}),
    async handler(_input, context) {
      settingsSeen.push(context.settings);
      return { text: "ok" };
    },
  });

  it("is strictly inside the tool timeout, even when configured equal to it", async () => {
    for (const toolTimeout of [1000, 5000, 30_000, 60_000]) {
      const { call } = runner({
        toolTimeoutMilliseconds: toolTimeout,
        settings: { ...testSettings, execTimeoutMilliseconds: toolTimeout },
      });
      await call(probe as unknown as ToolDefinition, {});
      const bound = settingsSeen.at(-1)?.execTimeoutMilliseconds ?? Number.POSITIVE_INFINITY;
      expect(bound).toBeLessThan(toolTimeout);
      expect(toolTimeout - bound).toBeGreaterThanOrEqual(500);
    }
  });
});

describe("what a failure logs", () => {
  it("passes the detail through the server-text redaction and bounds it", async () => {
    const stored = Buffer.from("a stored value 1234567890 in clear").toString("base64");
    const failing = defineTool({
      name: "failing",
      title: "Failing",
      description: "Fails with an API server's text in its detail.",
      operation: "read",
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      input: z.object({}),
      async handler() {
        throw new GatewayError("invalid_object", "The API server rejected the object.", {
          detail: `Invalid value: "{\\"data\\":{\\"k\\":\\"${stored}\\"}}" ${"x".repeat(10_000)}`,
        });
      },
    });
    const { call, logged } = runner();
    await call(failing as unknown as ToolDefinition, {});
    const detail = String(logged[0]?.detail);
    expect(detail).not.toContain(stored);
    expect(detail).toContain("Invalid value");
    expect(detail.length).toBeLessThan(4200);
  });
});

describe("a tool's own continue tokens", () => {
  const principal = (subject: string): Principal => ({
    subject,
    issuer: "https://issuer.example",
    username: `${subject}@example.com`,
    email: `${subject}@example.com`,
    emailVerified: true,
    groups: [],
    idTokenCustody: undefined,
  });
  const fleet: ClusterCatalog = {
    defaultCluster: undefined,
    list: async () =>
      ["alpha", "bravo", "charlie"].map((name) => ({
        name: `org-acme/${name}`,
        clusterObject: {
          apiVersion: "cluster.x-k8s.io/v1beta2",
          kind: "Cluster",
          metadata: { namespace: "org-acme", name },
        },
      })),
    access: noClusters.access,
  };

  it("are sealed by the guard for the calling principal, so capi_list_clusters' token walks for its user only", async () => {
    const base = runner().dependencies;
    const dependencies: ToolRunnerDependencies = {
      ...base,
      guard: { ...base.guard, toolContinueTokens: createGuard(guardDefaults).toolContinueTokens },
    };
    const listAs = (who: Principal, args: Record<string, unknown>) =>
      runTool(dependencies, capiListClustersTool as unknown as ToolDefinition, args, {
        session: createSessionState("session-1"),
        catalog: fleet,
        principal: who,
        client: { name: "test" },
        protocolVersion: undefined,
        signal: new AbortController().signal,
      });
    const alice = principal("alice");
    const first = await listAs(alice, { limit: 1 });
    const token = String(first.structured?.continue);
    expect(token).toMatch(/^capi-mcp-continue\.v1\./);
    expect(Buffer.from(token.slice("capi-mcp-continue.v1.".length), "base64url").toString("latin1")).not.toContain(
      "alpha",
    );
    const second = await listAs(alice, { limit: 1, continue: token });
    expect(second.isError, second.text).toBe(false);
    expect(second.text).toContain("org-acme/bravo");
    expect(second.text).not.toContain("org-acme/alpha");
    const foreign = await listAs(principal("bob"), { limit: 1, continue: token });
    expect(foreign.isError).toBe(true);
    expect(foreign.text).toContain("List again from the start, without continue.");
    expect(foreign.text).not.toContain("org-acme/");
  });
});
