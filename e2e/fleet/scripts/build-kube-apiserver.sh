#!/usr/bin/env bash
# Builds kube-apiserver from Debian's `kubernetes` source package (v1.20.2, vendored
# dependencies, so it builds offline) and caches the binary outside the repo, keyed by the
# source package's version and the inputs it was built from (see below). Rebuilds when they differ.
#
# Prints the binary's path on its last line of stdout; records it in <cache>/kube-apiserver/current.
# Needs the programs in requirements.txt (install-debian-packages.sh installs them).
set -euo pipefail

cache_root="${CAPI_MCP_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/capi-mcp}"
apt_dir="$cache_root/apt"
log() { printf '[build-kube-apiserver] %s\n' "$*" >&2; }

# apt-get source needs deb-src entries. Derive them from the machine's own apt sources into a
# private list and private package lists, leaving the system's configuration untouched.
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial"
rm -f "$apt_dir/sources.list.d/"*
shopt -s nullglob
for file in /etc/apt/sources.list.d/*.sources; do
  sed -E 's/^Types:.*/Types: deb-src/' "$file" > "$apt_dir/sources.list.d/$(basename "$file")"
done
: > "$apt_dir/sources.list"
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$file" ] || continue
  sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$file" >> "$apt_dir/sources.list"
done
shopt -u nullglob
apt_options=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  # The private lists live in the invoking user's cache, which apt's sandbox user may not read.
  -o "APT::Sandbox::User=$(id -un)"
)

log "reading the kubernetes source package's version from the archive"
apt-get "${apt_options[@]}" update -qq >&2
version=$(apt-cache "${apt_options[@]}" showsrc kubernetes | awk '/^Version:/ {print $2}' | sort -V | tail -n 1)
if [ -z "$version" ]; then
  log "no 'kubernetes' source package found in the machine's apt sources"
  exit 1
fi

# What the binary is built from. A cached binary is reused only when every input matches: the
# source package's version, this script, Go's and reflect2's package versions.
inputs=$(cat <<INPUTS
kubernetes-source $version
build-script $(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
golang-go $(dpkg-query -W -f='${Version}' golang-go 2>/dev/null || echo none)
go $(go env GOVERSION 2>/dev/null || echo none)
golang-github-modern-go-reflect2-dev $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev 2>/dev/null || echo none)
INPUTS
)
target_dir="$cache_root/kube-apiserver/$version"
binary="$target_dir/kube-apiserver"
if [ -x "$binary" ] && [ "$(cat "$target_dir/inputs" 2>/dev/null)" = "$inputs" ] && "$binary" --version >/dev/null 2>&1; then
  log "cached: $binary ($("$binary" --version)), built from the same inputs"
  printf '%s\n' "$binary" > "$cache_root/kube-apiserver/current"
  printf '%s\n' "$binary"
  exit 0
fi
if [ -e "$binary" ]; then
  log "the cached binary was built from other inputs; rebuilding. Cached: $(tr '\n' ';' < "$target_dir/inputs" 2>/dev/null || echo unknown). Now: $(tr '\n' ';' <<< "$inputs")"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kube-apiserver-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "building kube-apiserver from kubernetes $version in $work (a few minutes)"
cd "$work"
apt-get "${apt_options[@]}" source --download-only "kubernetes=$version" >&2 2>/dev/null || \
  apt-get "${apt_options[@]}" source --download-only "kubernetes=$version" >&2
dpkg-source -x ./*.dsc source >/dev/null
cd source

# The vendored modern-go/reflect2 1.0.1 crashes on Go >= 1.18; Debian's 1.0.2 is compatible.
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
if [ ! -d "$reflect2" ]; then
  log "missing $reflect2: install golang-github-modern-go-reflect2-dev"
  exit 1
fi
rm -rf vendor/github.com/modern-go/reflect2
cp -r "$reflect2" vendor/github.com/modern-go/reflect2

# GOPATH mode with the vendored dependencies: nothing is fetched.
export HOME="$work/home" GOFLAGS="" GO111MODULE=off GOPROXY=off CGO_ENABLED=0
mkdir -p "$HOME"
start=$(date +%s)
make WHAT=cmd/kube-apiserver >&2
log "built in $(( $(date +%s) - start )) s"

mkdir -p "$target_dir"
install -m 0755 _output/bin/kube-apiserver "$binary.tmp"
mv "$binary.tmp" "$binary"
printf '%s\n' "$inputs" > "$target_dir/inputs"
printf '%s\n' "$binary" > "$cache_root/kube-apiserver/current"
log "cached: $binary ($("$binary" --version))"
printf '%s\n' "$binary"
