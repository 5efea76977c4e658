import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type AuditEvent,
  type AuditSink,
  type ClusterCatalog,
  currentCallScope,
  defineTool,
  noteKubernetesResponse,
  type ToolDefinition,
} from "@capi-mcp/core";
import { createAuditSink } from "@capi-mcp/telemetry";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSessionState } from "./session.js";
import { testSettings, testToolContinueTokens } from "./testing/test-dependencies.js";
import { runTool, type ToolRunnerDependencies } from "./tool-runner.js";

const catalog: ClusterCatalog = {
  defaultCluster: "org-acme/dev",
  list: async () => [{ name: "org-acme/dev" }],
  access: async () => ({}) as never,
};

/** Stands in for the Kubernetes requests a handler makes: notes what `kube` would note per answer. */
function toolMaking(operation: "read" | "delete", ran: string[]): ToolDefinition {
  return defineTool({
    name: operation === "read" ? "fake_list" : "fake_delete",
    title: "Fake",
    description: "Notes what it would send.",
    operation,
    annotations: {
      readOnlyHint: operation === "read",
      destructiveHint: operation !== "read",
      idempotentHint: true,
      openWorldHint: false,
    },
    input: z.object({ name: z.string().optional() }),
    async handler() {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const scope = currentCallScope();
      ran.push(scope?.callId ?? "no scope");
      noteKubernetesResponse({
        cluster: "org-acme/dev",
        verb: operation === "read" ? "list" : "delete",
        resource: "pods",
        status: 200,
      });
      return { text: "done" };
    },
  }) as unknown as ToolDefinition;
}

function dependenciesWith(audit: AuditSink) {
  const failures: string[] = [];
  const errors: { object: Record<string, unknown>; message: string }[] = [];
  const dependencies: ToolRunnerDependencies = {
    guard: {
      offers: () => true,
      decide: () => ({ allowed: true, dryRun: false }),
      guardCatalog: (inner) => inner,
      toolContinueTokens: testToolContinueTokens,
      redactArguments: (_tool, args) => args,
    },
    telemetry: { startToolCall: () => ({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", end: () => undefined }) },
    audit,
    logger: { warn: () => undefined, error: (object, message) => errors.push({ object, message }) },
    settings: testSettings,
    toolTimeoutMilliseconds: 5000,
    localActor: { username: "kubeconfig-user", source: "kubeconfig" },
    auditFailures: { count: (kind) => failures.push(kind) },
  };
  return { dependencies, failures, errors };
}

const environment = () => ({
  session: createSessionState("session-1"),
  catalog,
  principal: undefined,
  client: { name: "inspector", version: "0.17.0", oauthClientId: "client-abc" },
  protocolVersion: undefined,
  signal: new AbortController().signal,
  requestHeaders: { "x-model": "model-a" },
});

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-runner-audit-"));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("a tool call's audit record", () => {
  it("carries the call id the handler's requests see, the trace id, the headers asked for and each answer", async () => {
    const file = path.join(directory, "audit.jsonl");
    const audit = createAuditSink({ file: { path: file } });
    const { dependencies } = dependenciesWith(audit);
    const ran: string[] = [];
    const outcome = await runTool(dependencies, toolMaking("delete", ran), { name: "api-0" }, environment());
    await audit.close();
    expect(outcome.isError).toBe(false);
    const records = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AuditEvent);
    // A change is recorded before it is sent, and again when it ends, under one call id.
    expect(records.map((record) => [record.stage, record.outcome])).toEqual([
      ["started", "pending"],
      ["completed", "ok"],
    ]);
    const [started, completed] = records as [AuditEvent, AuditEvent];
    expect(ran).toEqual([completed.callId]);
    expect(started.callId).toBe(completed.callId);
    expect(completed.callId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(completed).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      sessionId: "session-1",
      client: { name: "inspector", version: "0.17.0", oauthClientId: "client-abc" },
      requestHeaders: { "x-model": "model-a" },
      dryRun: false,
      kubernetesResponses: [{ cluster: "org-acme/dev", verb: "delete", resource: "pods", status: 200 }],
    });
    expect(started.kubernetesResponses).toBeUndefined();
  });

  it("gives every call its own id, also when calls run at once", async () => {
    const audited: AuditEvent[] = [];
    const { dependencies } = dependenciesWith({
      record: (event) => audited.push(event),
      recordAuthorization: () => undefined,
      close: async () => undefined,
    });
    const ran: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, () => runTool(dependencies, toolMaking("read", ran), {}, environment())),
    );
    const ids = audited.map((record) => record.callId);
    expect(new Set(ids).size).toBe(20);
    expect([...ran].sort()).toEqual([...ids].sort());
  });
});

describe("audit fails closed for changes", () => {
  it("refuses a delete whose record cannot be written to a full disk (/dev/full); the handler never runs", async () => {
    const audit = createAuditSink({ file: { path: "/dev/full" } });
    const { dependencies, failures, errors } = dependenciesWith(audit);
    const ran: string[] = [];
    const outcome = await runTool(dependencies, toolMaking("delete", ran), { name: "api-0" }, environment());
    expect(outcome.isError).toBe(true);
    expect(outcome.text).toContain("cannot write its audit record");
    expect(ran).toEqual([]);
    expect(failures).toEqual(["mutation", "mutation"]);
    expect(errors[0]?.message).toBe("audit record could not be written; the call was refused");
    expect(String(errors[0]?.object.reason)).toContain("ENOSPC");
    await audit.close();
  });

  it("answers a read whose record cannot be written, and counts it", async () => {
    const audit = createAuditSink({ file: { path: "/dev/full" } });
    const { dependencies, failures, errors } = dependenciesWith(audit);
    const ran: string[] = [];
    const outcome = await runTool(dependencies, toolMaking("read", ran), {}, environment());
    expect(outcome).toMatchObject({ isError: false, text: "done" });
    expect(ran).toHaveLength(1);
    expect(failures).toEqual(["read"]);
    expect(errors.map((error) => error.message)).toEqual(["audit record could not be written"]);
    await audit.close();
  });

  it("refuses changes once the audit directory is removed, and allows them again when it is back", async () => {
    const logs = path.join(directory, "logs");
    await mkdir(logs);
    const audit = createAuditSink({ file: { path: path.join(logs, "audit.jsonl") } });
    const { dependencies } = dependenciesWith(audit);
    const ran: string[] = [];
    expect((await runTool(dependencies, toolMaking("delete", ran), {}, environment())).isError).toBe(false);
    await rm(logs, { recursive: true });
    expect((await runTool(dependencies, toolMaking("delete", ran), {}, environment())).isError).toBe(true);
    expect(ran).toHaveLength(1);
    await mkdir(logs);
    expect((await runTool(dependencies, toolMaking("delete", ran), {}, environment())).isError).toBe(false);
    expect(ran).toHaveLength(2);
    await audit.close();
  });
});
