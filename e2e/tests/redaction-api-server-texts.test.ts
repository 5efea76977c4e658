// What an API server says reaches the caller, the audit record and the logs only through the
// gateway's redaction: forced server-side rejections of every mutating tool on a Secret whose
// values were written directly to the API server, then a scan of everything the gateway wrote.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { seededRandom } from "@capi-mcp/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetInfo, fleetAdminClient } from "../fleet/fleet.ts";
import { auditEventsMatching, fleetInfo } from "../fleet/test-context.ts";
import {
  type GatewayUnderTest,
  type HttpGatewayProcess,
  resultText,
  startHttpGateway,
  userKubeconfig,
} from "../gateway/harness.ts";

const cluster = "org-acme/dev";
const allOperations = ["--allow-operations", "create,apply,patch,scale,delete,exec,port-forward"];

/** A small seeded generator (mulberry32): the same values on every run, a new name per run. */
function generator(seed: number) {
  const next = seededRandom(seed);
  const integer = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  const characters = [..."abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&*+-./:;=?@^_~{}[]|\"' é€"];
  return {
    text: (length: number) =>
      Array.from({ length }, () => characters[integer(0, characters.length - 1)] ?? "x").join(""),
    length: () => integer(16, 48),
  };
}

const random = generator(15);
/** Written straight to the API server: the gateway never sees them, except in the server's own texts. */
const storedValues = Array.from({ length: 5 }, () => random.text(random.length()));
/** Sent by the caller through the gateway, in manifests and patches the server refuses. */
const sentValues = Array.from({ length: 3 }, () => random.text(random.length()));

const base64 = (value: string) => Buffer.from(value, "utf8").toString("base64");

/** Every form a value could take in an answer, a JSON audit line or a JSON log line. */
function forms(value: string): string[] {
  const escaped = JSON.stringify(value).slice(1, -1);
  return [value, escaped, JSON.stringify(escaped).slice(1, -1), base64(value)];
}

function leaks(text: string): string[] {
  return [...storedValues, ...sentValues].flatMap((value) => forms(value).filter((form) => text.includes(form)));
}

let info: FleetInfo;
const suffix = randomBytes(4).toString("hex");
const secretName = `stored-${suffix}`;
const namespace = "default";
const secretsPath = `/api/v1/namespaces/${namespace}/secrets`;

async function admin<T>(work: (client: Awaited<ReturnType<typeof fleetAdminClient>>) => Promise<T>): Promise<T> {
  const client = await fleetAdminClient(info, cluster);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  info = await fleetInfo();
  await admin((client) =>
    client.expectOk("POST", secretsPath, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secretName },
      data: Object.fromEntries(storedValues.map((value, index) => [`stored${index}`, base64(value)])),
    }),
  );
});

afterAll(async () => {
  await admin((client) => client.request("DELETE", `${secretsPath}/${secretName}`));
});

/** Calls that the API server refuses, one or more per mutating tool, all on Secrets. */
function rejectedCalls(): { label: string; tool: string; arguments: Record<string, unknown> }[] {
  const secret = { cluster, resource: "secrets", name: secretName, namespace };
  const sentStringData = Object.fromEntries(sentValues.map((value, index) => [`sent${index}`, value]));
  return [
    {
      label: "merge patch, bad base64",
      tool: "k8s_patch_resource",
      arguments: { ...secret, patch: { data: { bad: "!!!" } } },
    },
    {
      label: "json patch, bad base64",
      tool: "k8s_patch_resource",
      arguments: { ...secret, patchType: "json", patch: [{ op: "add", path: "/data/bad", value: "!!!" }] },
    },
    {
      label: "strategic patch, bad base64 next to sent values",
      tool: "k8s_patch_resource",
      arguments: { ...secret, patchType: "strategic", patch: { data: { bad: "!!!" }, stringData: sentStringData } },
    },
    {
      label: "merge patch, immutable type",
      tool: "k8s_patch_resource",
      arguments: { ...secret, patch: { type: "kubernetes.io/tls", stringData: sentStringData } },
    },
    {
      label: "apply, bad base64",
      tool: "k8s_apply_resource",
      arguments: {
        cluster,
        manifest: {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: secretName, namespace },
          data: { bad: "!!!" },
          stringData: sentStringData,
        },
      },
    },
    {
      label: "apply, conflicting type",
      tool: "k8s_apply_resource",
      arguments: {
        cluster,
        manifest: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${secretName}\n  namespace: ${namespace}\ntype: kubernetes.io/tls\nstringData: ${JSON.stringify(sentStringData)}\n`,
      },
    },
    {
      label: "create, bad base64 next to sent values",
      tool: "k8s_create_resource",
      arguments: {
        cluster,
        manifest: JSON.stringify({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: `new-${suffix}`, namespace },
          stringData: sentStringData,
          data: { bad: "!!!" },
        }),
      },
    },
    {
      label: "create, already exists",
      tool: "k8s_create_resource",
      arguments: {
        cluster,
        manifest: {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: secretName, namespace },
          stringData: sentStringData,
        },
      },
    },
    {
      label: "delete, no such secret",
      tool: "k8s_delete_resource",
      arguments: { ...secret, name: `missing-${suffix}` },
    },
    { label: "scale, no scale subresource", tool: "k8s_scale_resource", arguments: { ...secret, replicas: 2 } },
  ];
}

describe.each([
  ["mutations applied", [] as string[]],
  ["every mutation a dry run", ["--dry-run"]],
])("redaction of API-server texts on a Secret, %s", (_label, extraArguments) => {
  let gateway: GatewayUnderTest & { process: HttpGatewayProcess };
  // As bob, who may not change the default namespace: the authorizer refuses the Secret itself.
  let readOnly: GatewayUnderTest & { process: HttpGatewayProcess };
  let scratch: string;
  const answers: { label: string; text: string; isError: boolean }[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-redaction-"));
    gateway = await startHttpGateway({
      kubeconfig: info.kubeconfig,
      context: cluster,
      extraArguments: [...allOperations, "--debug", ...extraArguments],
    });
    readOnly = await startHttpGateway({
      kubeconfig: await userKubeconfig(info, "bob", scratch),
      context: cluster,
      extraArguments: [...allOperations, "--debug", ...extraArguments],
    });
    for (const call of rejectedCalls()) {
      const result = await gateway.client.callTool({ name: call.tool, arguments: call.arguments });
      answers.push({ label: call.label, text: resultText(result), isError: result.isError === true });
    }
    const secret = { cluster, resource: "secrets", name: secretName, namespace };
    for (const [label, tool, args] of [
      ["delete, forbidden", "k8s_delete_resource", secret],
      ["patch, forbidden", "k8s_patch_resource", { ...secret, patch: { data: { bad: "!!!" } } }],
    ] as const) {
      const result = await readOnly.client.callTool({ name: tool, arguments: args });
      answers.push({ label, text: resultText(result), isError: result.isError === true });
    }
  });

  afterAll(async () => {
    await gateway?.stop();
    await readOnly?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it("the API server itself embeds the stored values in its rejection, so the scan below can fail", async () => {
    const response = await admin((client) =>
      client.request(
        "PATCH",
        `${secretsPath}/${secretName}?dryRun=All`,
        { data: { bad: "!!!" } },
        { contentType: "application/merge-patch+json" },
      ),
    );
    expect(response.status).toBe(422);
    expect(storedValues.filter((value) => response.text.includes(base64(value)))).toEqual(storedValues);
  });

  it("every call is refused, and the answer keeps the server's reason", () => {
    for (const answer of answers) expect(answer.isError, `${answer.label}: ${answer.text}`).toBe(true);
    const badBase64 = answers.find((answer) => answer.label === "merge patch, bad base64");
    expect(badBase64?.text).toContain("illegal base64 data");
    expect(badBase64?.text).toContain("Invalid value");
    expect(answers.find((answer) => answer.label === "merge patch, immutable type")?.text).toContain("immutable");
    expect(answers.find((answer) => answer.label === "delete, forbidden")?.text).toMatch(/^Forbidden/);
  });

  it("no stored or sent value, raw or base64, is in any answer", () => {
    for (const answer of answers) expect(leaks(answer.text), answer.label).toEqual([]);
  });

  it("no stored or sent value is in the audit records, which name every call", async () => {
    const records = [...(await gateway.auditRecords()), ...(await readOnly.auditRecords())];
    expect(
      records.filter((record) => record.kind === "secrets" || record.kind === "Secret").length,
    ).toBeGreaterThanOrEqual(rejectedCalls().length);
    expect(leaks(JSON.stringify(records))).toEqual([]);
  });

  it("no stored or sent value is in the gateway's logs", () => {
    const logs = gateway.process.stderr() + readOnly.process.stderr();
    expect(logs).toContain("tool call failed");
    expect(leaks(logs)).toEqual([]);
  });
});

describe("name-like arguments with control characters", () => {
  let gateway: GatewayUnderTest;
  beforeAll(async () => {
    gateway = await startHttpGateway({ kubeconfig: info.kubeconfig, context: cluster, extraArguments: allOperations });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it.each([
    ["name", { resource: "configmaps", name: `cm-${suffix}\r\nx` }],
    ["name", { resource: "configmaps", name: `cm-${suffix}\u0000` }],
    ["name", { resource: "configmaps", name: `cm-${suffix}\u2028` }],
    ["resource", { resource: `configmaps\n${suffix}`, name: `cm-${suffix}` }],
  ])("are refused before any request reaches the API server (%s)", async (field, fields) => {
    const result = await gateway.client.callTool({ name: "k8s_get_resource", arguments: { cluster, ...fields } });
    const text = resultText(result);
    expect(result.isError).toBe(true);
    expect(text).toContain(`${field}: must not contain control characters`);
    expect(await auditEventsMatching(info, cluster, `cm-${suffix}`)).toEqual([]);
  });
});

describe("bounds on the audit record and the exec bound, on the real fleet", () => {
  let gateway: GatewayUnderTest & { process: HttpGatewayProcess };
  beforeAll(async () => {
    gateway = await startHttpGateway({
      kubeconfig: info.kubeconfig,
      context: cluster,
      extraArguments: [...allOperations, "--tool-timeout", "3s"],
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("caps a client's 300,000-character name and a 900 KB selector in the audit record", async () => {
    const client = new Client({ name: "n".repeat(300_000), version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.endpoint ?? "")));
    try {
      await client.callTool({
        name: "k8s_list_resources",
        arguments: { cluster, resource: "configmaps", namespace, labelSelector: `app=${"x".repeat(900_000)}` },
      });
    } finally {
      await client.close();
    }
    const records = await gateway.auditRecords();
    const record = records.find((candidate) => (candidate.client.name ?? "").startsWith("nnn"));
    expect(record?.client.name).toBe(`${"n".repeat(256)}… [299744 more characters cut by the gateway]`);
    expect(JSON.stringify(record).length).toBeLessThan(8 * 1024);
  });

  it("answers with the partial output when exec runs into its bound, inside the tool timeout", async () => {
    const result = await gateway.client.callTool({
      name: "k8s_exec_pod",
      arguments: {
        cluster,
        name: "frontend-5d8f7c9b6-k2x4p",
        namespace: "web",
        command: ["sh", "-c", "echo partial-output-before-the-bound; sleep 30"],
        timeoutSeconds: 3600,
      },
    });
    const text = resultText(result);
    expect(result.isError, text).toBe(false);
    expect(text).toContain("partial-output-before-the-bound");
    expect(text).toMatch(/timed out/i);
  });
});
