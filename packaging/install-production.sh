#!/usr/bin/env bash
# The production install of capi-mcp, the one the Dockerfile runs and e2e/tests/packaging.test.ts
# runs too: the gateway with its production dependencies only, at the versions package-lock.json
# pins, into <target-dir>, with the entry point <target-dir>/bin/capi-mcp.
#
#   bash packaging/install-production.sh <target-dir>
#
# Needs the workspace built (npm run build: each package's dist/). It copies the workspace's
# manifests and lock into a scratch directory, runs `npm ci --omit=dev` there (no devDependency:
# no TypeScript, vitest, biome, turbo, the `node` package, nor the e2e workspace's packages), then
# copies the result with the workspace links resolved: node_modules/@capi-mcp/<package> holds that
# package's package.json and dist/ (JavaScript only: no declarations, no source maps, no tests),
# and drops the declarations, maps and TypeScript sources of the third-party packages too.
set -euo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 <target-dir>" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
target=$1
if [ -e "$target" ] && [ -n "$(ls -A "$target" 2>/dev/null)" ]; then
  echo "install-production: $target exists and is not empty; give an empty or new directory" >&2
  exit 2
fi
packages=(core kube federation tools policy oauth telemetry mcp gateway)
for package in "${packages[@]}"; do
  if [ ! -f "$repo/packages/$package/dist/index.js" ]; then
    echo "install-production: packages/$package/dist is missing: run npm run build first" >&2
    exit 1
  fi
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$repo/package.json" "$repo/package-lock.json" "$repo/.npmrc" "$scratch/"
mkdir -p "$scratch/e2e"
cp "$repo/e2e/package.json" "$scratch/e2e/"
for package in "${packages[@]}"; do
  mkdir -p "$scratch/packages/$package"
  cp "$repo/packages/$package/package.json" "$scratch/packages/$package/"
done
# --ignore-scripts: no production dependency needs an install script, and none may run one.
(cd "$scratch" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)

mkdir -p "$target/node_modules" "$target/bin"
# Third-party packages as npm placed them (hoisted), without the workspace links and .bin.
for entry in "$scratch/node_modules"/* "$scratch/node_modules"/.package-lock.json; do
  name=$(basename "$entry")
  case "$name" in
    @capi-mcp | .bin | .package-lock.json) continue ;;
  esac
  cp -a "$entry" "$target/node_modules/"
done
# Declarations, source maps and TypeScript sources are never loaded at run time (Node runs no
# TypeScript from node_modules, and the gateway runs without --enable-source-maps), yet they are
# half the tree: @kubernetes/client-node alone ships about 60 MB of them. Licences and
# manifests stay.
find "$target/node_modules" -type f \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' \) -delete
# Workspace packages: manifest and compiled JavaScript, plus any dependency npm nested under one.
for package in "${packages[@]}"; do
  destination="$target/node_modules/@capi-mcp/$package"
  mkdir -p "$destination"
  cp "$repo/packages/$package/package.json" "$destination/"
  (cd "$repo/packages/$package" &&
    find dist -type f -name '*.js' ! -name '*.test.js' -exec cp --parents {} "$destination" \;)
  # The maps point at src/, which is not installed: drop the references too.
  find "$destination/dist" -name '*.js' -exec sed -i '/^\/\/# sourceMappingURL=/d' {} +
  if [ -d "$scratch/packages/$package/node_modules" ]; then
    cp -a "$scratch/packages/$package/node_modules" "$destination/"
  fi
  if [ -d "$repo/packages/$package/bin" ]; then cp -a "$repo/packages/$package/bin" "$destination/"; fi
done
cp "$repo/LICENSE" "$target/"
ln -s ../node_modules/@capi-mcp/gateway/bin/capi-mcp.js "$target/bin/capi-mcp"
echo "install-production: capi-mcp installed in $target ($(du -sh "$target" | cut -f1))" >&2
