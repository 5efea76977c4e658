// Set-up's one list of required programs, and the check that runs before the long build.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const scripts = new URL("../fleet/scripts/", import.meta.url).pathname;
const listLines = readFileSync(join(scripts, "requirements.txt"), "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));

const scratch: string[] = [];
afterEach(() => {
  for (const directory of scratch.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function check(list: string) {
  const directory = mkdtempSync(join(tmpdir(), "capi-mcp-requirements-"));
  scratch.push(directory);
  writeFileSync(join(directory, "requirements.txt"), list);
  return spawnSync("bash", [join(scripts, "check-requirements.sh")], {
    env: { ...process.env, CAPI_MCP_REQUIREMENTS: join(directory, "requirements.txt") },
    encoding: "utf8",
  });
}

describe("the requirements list", () => {
  it("names for each program a Debian package and who calls it", () => {
    expect(listLines.length).toBeGreaterThan(10);
    for (const line of listLines) {
      const [program, debianPackage, ...callers] = line.trim().split(/\s+/);
      expect(program, line).toMatch(/^(\/[\w./-]+|[\w.+-]+)$/);
      expect(debianPackage, line).toMatch(/^[a-z0-9][a-z0-9.+-]+$/);
      expect(callers.join(" "), line).not.toBe("");
    }
  });

  it("is what the Debian install script installs from", () => {
    const installer = readFileSync(join(scripts, "install-debian-packages.sh"), "utf8");
    expect(installer).toContain("requirements.txt");
    expect(installer).not.toMatch(/packages=\(\s*[a-z]/);
  });
});

describe("check-requirements.sh", () => {
  it("fails naming the missing program, its package and who needs it", () => {
    const result = check(
      "sh  dash  a shell\ncapi-mcp-no-such-program  capi-mcp-no-such-package  the test of the check\n/no/such/path  another-package  a path check\n",
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "missing: capi-mcp-no-such-program (Debian package capi-mcp-no-such-package; needed by the test of the check)",
    );
    expect(result.stderr).toContain("missing: /no/such/path (Debian package another-package; needed by a path check)");
    expect(result.stderr).not.toContain("missing: sh ");
  });

  it("passes, counting what it checked, when every program and path is present", () => {
    const result = check("# a comment\nsh  dash  a shell\n/bin  base-files  a path\n");
    expect(result.stderr).toContain("all present: 2 programs and paths");
    expect(result.status).toBe(0);
  });
});
