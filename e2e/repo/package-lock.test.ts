// The committed lock installs with `npm ci` on a machine whose npm cache is empty.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { completeLock, type LockFile, lockProblems, type RegistryManifest, resolveFrom } from "./lock-file.ts";

const committed = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as LockFile;

/** A lock the way npm writes one from a node_modules that lacks another platform's binary. */
function lockWithPlaceholder(): LockFile {
  return {
    lockfileVersion: 3,
    packages: {
      "": { name: "root", devDependencies: { tool: "1.0.0" } },
      "packages/core": { name: "@x/core", version: "0.1.0" },
      "node_modules/@x/core": { resolved: "packages/core", link: true },
      "node_modules/tool": {
        version: "1.0.0",
        integrity: "sha512-tool",
        dev: true,
        optionalDependencies: { "tool-linux": "1.0.0", "tool-darwin": "1.0.0" },
      },
      "node_modules/tool-linux": {
        version: "1.0.0",
        integrity: "sha512-linux",
        dev: true,
        optional: true,
        os: ["linux"],
      },
      "node_modules/tool/node_modules/tool-darwin": { dev: true, optional: true },
    },
  };
}

const registry: Record<string, RegistryManifest> = {
  "tool-darwin@1.0.0": {
    name: "tool-darwin",
    version: "1.0.0",
    dist: { integrity: "sha512-darwin" },
    os: ["darwin"],
    cpu: ["arm64"],
    license: "MIT",
  },
};
const manifestOf = async (name: string, range: string) => {
  const manifest = registry[`${name}@${range}`];
  if (manifest === undefined) throw new Error(`no ${name}@${range}`);
  return manifest;
};

describe("package-lock.json", () => {
  it("has a version and an integrity for every package, or is a workspace link, and no registry address", () => {
    expect(Object.keys(committed.packages).length).toBeGreaterThan(100);
    expect(lockProblems(committed)).toEqual([]);
  });

  it("lists every platform's binary of biome and turbo at the top level, as npm ci on any platform needs", () => {
    for (const parent of ["node_modules/@biomejs/biome", "node_modules/turbo"]) {
      const optional = Object.keys(committed.packages[parent]?.optionalDependencies ?? {});
      expect(optional.length, parent).toBeGreaterThan(3);
      for (const name of optional) expect(resolveFrom(committed, parent, name), name).toBe(`node_modules/${name}`);
    }
  });
});

describe("the lock check", () => {
  it("names a version-less placeholder and the optional dependency it leaves without an entry", () => {
    const lock = lockWithPlaceholder();
    expect(lockProblems(lock)).toEqual([
      "node_modules/tool/node_modules/tool-darwin: no version (a placeholder npm cannot install from)",
      "node_modules/tool/node_modules/tool-darwin: no integrity",
    ]);
    delete lock.packages["node_modules/tool/node_modules/tool-darwin"];
    expect(lockProblems(lock)).toEqual(["node_modules/tool: optional dependency tool-darwin has no entry"]);
  });

  it("refuses a registry address in resolved, a link to nowhere, and an entry without integrity", () => {
    const lock = lockWithPlaceholder();
    delete lock.packages["node_modules/tool/node_modules/tool-darwin"];
    lock.packages["node_modules/tool-darwin"] = { version: "1.0.0", integrity: "sha512-d" };
    lock.packages["node_modules/tool-linux"] = {
      version: "1.0.0",
      resolved: "https://registry.example/tool-linux.tgz",
    };
    lock.packages["node_modules/@x/gone"] = { resolved: "packages/gone", link: true };
    expect(lockProblems(lock)).toEqual([
      "node_modules/tool-linux: no integrity",
      "node_modules/tool-linux: resolved names a registry's address; set omit-lockfile-registry-resolved (see .npmrc)",
      "node_modules/@x/gone: links to packages/gone, which the lock does not describe",
    ]);
  });

  it("resolves a dependency the way Node does: nested first, then each parent, then the root", () => {
    const lock: LockFile = {
      packages: {
        "node_modules/a": { version: "1.0.0" },
        "node_modules/a/node_modules/b": { version: "2.0.0" },
        "node_modules/b": { version: "1.0.0" },
        "packages/core": { version: "0.1.0" },
      },
    };
    expect(resolveFrom(lock, "node_modules/a", "b")).toBe("node_modules/a/node_modules/b");
    expect(resolveFrom(lock, "node_modules/a/node_modules/b", "a")).toBe("node_modules/a");
    expect(resolveFrom(lock, "packages/core", "b")).toBe("node_modules/b");
    expect(resolveFrom(lock, "node_modules/b", "c")).toBeUndefined();
  });
});

describe("the lock repair (npm run lock)", () => {
  it("replaces a placeholder with the registry's entry at the top level, which then passes the check", async () => {
    const lock = lockWithPlaceholder();
    const changes = await completeLock(lock, manifestOf);
    expect(changes).toEqual([
      "removed the placeholder node_modules/tool/node_modules/tool-darwin",
      "added node_modules/tool-darwin@1.0.0 (optional dependency of node_modules/tool)",
    ]);
    expect(lock.packages["node_modules/tool-darwin"]).toEqual({
      version: "1.0.0",
      integrity: "sha512-darwin",
      cpu: ["arm64"],
      dev: true,
      license: "MIT",
      optional: true,
      os: ["darwin"],
    });
    expect(lockProblems(lock)).toEqual([]);
  });

  it("changes nothing in a lock that is already complete", async () => {
    const lock = structuredClone(committed);
    expect(await completeLock(lock, manifestOf)).toEqual([]);
    expect(lock).toEqual(committed);
  });
});
