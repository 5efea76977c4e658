import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDirectory = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs a sink in a child process, so its stdout and stderr can be read whole. It imports the built
 * telemetry package, which turbo builds before this package's tests (a dependency's build).
 */
function runSink(options: string): { stdout: string; stderr: string } {
  const script = `
    import { createAuditSink } from "@capi-mcp/telemetry";
    const sink = createAuditSink(${options});
    sink.record({ time: "2026-12-04T00:00:00.000Z", stage: "completed", callId: "c-1", sessionId: undefined,
      actor: { username: "u", groups: [], source: "kubeconfig" }, client: {}, tool: "k8s_list_resources",
      arguments: {}, dryRun: false, outcome: "ok", durationMilliseconds: 1 });
    await sink.close();
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "--no-warnings", "-e", script], {
    cwd: packageDirectory,
    encoding: "utf8",
  });
  if (child.status !== 0) throw new Error(`the sink's process failed: ${child.stderr}`);
  return { stdout: child.stdout, stderr: child.stderr };
}

describe("the audit sink's standard streams", () => {
  it("writes JSON lines to stdout alone, the default on streamable HTTP", () => {
    const { stdout } = runSink('{ stream: "stdout" }');
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ stage: "completed", callId: "c-1", tool: "k8s_list_resources" });
  });

  it("writes to stderr alone, keeping stdout clean for the stdio transport's protocol", () => {
    const { stdout, stderr } = runSink('{ stream: "stderr" }');
    expect(stdout).toBe("");
    expect(JSON.parse(stderr.trim())).toMatchObject({ callId: "c-1" });
  });
});
