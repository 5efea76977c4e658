import { mkdir, mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AuditEvent } from "@capi-mcp/core";
import { seededRandom } from "@capi-mcp/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AuditWriteError,
  boundAuditEvent,
  createAuditSink,
  longestRecordedArgumentBytes,
  longestRecordedLabel,
} from "./audit-sink.js";

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: "2026-11-21T10:00:00.000Z",
    stage: "completed",
    callId: "0b9f6d0e-5d3a-4c8e-9a43-2f1f8c1b7a10",
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
    const sink = createAuditSink({ file: { path: file } });
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
      const sink = createAuditSink({ file: { path: file } });
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
    const sink = createAuditSink({ file: { path: file } });
    sink.record(event({ arguments: { manifest: "kind: ConfigMap\nmetadata:\n  name: x\n" } }));
    await sink.close();
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(1);
  });

  it("still writes the record, without the argument that cannot be serialized", async () => {
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ file: { path: file } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    sink.record(event({ arguments: cyclic }));
    await sink.close();
    const written = JSON.parse(await readFile(file, "utf8")) as AuditEvent;
    expect(written.tool).toBe("k8s_get_resource");
    expect(written.arguments).toEqual({ self: "<argument could not be serialized>" });
  });

  it.each(["stdout", "-", "/dev/stdout"])("refuses %s as a file: stdout is a stream option", (path) => {
    expect(() => createAuditSink({ file: { path } })).toThrow(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("stdout") }),
    );
  });

  it("refuses stdout when the stdio transport owns it, and a sink with no destination", () => {
    expect(() => createAuditSink({ stream: "stdout", stdoutCarriesProtocol: true })).toThrow(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("stdio transport") }),
    );
    expect(() => createAuditSink({ stream: "none" })).toThrow(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("no destination") }),
    );
  });

  it("refuses a file it cannot open, at creation, with a clear error", () => {
    const file = path.join(directory, "missing", "audit.jsonl");
    expect(() => createAuditSink({ file: { path: file } })).toThrow(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("ENOENT") }),
    );
  });

  it("throws for a record that arrives after close instead of dropping it silently", async () => {
    const sink = createAuditSink({ file: { path: path.join(directory, "audit.jsonl") } });
    await sink.close();
    expect(() => sink.record(event())).toThrow(
      "a record for k8s_get_resource arrived after the sink was closed and was not written",
    );
  });

  it("writes to stderr and closes without closing the process's stderr", async () => {
    const sink = createAuditSink({ stream: "stderr" });
    await sink.close();
    await sink.close();
    expect(process.stderr.writable).toBe(true);
  });
});

describe("when the audit file cannot take a record", () => {
  it("throws ENOSPC for a full device (/dev/full), naming the file and not the record", async () => {
    const sink = createAuditSink({ file: { path: "/dev/full" } });
    let thrown: unknown;
    try {
      sink.record(event({ arguments: { selector: "app=secret-looking-value" } }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AuditWriteError);
    expect((thrown as Error).message).toContain("/dev/full: ENOSPC");
    expect((thrown as Error).message).not.toContain("secret-looking-value");
    await sink.close();
  });

  it("throws once the file's directory is removed, rather than writing on into a deleted file", async () => {
    const logDirectory = path.join(directory, "logs");
    await mkdir(logDirectory);
    const file = path.join(logDirectory, "audit.jsonl");
    const sink = createAuditSink({ file: { path: file } });
    sink.record(event());
    await rm(logDirectory, { recursive: true });
    expect(() => sink.record(event())).toThrow(/ENOENT/);
    // The directory comes back (a remounted volume): records flow again, into the new file.
    await mkdir(logDirectory);
    sink.record(event({ tool: "k8s_list_resources" }));
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines.map((line) => JSON.parse(line).tool)).toEqual(["k8s_list_resources"]);
    await sink.close();
  });

  it("follows a file renamed away by an outside rotation, writing to the new file at the path", async () => {
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ file: { path: file } });
    sink.record(event({ tool: "first" }));
    await rename(file, `${file}.old`);
    sink.record(event({ tool: "second" }));
    expect(JSON.parse((await readFile(`${file}.old`, "utf8")).trim()).tool).toBe("first");
    expect(JSON.parse((await readFile(file, "utf8")).trim()).tool).toBe("second");
    await sink.close();
  });

  it("writes to stderr and a file together, and still fails a record the file could not take", async () => {
    const sink = createAuditSink({ stream: "stderr", file: { path: "/dev/full" } });
    expect(() => sink.record(event())).toThrow(/ENOSPC/);
    await sink.close();
  });
});

describe("size-based rotation", () => {
  it("rotates before a record would pass the size, keeping the newest files as .1 … .N", async () => {
    const file = path.join(directory, "audit.jsonl");
    const lineBytes = Buffer.byteLength(`${JSON.stringify(boundAuditEvent(event({ tool: "t-00" })))}\n`);
    // Three records fit in a file; eleven records make four files, of which the oldest is dropped.
    const sink = createAuditSink({ file: { path: file, maxBytes: lineBytes * 3, maxFiles: 2 } });
    for (let index = 0; index < 11; index += 1) sink.record(event({ tool: `t-${String(index).padStart(2, "0")}` }));
    await sink.close();
    const tools = async (name: string) =>
      (await readFile(name, "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).tool);
    expect(await tools(file)).toEqual(["t-09", "t-10"]);
    expect(await tools(`${file}.1`)).toEqual(["t-06", "t-07", "t-08"]);
    expect(await tools(`${file}.2`)).toEqual(["t-03", "t-04", "t-05"]);
    await expect(stat(`${file}.3`)).rejects.toThrow(/ENOENT/);
    for (const name of [file, `${file}.1`, `${file}.2`]) {
      expect((await stat(name)).size).toBeLessThanOrEqual(lineBytes * 3);
      expect((await stat(name)).mode & 0o777).toBe(0o600);
    }
  });
});

describe("authorization records", () => {
  it("go to the same trail as tool calls, marked as authorization records", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-audit-authorization-"));
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ file: { path: file } });
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

/** A small seeded generator (mulberry32), so a failure names the seed that reproduces it. */
function generator(seed: number) {
  const next = seededRandom(seed);
  const integer = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  const characters = [...'aZ09-_.é€😀\n"'];
  const text = (length: number) =>
    Array.from({ length }, () => characters[integer(0, characters.length - 1)] ?? "a").join("");
  return { integer, text };
}

const cut = /^([\s\S]*)… \[(\d+) more (characters|bytes) cut by the gateway\]$/;

/** Checks one bounded label: kept whole if short, else a prefix plus an exact count of what was cut. */
function expectBoundedLabel(original: string, written: string | undefined) {
  const codePoints = [...original];
  if (codePoints.length <= longestRecordedLabel) return expect(written).toBe(original);
  const match = cut.exec(written ?? "");
  expect(match?.[1]).toBe(codePoints.slice(0, longestRecordedLabel).join(""));
  expect(Number(match?.[2])).toBe(codePoints.length - longestRecordedLabel);
}

function expectBoundedArgument(original: string, written: unknown) {
  const bytes = Buffer.byteLength(original);
  if (bytes <= longestRecordedArgumentBytes) return expect(written).toBe(original);
  const match = cut.exec(String(written));
  const kept = match?.[1] ?? "";
  expect(original.startsWith(kept)).toBe(true);
  expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(longestRecordedArgumentBytes);
  expect(Buffer.byteLength(kept)).toBeGreaterThan(longestRecordedArgumentBytes - 4);
  expect(Number(match?.[2])).toBe(bytes - Buffer.byteLength(kept));
}

describe("bounds on what a record copies from the caller", () => {
  it("caps a 900,000-character client name at 256 characters, saying how much was cut", async () => {
    const file = path.join(directory, "audit.jsonl");
    const sink = createAuditSink({ file: { path: file } });
    sink.record(event({ client: { name: "n".repeat(900_000), version: "v".repeat(300) } }));
    await sink.close();
    const line = await readFile(file, "utf8");
    expect(line.length).toBeLessThan(2000);
    const written = JSON.parse(line) as AuditEvent;
    expect(written.client.name).toBe(`${"n".repeat(256)}… [899744 more characters cut by the gateway]`);
    expect(written.client.version).toBe(`${"v".repeat(256)}… [44 more characters cut by the gateway]`);
  });

  it("caps each argument at 4 KiB, a 1 MB selector and a 1 MB manifest object alike", () => {
    const selector = `app=${"x".repeat(1_048_576)}`;
    const manifest = { kind: "ConfigMap", data: { big: "y".repeat(1_048_576) } };
    const bounded = boundAuditEvent(event({ arguments: { labelSelector: selector, manifest, name: "api-0" } }));
    expectBoundedArgument(selector, bounded.arguments.labelSelector);
    expectBoundedArgument(JSON.stringify(manifest), bounded.arguments.manifest);
    expect(bounded.arguments.name).toBe("api-0");
    expect(JSON.stringify(bounded).length).toBeLessThan(3 * longestRecordedArgumentBytes);
  });

  it("bounds every caller-made field of generated records exactly, in characters or bytes", () => {
    for (let seed = 1; seed <= 150; seed += 1) {
      const random = generator(seed);
      const length = () => (random.integer(0, 1) === 0 ? random.integer(0, 300) : random.integer(0, 9000));
      const labels = { name: random.text(length()), version: random.text(length()), target: random.text(length()) };
      const argumentText = random.text(length());
      const original = event({
        client: { name: labels.name, version: labels.version },
        name: labels.target,
        arguments: { selector: argumentText },
      });
      const bounded = boundAuditEvent(original);
      expectBoundedLabel(labels.name, bounded.client.name);
      expectBoundedLabel(labels.version, bounded.client.version);
      expectBoundedLabel(labels.target, bounded.name);
      expectBoundedArgument(argumentText, bounded.arguments.selector);
    }
  });

  it("lists at most 64 arguments and says how many more there were", () => {
    const manyArguments = Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`key${index}`, index]));
    const bounded = boundAuditEvent(event({ arguments: manyArguments }));
    expect(Object.keys(bounded.arguments)).toHaveLength(65);
    expect(bounded.arguments["…"]).toBe("36 more arguments cut by the gateway");
  });
});
