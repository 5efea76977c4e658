import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AuditEvent } from "@capi-mcp/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAuditSink } from "./audit-sink.js";

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: "2026-11-21T10:00:00.000Z",
    sessionId: "session-1",
    actor: { username: "alice@example.com", groups: ["acme-dev"], source: "kubeconfig" },
    client: { name: "inspector", version: "0.17.0" },
    tool: "k8s_get_resource",
    cluster: "org-acme/prod",
    namespace: "web",
    kind: "Pod",
    name: "api-0",
    arguments: { resource: "pods", name: "api-0", namespace: "web" },
    dryRun: false,
    outcome: "ok",
    durationMilliseconds: 3.5,
    ...overrides,
  };
}

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-audit-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("the audit sink", () => {
  it("writes one JSON line per event to a file, readable back as the events", async () => {
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ destination: file });
    const first = event();
    const second = event({ tool: "k8s_delete_resource", outcome: "denied", errorCode: "denied_by_policy" });
    sink.record(first);
    sink.record(second);
    await sink.close();
    const lines = (await readFile(file, "utf8")).split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual([first, second]);
  });

  it("appends to an existing file and creates new files readable by their owner only", async () => {
    const file = path.join(directory, "audit.jsonl");
    for (const tool of ["first", "second"]) {
      const sink = createAuditSink({ destination: file });
      sink.record(event({ tool }));
      await sink.close();
    }
    const tools = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as AuditEvent).tool);
    expect(tools).toEqual(["first", "second"]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("keeps a record on one line even when an argument holds line breaks", async () => {
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ destination: file });
    sink.record(event({ arguments: { manifest: "kind: ConfigMap\nmetadata:\n  name: x\n" } }));
    await sink.close();
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(1);
  });

  it("still writes the record, without arguments, when the arguments cannot be serialized", async () => {
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ destination: file });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    sink.record(event({ arguments: cyclic }));
    await sink.close();
    const written = JSON.parse(await readFile(file, "utf8")) as AuditEvent;
    expect(written.tool).toBe("k8s_get_resource");
    expect(written.arguments).toEqual({ unserializable: "<arguments could not be serialized>" });
  });

  it.each(["stdout", "-", "/dev/stdout"])("refuses %s, which belongs to the stdio transport", (destination) => {
    expect(() => createAuditSink({ destination })).toThrow(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("stdout") }),
    );
  });

  it("refuses a file it cannot open, at creation, with a clear error", () => {
    const file = path.join(directory, "missing", "audit.jsonl");
    expect(() => createAuditSink({ destination: file })).toThrow(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("ENOENT") }),
    );
  });

  it("reports a record that arrives after close instead of dropping it silently", async () => {
    const errors: Error[] = [];
    const sink = createAuditSink({
      destination: path.join(directory, "audit.jsonl"),
      onError: (error) => errors.push(error),
    });
    await sink.close();
    sink.record(event());
    expect(errors.map((error) => error.message)).toEqual([
      "a record for k8s_get_resource arrived after the sink was closed and was not written",
    ]);
  });

  it("writes to stderr and closes without closing the process's stderr", async () => {
    const sink = createAuditSink({ destination: "stderr" });
    await sink.close();
    await sink.close();
    expect(process.stderr.writable).toBe(true);
  });
});

describe("authorization records", () => {
  it("go to the same trail as tool calls, marked as authorization records", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-audit-authorization-"));
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ destination: file });
    const refused = { time: "2026-11-21T06:00:00.000Z", type: "login_refused", reason: "email not verified" };
    sink.recordAuthorization(refused);
    await sink.close();
    const [line] = (await readFile(file, "utf8")).trim().split("\n");
    expect(JSON.parse(line ?? "{}")).toEqual({
      audit: "authorization",
      time: "2026-11-21T06:00:00.000Z",
      type: "login_refused",
      reason: "email not verified",
    });
    await rm(directory, { recursive: true, force: true });
  });
});
