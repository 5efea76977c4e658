// Paging through the gateway against a real API server: thousands of ConfigMaps walked with
// continue tokens in every output format at several limits must show every object exactly once,
// each page within the answer budget and never cut; every token handed out is sealed (it names
// nothing, a changed one is refused) and objects in a denied namespace never appear.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import type { KubeRestClient } from "../fleet/kube-rest.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { type GatewayUnderTest, resultText, startStdioGateway } from "../gateway/harness.ts";

const run = randomBytes(4).toString("hex");
const label = `paging-e2e=${run}`;
const walkedNamespace = "web";
const hiddenNamespace = "payments";
const configMapCount = 3000;
const hiddenCount = 40;
const answerBudgetBytes = 64 * 1024;
const namePattern = new RegExp(`paging-${run}-\\d{4}`, "g");

let info: FleetInfo;
let admin: KubeRestClient;
let gateway: GatewayUnderTest;

function configMap(namespace: string, index: number) {
  // Sizes vary, so YAML pages hold different numbers of objects and the budget cuts anywhere.
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `paging-${run}-${String(index).padStart(4, "0")}`, namespace, labels: { "paging-e2e": run } },
    data: { payload: "x".repeat(50 + ((index * 7919) % 1500)) },
  };
}

/** Creates objects many at a time: the walk needs thousands, quickly. */
async function createAll(objects: readonly ReturnType<typeof configMap>[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const object = objects[next++];
      if (object === undefined) return;
      await admin.expectOk("POST", `/api/v1/namespaces/${object.metadata.namespace}/configmaps`, object);
    }
  };
  await Promise.all(Array.from({ length: 24 }, worker));
}

beforeAll(async () => {
  info = await fleetInfo();
  admin = await fleetAdminClient(info, "org-acme/dev");
  await createAll([
    ...Array.from({ length: configMapCount }, (_, index) => configMap(walkedNamespace, index)),
    ...Array.from({ length: hiddenCount }, (_, index) => configMap(hiddenNamespace, configMapCount + index)),
  ]);
  gateway = await startStdioGateway({
    kubeconfig: info.kubeconfig,
    context: "org-acme/dev",
    extraArguments: ["--denied-namespaces", hiddenNamespace],
  });
}, 300_000);

afterAll(async () => {
  await gateway?.stop();
  for (const namespace of [walkedNamespace, hiddenNamespace]) {
    await admin
      ?.request("DELETE", `/api/v1/namespaces/${namespace}/configmaps?labelSelector=${encodeURIComponent(label)}`)
      .catch(() => undefined);
  }
  admin?.close();
});

async function list(args: Record<string, unknown>) {
  const result = await gateway.client.callTool({ name: "k8s_list_resources", arguments: args });
  return {
    text: resultText(result),
    isError: result.isError === true,
    token: (result.structuredContent as { continue?: string | null } | undefined)?.continue ?? undefined,
  };
}

/** Follows continue tokens to the end; the pages' texts and every token handed out. */
function walk(args: Record<string, unknown>) {
  return walkFrom(args, undefined);
}

async function walkFrom(args: Record<string, unknown>, start: string | undefined) {
  const pages: string[] = [];
  const tokens: string[] = [];
  let token: string | undefined = start;
  do {
    const page = await list({ ...args, ...(token === undefined ? {} : { continue: token }) });
    expect(page.isError, page.text).toBe(false);
    pages.push(page.text);
    token = page.token;
    if (token !== undefined) tokens.push(token);
  } while (token !== undefined && pages.length < 4000);
  return { pages, tokens };
}

/** How many pages show each object (by name), counted once per page. */
function pagesShowing(pages: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const page of pages) {
    for (const name of new Set(page.match(namePattern) ?? [])) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

function expectSealed(token: string): void {
  expect(token).toMatch(/^capi-mcp-continue\.v1\.[A-Za-z0-9_-]+$/);
  const decoded = Buffer.from(token.slice("capi-mcp-continue.v1.".length), "base64url").toString("latin1");
  expect(decoded).not.toContain("paging-");
  expect(decoded).not.toContain(hiddenNamespace);
}

describe("paging through the gateway over thousands of ConfigMaps", () => {
  const walks: { output: "table" | "names" | "yaml"; limit: number }[] = [
    { output: "table", limit: 500 },
    { output: "table", limit: 137 },
    { output: "names", limit: 500 },
    { output: "yaml", limit: 500 },
    { output: "yaml", limit: 45 },
    { output: "yaml", limit: 7 },
  ];
  for (const { output, limit } of walks) {
    it(`shows every object exactly once with output ${output} and limit ${limit}, each page whole within the budget`, async () => {
      const { pages, tokens } = await walk({
        resource: "configmaps",
        namespace: walkedNamespace,
        output,
        limit,
        labelSelector: label,
      });
      const counts = pagesShowing(pages);
      const expected = Array.from(
        { length: configMapCount },
        (_, index) => `paging-${run}-${String(index).padStart(4, "0")}`,
      );
      expect(expected.filter((name) => !counts.has(name))).toEqual([]);
      expect([...counts].filter(([, seen]) => seen > 1)).toEqual([]);
      expect(counts.size).toBe(configMapCount);
      for (const page of pages) {
        expect(Buffer.byteLength(page)).toBeLessThanOrEqual(answerBudgetBytes);
        expect(page).not.toContain("[Truncated");
      }
      for (const token of tokens) expectSealed(token);
    }, 240_000);
  }

  it("walks all namespaces with a denied one: its objects never appear, and every token is sealed", async () => {
    const { pages, tokens } = await walk({ resource: "configmaps", output: "names", limit: 400, labelSelector: label });
    const counts = pagesShowing(pages);
    expect(counts.size).toBe(configMapCount);
    expect([...counts].filter(([, seen]) => seen > 1)).toEqual([]);
    expect(pages.join("\n")).not.toContain(`${hiddenNamespace}/`);
    expect(tokens.length).toBeGreaterThan(5);
    for (const token of tokens) expectSealed(token);
  }, 240_000);

  it("seals the tokens of a fleet-wide list too, and a cluster's token walks the rest of that cluster exactly once", async () => {
    const args = {
      resource: "configmaps",
      namespace: walkedNamespace,
      labelSelector: label,
      output: "yaml" as const,
      limit: 500,
    };
    const result = await gateway.client.callTool({
      name: "k8s_list_resources",
      arguments: { ...args, clusters: ["org-acme/dev", "org-acme/prod"] },
    });
    const text = resultText(result);
    expect(result.isError, text).not.toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(answerBudgetBytes);
    expect(text).not.toContain("[Truncated");
    const sections = (result.structuredContent as { clusters: { cluster: string; continue: string | null }[] })
      .clusters;
    const dev = sections.find((section) => section.cluster === "org-acme/dev");
    expect(typeof dev?.continue).toBe("string");
    for (const section of sections) if (section.continue !== null) expectSealed(section.continue);
    const rest = await walkFrom({ ...args, cluster: "org-acme/dev", output: "names" }, dev?.continue ?? undefined);
    const counts = pagesShowing([text, ...rest.pages]);
    expect(counts.size).toBe(configMapCount);
    expect([...counts].filter(([, seen]) => seen > 1)).toEqual([]);
  }, 240_000);

  it("refuses a changed token, or one reused for another query, telling the model to list again", async () => {
    const first = await list({ resource: "configmaps", namespace: walkedNamespace, labelSelector: label, limit: 10 });
    const token = first.token ?? "";
    expectSealed(token);
    const middle = Math.floor(token.length * 0.7);
    const changed = `${token.slice(0, middle)}${token[middle] === "A" ? "B" : "A"}${token.slice(middle + 1)}`;
    for (const args of [
      { resource: "configmaps", namespace: walkedNamespace, labelSelector: label, limit: 10, continue: changed },
      { resource: "configmaps", namespace: "default", labelSelector: label, limit: 10, continue: token },
      { resource: "configmaps", namespace: walkedNamespace, limit: 10, continue: token },
      {
        resource: "configmaps",
        namespace: walkedNamespace,
        labelSelector: label,
        limit: 10,
        continue: "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
      },
    ]) {
      const refused = await list(args);
      expect(refused.isError, refused.text).toBe(true);
      expect(refused.text).toContain("List again from the start");
    }
    const resumed = await list({
      resource: "configmaps",
      namespace: walkedNamespace,
      labelSelector: label,
      limit: 10,
      continue: token,
    });
    expect(resumed.isError, resumed.text).toBe(false);
  });
});
