#!/usr/bin/env bash
# Build kine (k3s's etcd shim over SQLite and memory) into its own directory next to
# the control-plane assets, for `csr-conformance run --storage kine-sqlite|kine-memory`.
# Does nothing when that directory already holds a kine built from the current pins
# (a stamp file records them), as ci/controlplane/build.sh does.
#
# Usage: ci/kine/build.sh [VERSION [DEST]]
#   VERSION defaults to the kine go.mod pins (v0.17.5). Another release, e.g. v0.16.5
#   (a second subject, for regression targets), is built by `go install kine@VERSION`,
#   which uses that release's own go.mod and go.sum, checked against the checksum DB.
#   DEST defaults to $CSR_CONFORMANCE_KINE_ASSETS, else
#   ${XDG_CACHE_HOME:-~/.cache}/csr-conformance/assets/kine-<version>.
# CGO_ENABLED=0 selects kine's pure-Go SQLite driver (modernc.org/sqlite): no C
# toolchain, and the same binary everywhere.
# Prints DEST on stdout as the last line (for: kine=$(build.sh | tail -1)).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed; install Go >= 1.26" >&2
  exit 2
fi

pinned=$(awk '$1 == "github.com/k3s-io/kine" && $2 ~ /^v/ {print $2; exit}' go.mod)
version=${1:-$pinned}
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "build.sh: kine version must look like v0.17.5, not '$version'" >&2
  exit 2
fi
dest=${2:-${CSR_CONFORMANCE_KINE_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/csr-conformance/assets/kine-$version}}
if [ "$version" = "$pinned" ]; then
  stamp_want=$(cat go.mod go.sum build.sh | sha256sum | cut -d' ' -f1)
else
  stamp_want=$( (echo "$version"; cat build.sh) | sha256sum | cut -d' ' -f1)
fi

if [ -x "$dest/kine" ] && [ "$(cat "$dest/.stamp" 2>/dev/null)" = "$stamp_want" ]; then
  echo "build.sh: $dest is complete for kine $version" >&2
  echo "$dest"
  exit 0
fi

mkdir -p "$dest"
export CGO_ENABLED=0 GOFLAGS="-mod=mod -trimpath -buildvcs=false"
ldflags="-s -w -X github.com/k3s-io/kine/pkg/version.Version=$version"
ldflags+=" -X github.com/k3s-io/kine/pkg/version.GitCommit=release"

start=$(date +%s)
echo "build.sh: building kine $version into $dest" >&2
rm -f "$dest/.stamp"
if [ "$version" = "$pinned" ]; then
  go build -ldflags "$ldflags" -o "$dest/kine" github.com/k3s-io/kine
else
  GOBIN="$dest" go install -ldflags "$ldflags" "github.com/k3s-io/kine@$version"
fi
echo "$stamp_want" > "$dest/.stamp"
printf 'kine %s\n' "$version" > "$dest/VERSIONS"
echo "build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$dest"
