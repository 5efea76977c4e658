// `npm run lock`: updates package-lock.json after a package.json changed, in a way that cannot
// write an entry `npm ci` refuses. npm (the version `packageManager` names) updates the lock in a
// scratch copy holding only the manifests and today's lock, so pinned versions stay pinned and no
// node_modules is read; npm's version-less placeholders for other platforms' optional packages
// are then replaced by real entries from the registry; and the lock is written only if
// `lockProblems` finds nothing. The e2e/repo lock test checks the committed lock the same way.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { completeLock, type LockFile, lockProblems, type RegistryManifest } from "./lock-file.ts";

const root = join(import.meta.dirname, "../..");
const say = (line: string) => process.stdout.write(`[lock] ${line}\n`);

const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { packageManager?: string };
const npmVersion = /^npm@(\d+\.\d+\.\d+)$/.exec(rootManifest.packageManager ?? "")?.[1];
if (npmVersion === undefined) throw new Error(`package.json's packageManager is not npm@x.y.z`);

const scratch = mkdtempSync(join(tmpdir(), "capi-mcp-lock-"));
try {
  const files = execFileSync(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", "--", "package.json", "*/package.json"],
    {
      cwd: root,
      encoding: "utf8",
    },
  )
    .split("\n")
    .filter((file) => file !== "" && !file.includes("node_modules/"));
  for (const file of [...files, "package-lock.json", ".npmrc"]) {
    if (!existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    copyFileSync(join(root, file), join(scratch, file));
  }
  const scratchLock = join(scratch, "package-lock.json");
  const manifestOf = async (name: string, range: string): Promise<RegistryManifest> => {
    const text = execFileSync("npm", ["view", `${name}@${range}`, "--json"], { cwd: scratch, encoding: "utf8" });
    const parsed = JSON.parse(text) as RegistryManifest | RegistryManifest[];
    const manifest = Array.isArray(parsed) ? parsed.at(-1) : parsed;
    if (manifest === undefined) throw new Error(`the registry has no ${name}@${range}`);
    return manifest;
  };
  const changes: string[] = [];
  if (existsSync(scratchLock)) {
    // npm itself cannot read a lock with placeholders ("Invalid Version:"): repair it first.
    const before = JSON.parse(readFileSync(scratchLock, "utf8")) as LockFile;
    changes.push(...(await completeLock(before, manifestOf)));
    writeFileSync(scratchLock, `${JSON.stringify(before, null, 2)}\n`);
  }
  say(`npm ${npmVersion} install --package-lock-only in ${scratch}`);
  execFileSync(
    "npm",
    [
      "exec",
      "--yes",
      `--package=npm@${npmVersion}`,
      "--",
      "npm",
      "install",
      "--package-lock-only",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
    ],
    { cwd: scratch, stdio: "inherit" },
  );
  const lock = JSON.parse(readFileSync(scratchLock, "utf8")) as LockFile;
  changes.push(...(await completeLock(lock, manifestOf)));
  for (const change of changes) say(change);
  const problems = lockProblems(lock);
  if (problems.length > 0) {
    for (const problem of problems) say(`refused: ${problem}`);
    say("package-lock.json left as it was");
    process.exitCode = 1;
  } else {
    writeFileSync(join(root, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
    say("package-lock.json written; every entry has a version and an integrity, or is a workspace link");
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
