import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importsOf, type PackageFacts, readPackages, topologyViolations } from "./package-topology.ts";

const packagesDirectory = fileURLToPath(new URL("../../packages", import.meta.url));

function fakePackage(
  directory: string,
  overrides: Partial<PackageFacts["manifest"]>,
  sources: PackageFacts["sources"] = [],
): PackageFacts {
  return {
    directory,
    manifest: {
      name: `@capi-mcp/${directory}`,
      type: "module",
      exports: { ".": {}, "./package.json": "./package.json" },
      ...overrides,
    },
    sources,
  };
}

describe("the package topology", () => {
  it("is kept by every package in packages/", () => {
    const packages = readPackages(packagesDirectory);
    expect(packages.map((facts) => facts.directory)).toContain("core");
    expect(topologyViolations(packages)).toEqual([]);
  });

  it("catches a sibling import that the table forbids (tools importing kube)", () => {
    const violations = topologyViolations([
      fakePackage("tools", { dependencies: { "@capi-mcp/kube": "0.1.0" } }, [
        { file: "get.ts", text: 'import { x } from "@capi-mcp/kube";' },
      ]),
    ]);
    expect(violations).toEqual([
      "@capi-mcp/tools may not depend on @capi-mcp/kube",
      "packages/tools/src/get.ts imports @capi-mcp/kube, which tools may not use",
    ]);
  });

  it("catches core depending on anything internal", () => {
    expect(
      topologyViolations([fakePackage("core", {}, [{ file: "a.ts", text: 'export * from "@capi-mcp/policy";' }])]),
    ).toEqual(["packages/core/src/a.ts imports @capi-mcp/policy, which core may not use"]);
  });

  it("catches deep imports, undeclared imports, relative escapes, extra exports and unknown packages", () => {
    const violations = topologyViolations([
      fakePackage("mcp", { exports: { ".": {}, "./internal": {}, "./package.json": {} } }, [
        {
          file: "server.ts",
          text: 'import { a } from "@capi-mcp/tools/src/get.js";\nimport("../../policy/src/index.js");',
        },
      ]),
      fakePackage("helpers", {}),
    ]);
    expect(violations).toEqual([
      '@capi-mcp/mcp must export "." and "./package.json" only (found ., ./internal, ./package.json)',
      "packages/mcp/src/server.ts deep-imports @capi-mcp/tools/src/get.js; import @capi-mcp/tools instead",
      "packages/mcp/src/server.ts imports @capi-mcp/tools without declaring it in package.json",
      "packages/mcp/src/server.ts reaches outside its package with ../../policy/src/index.js",
      "packages/helpers is not in the package table (ARCHITECTURE.md); add it there and in this test",
    ]);
  });

  it("finds static, side-effect, re-export and dynamic imports", () => {
    const text =
      'import a from "x";\nimport "y";\nexport { b } from "z";\nawait import("w");\nimport type { C } from "v";';
    expect(importsOf(text)).toEqual(["x", "y", "z", "w", "v"]);
  });
});
