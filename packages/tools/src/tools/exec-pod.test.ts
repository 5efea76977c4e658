import type { ExecRequest, ExecResult } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { makePod } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { testContext } from "../testing/test-context.js";
import { execPodTool } from "./exec-pod.js";

function cluster(answer: (request: ExecRequest) => ExecResult): InMemoryCluster {
  return new InMemoryCluster({ name: "dev", objects: [makePod({ name: "api-1", namespace: "shop" })], exec: answer });
}

const base = { stdout: "", stderr: "", exitCode: 0, truncated: false, timedOut: false };

describe("k8s_exec_pod", () => {
  it("shows a non-zero exit code as a normal answer with stdout and stderr apart", async () => {
    const dev = cluster(() => ({
      ...base,
      stdout: "partial\n",
      stderr: "ls: /nope: No such file or directory\n",
      exitCode: 2,
    }));
    const result = await runTool(
      execPodTool,
      { name: "api-1", namespace: "shop", command: ["ls", "/nope"] },
      testContext([dev]),
    );
    expect(result.text).toBe(
      [
        "Ran in pod shop/api-1: ls /nope",
        "Exit code: 2 (non-zero: the command ran and reported failure; see stderr)",
        "--- stdout ---",
        "partial",
        "--- stderr ---",
        "ls: /nope: No such file or directory",
        "--- end ---",
      ].join("\n"),
    );
    expect(result.structured).toMatchObject({ exitCode: 2, timedOut: false });
  });

  it("sends the command as an array with stdin, container and the capped timeout and output limit", async () => {
    const dev = cluster(() => base);
    await runTool(
      execPodTool,
      {
        name: "api-1",
        namespace: "shop",
        container: "app",
        command: ["sh", "-c", "cat > /tmp/x"],
        stdin: "hello",
        timeoutSeconds: 999,
      },
      testContext([dev], { settings: { execTimeoutMilliseconds: 10_000, execMaxOutputBytes: 1234 } }),
    );
    expect(dev.callsTo("exec")[0]?.arguments[0]).toEqual({
      namespace: "shop",
      pod: "api-1",
      container: "app",
      command: ["sh", "-c", "cat > /tmp/x"],
      stdin: "hello",
      timeoutMilliseconds: 10_000,
      maxOutputBytes: 1234,
    });
  });

  it("flags a timeout and truncated output", async () => {
    const dev = cluster(() => ({ ...base, stdout: "tick\n", exitCode: undefined, timedOut: true, truncated: true }));
    const result = await runTool(
      execPodTool,
      { name: "api-1", namespace: "shop", command: ["sleep", "100"], timeoutSeconds: 2 },
      testContext([dev]),
    );
    expect(result.text).toContain("Exit code: none (timed out; the command was stopped)");
    expect(result.text).toContain("Timed out after 2s.");
    expect(result.text).toContain("Output truncated at 64000 bytes");
    expect(result.text).toContain("--- stderr ---\n(empty)");
  });

  it("reports a command that could not start", async () => {
    const dev = cluster(() => ({
      ...base,
      exitCode: undefined,
      failure: 'executable file not found in $PATH: "bash"',
    }));
    const result = await runTool(
      execPodTool,
      { name: "api-1", namespace: "shop", command: ["bash"] },
      testContext([dev]),
    );
    expect(result.text).toContain('The command could not run as asked: executable file not found in $PATH: "bash"');
  });

  it("quotes arguments with spaces when showing the command", async () => {
    const result = await runTool(
      execPodTool,
      { name: "api-1", namespace: "shop", command: ["sh", "-c", "echo 'hi' there"] },
      testContext([cluster(() => base)]),
    );
    expect(result.text.split("\n")[0]).toBe("Ran in pod shop/api-1: sh -c 'echo '\\''hi'\\'' there'");
  });

  it("refuses a shell string or an empty command", () => {
    expect(execPodTool.input.safeParse({ name: "api-1", command: "ls -la" }).success).toBe(false);
    expect(execPodTool.input.safeParse({ name: "api-1", command: [] }).success).toBe(false);
    expect(execPodTool.input.safeParse({ name: "api-1", command: [""] }).success).toBe(false);
  });
});
