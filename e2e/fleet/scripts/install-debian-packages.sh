#!/usr/bin/env bash
# Installs the Debian packages named in requirements.txt, when any is missing.
set -euo pipefail
list="$(dirname "$0")/requirements.txt"
mapfile -t packages < <(awk '!/^[[:space:]]*(#|$)/ {print $2}' "$list" | sort -u)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "[install-debian-packages] all present: ${packages[*]}" >&2
  exit 0
fi
echo "[install-debian-packages] installing: ${missing[*]}" >&2
sudo_prefix=()
[ "$(id -u)" -eq 0 ] || sudo_prefix=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_prefix[@]}" apt-get update -qq
"${sudo_prefix[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
