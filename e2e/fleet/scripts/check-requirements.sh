#!/usr/bin/env bash
# Checks that every program and path in requirements.txt is present. Exits 1 naming each one that
# is missing and the Debian package that brings it, so a set-up fails at once with the reason,
# before the long kube-apiserver build, instead of deep inside it.
set -euo pipefail
list="${CAPI_MCP_REQUIREMENTS:-$(dirname "$0")/requirements.txt}"
missing=0
while read -r program package callers; do
  case "$program" in '' | '#'*) continue ;; esac
  if [[ "$program" == /* ]]; then
    [ -e "$program" ] && continue
  else
    command -v "$program" >/dev/null 2>&1 && continue
  fi
  echo "[check-requirements] missing: $program (Debian package $package; needed by $callers)" >&2
  missing=1
done < "$list"
if [ "$missing" -ne 0 ]; then
  echo "[check-requirements] run e2e/fleet/scripts/install-debian-packages.sh (or apt-get install the packages above)" >&2
  exit 1
fi
echo "[check-requirements] all present: $(grep -cvE '^[[:space:]]*(#|$)' "$list") programs and paths from $(basename "$list")" >&2
