#!/usr/bin/env bash
# Prepares this machine for the project: Debian packages, the cached kube-apiserver build and
# the npm packages (which bring Node 24). Safe to run again: each step skips what is done.
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash e2e/fleet/scripts/install-debian-packages.sh
kube_apiserver=$(bash e2e/fleet/scripts/build-kube-apiserver.sh | tail -n 1)
npm ci --no-audit --no-fund
echo "[setup] ready: Node $(node_modules/.bin/node --version), kube-apiserver $("$kube_apiserver" --version)"
