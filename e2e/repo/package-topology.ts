// The package table of ARCHITECTURE.md, enforced: which workspace package may import which.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export const allowedImports: Readonly<Record<string, readonly string[]>> = {
  core: [],
  kube: ["core"],
  federation: ["core", "kube"],
  tools: ["core"],
  policy: ["core"],
  oauth: ["core"],
  telemetry: ["core"],
  mcp: ["core", "tools", "policy", "telemetry"],
  gateway: ["core", "kube", "federation", "tools", "policy", "oauth", "telemetry", "mcp"],
};

const scope = "@capi-mcp/";

export interface PackageFacts {
  readonly directory: string;
  readonly manifest: {
    name?: string;
    type?: string;
    exports?: Record<string, unknown>;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  /** Source files: path relative to the package, and text. */
  readonly sources: readonly { file: string; text: string }[];
}

function sourceFiles(root: string, directory = root): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  for (const entry of readdirSync(directory)) {
    const full = path.join(directory, entry);
    if (statSync(full).isDirectory()) found.push(...sourceFiles(root, full));
    else if (/\.(ts|mts|js|mjs)$/.test(entry))
      found.push({ file: path.relative(root, full), text: readFileSync(full, "utf8") });
  }
  return found;
}

export function readPackages(packagesDirectory: string): PackageFacts[] {
  return readdirSync(packagesDirectory)
    .filter((entry) => statSync(path.join(packagesDirectory, entry)).isDirectory())
    .map((directory) => {
      const root = path.join(packagesDirectory, directory);
      return {
        directory,
        manifest: JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as PackageFacts["manifest"],
        sources: sourceFiles(path.join(root, "src")),
      };
    });
}

const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;

export function importsOf(text: string): string[] {
  return [...text.matchAll(importPattern)].map((match) => match[1] ?? "");
}

/** Every way the packages break the table; empty when they keep it. */
export function topologyViolations(packages: readonly PackageFacts[]): string[] {
  const violations: string[] = [];
  for (const facts of packages) {
    const name = facts.directory;
    const allowed = allowedImports[name];
    if (!allowed) {
      violations.push(`packages/${name} is not in the package table (ARCHITECTURE.md); add it there and in this test`);
      continue;
    }
    if (facts.manifest.name !== `${scope}${name}`) violations.push(`packages/${name} must be named ${scope}${name}`);
    if (facts.manifest.type !== "module") violations.push(`${scope}${name} must be "type": "module"`);
    const exportKeys = Object.keys(facts.manifest.exports ?? {}).sort();
    if (JSON.stringify(exportKeys) !== JSON.stringify([".", "./package.json"])) {
      violations.push(
        `${scope}${name} must export "." and "./package.json" only (found ${exportKeys.join(", ") || "none"})`,
      );
    }
    const declared = new Set(
      [facts.manifest.dependencies, facts.manifest.devDependencies, facts.manifest.peerDependencies].flatMap((group) =>
        Object.keys(group ?? {}),
      ),
    );
    for (const dependency of declared) {
      if (!dependency.startsWith(scope)) continue;
      const target = dependency.slice(scope.length);
      if (!allowed.includes(target)) violations.push(`${scope}${name} may not depend on ${dependency}`);
    }
    for (const source of facts.sources) {
      for (const specifier of importsOf(source.text)) {
        const where = `packages/${name}/src/${source.file}`;
        if (specifier.startsWith(scope)) {
          const [target = "", ...rest] = specifier.slice(scope.length).split("/");
          if (rest.length > 0) violations.push(`${where} deep-imports ${specifier}; import ${scope}${target} instead`);
          if (target !== name && !allowed.includes(target))
            violations.push(`${where} imports ${scope}${target}, which ${name} may not use`);
          else if (target !== name && !declared.has(`${scope}${target}`)) {
            violations.push(`${where} imports ${scope}${target} without declaring it in package.json`);
          }
        } else if (specifier.startsWith(".")) {
          const resolved = path.normalize(path.join("src", path.dirname(source.file), specifier));
          if (resolved.startsWith("..")) violations.push(`${where} reaches outside its package with ${specifier}`);
        }
      }
    }
  }
  return violations;
}
