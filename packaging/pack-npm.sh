#!/usr/bin/env bash
# The npm package `capi-mcp`: one tarball a stdio user installs without cloning the repository.
#
#   bash packaging/pack-npm.sh <output-dir>      prints the tarball's path on its last line
#
# The workspace packages (@capi-mcp/*) are not published, so they travel inside the tarball as
# bundleDependencies (each one's package.json and compiled JavaScript, no declarations, no source
# maps, no tests). The third-party dependencies are ordinary dependencies, pinned to the versions
# package-lock.json resolved, which npm installs from the registry. Needs `npm run build` first.
set -euo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 <output-dir>" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
output=$(mkdir -p "$1" && cd "$1" && pwd)
node=${NODE:-node}
packages=(core kube federation tools policy oauth telemetry mcp gateway)
for package in "${packages[@]}"; do
  if [ ! -f "$repo/packages/$package/dist/index.js" ]; then
    echo "pack-npm: packages/$package/dist is missing: run npm run build first" >&2
    exit 1
  fi
done

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
for package in "${packages[@]}"; do
  destination="$staging/node_modules/@capi-mcp/$package"
  mkdir -p "$destination"
  (cd "$repo/packages/$package" &&
    find dist -type f -name '*.js' ! -name '*.test.js' -exec cp --parents {} "$destination" \;)
  find "$destination/dist" -name '*.js' -exec sed -i '/^\/\/# sourceMappingURL=/d' {} +
  if [ -d "$repo/packages/$package/bin" ]; then cp -a "$repo/packages/$package/bin" "$destination/"; fi
done
mkdir -p "$staging/bin"
cp "$repo/LICENSE" "$staging/"
cp "$repo/packaging/npm-readme.md" "$staging/README.md"

# The manifests: the bundled packages keep their name, version and exports; the published
# package lists every third-party dependency of the bundle at the version the lock resolved.
"$node" - "$repo" "$staging" "${packages[@]}" <<'SCRIPT'
const { readFileSync, writeFileSync } = require("node:fs");
const [repo, staging, ...packages] = process.argv.slice(2);
const lock = JSON.parse(readFileSync(`${repo}/package-lock.json`, "utf8")).packages;
const root = JSON.parse(readFileSync(`${repo}/package.json`, "utf8"));
const dependencies = {};
const bundled = [];
for (const name of packages) {
  const manifest = JSON.parse(readFileSync(`${repo}/packages/${name}/package.json`, "utf8"));
  bundled.push(manifest.name);
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (dependency.startsWith("@capi-mcp/")) continue;
    const resolved = lock[`packages/${name}/node_modules/${dependency}`] ?? lock[`node_modules/${dependency}`];
    if (!resolved?.version) throw new Error(`pack-npm: ${dependency} of ${manifest.name} is not in package-lock.json`);
    if (dependencies[dependency] && dependencies[dependency] !== resolved.version) {
      throw new Error(`pack-npm: ${dependency} resolves to ${dependencies[dependency]} and ${resolved.version}`);
    }
    dependencies[dependency] = resolved.version;
  }
  const exports = { ...manifest.exports };
  const slim = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    type: manifest.type,
    exports: Object.fromEntries(
      Object.entries(exports).map(([key, value]) => [key, typeof value === "object" ? value.default : value]),
    ),
    dependencies: manifest.dependencies,
  };
  writeFileSync(`${staging}/node_modules/${manifest.name}/package.json`, `${JSON.stringify(slim, null, 2)}\n`);
}
const gateway = JSON.parse(readFileSync(`${repo}/packages/gateway/package.json`, "utf8"));
const published = {
  name: "capi-mcp",
  version: gateway.version,
  description: root.description,
  license: root.license,
  type: "module",
  bin: { "capi-mcp": "bin/capi-mcp.js" },
  engines: { node: root.engines.node },
  files: ["bin", "README.md", "LICENSE"],
  keywords: ["mcp", "kubernetes", "cluster-api", "model-context-protocol"],
  dependencies: Object.fromEntries([
    ...Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)),
    ...bundled.map((name) => [name, packagesVersion(name)]),
  ]),
  bundleDependencies: bundled,
};
function packagesVersion(name) {
  return JSON.parse(readFileSync(`${staging}/node_modules/${name}/package.json`, "utf8")).version;
}
writeFileSync(`${staging}/package.json`, `${JSON.stringify(published, null, 2)}\n`);

// The command: a user brings their own Node, and @kubernetes/client-node 2 (undici 8) crashes
// on Node 20 with an error that names neither Node nor capi-mcp. So check the engines range
// first, in syntax every Node since 14 parses, and import the gateway only when it holds.
const minimum = /^>=(\d+)$/.exec(root.engines.node)?.[1];
if (minimum === undefined) throw new Error(`pack-npm: engines.node ${root.engines.node} is not of the form >=N`);
writeFileSync(
  `${staging}/bin/capi-mcp.js`,
  `#!/usr/bin/env node
// The capi-mcp command of the npm package: checks the Node version, then runs the gateway's own
// command, bundled under node_modules/@capi-mcp/gateway.
const major = Number(process.versions.node.split(".")[0]);
if (!(major >= ${minimum})) {
  process.stderr.write(
    \`capi-mcp needs Node.js ${root.engines.node}; this is Node.js \${process.versions.node} (\${process.execPath}). Install Node.js ${minimum} or later and run capi-mcp with it.\\n\`,
  );
  process.exit(1);
}
await import("../node_modules/@capi-mcp/gateway/bin/capi-mcp.js");
`,
  { mode: 0o755 },
);
SCRIPT

(cd "$staging" && npm pack --pack-destination "$output" --loglevel=error >/dev/null)
tarball="$output/capi-mcp-$(cd "$staging" && "$node" -p 'require("./package.json").version').tgz"
if [ ! -f "$tarball" ]; then
  echo "pack-npm: npm pack did not produce $tarball" >&2
  exit 1
fi
echo "$tarball"
