#!/usr/bin/env bash
# Build the real control-plane binaries (kube-apiserver, kube-controller-manager,
# kubectl, etcd) of one Kubernetes release, pinned by ci/controlplane/v<minor>/go.mod,
# into a directory laid out like envtest's KUBEBUILDER_ASSETS. Does nothing when that
# directory already holds every binary built from the current pins (a stamp file
# records them).
#
# Usage: ci/controlplane/build.sh [VERSION [DEST]]
#   VERSION is a minor version of the matrix (1.34, v1.35, 1.36.3, ...); it defaults to
#   the newest. Each has its own module (ci/controlplane/pin.sh writes one), so the
#   module graphs of two releases never mix.
#   DEST defaults to $CSR_CONFORMANCE_ASSETS, else
#   ${XDG_CACHE_HOME:-~/.cache}/csr-conformance/assets/<k8s version>.
# Prints DEST on stdout as the last line (for: assets=$(build.sh | tail -1)).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
known=$(cd "$here" && ls -d v1.* | sort -t. -k2,2n)
requested=${1:-$(echo "$known" | tail -n 1)}
if ! [[ $requested =~ ^v?1\.([0-9]+)(\.[0-9]+)?$ ]]; then
  echo "build.sh: VERSION must look like 1.37 or v1.37.2, not '$requested'" >&2
  exit 2
fi
module="v1.${BASH_REMATCH[1]}"
if ! [ -f "$here/$module/go.mod" ]; then
  echo "build.sh: Kubernetes $requested is not in the matrix ($(echo $known | tr ' ' ',')); pin it with ci/controlplane/pin.sh" >&2
  exit 2
fi
cd "$here/$module"

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed; install Go >= 1.26 (or fetch envtest binaries with setup-envtest)" >&2
  exit 2
fi

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' go.mod)
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2; exit}' go.mod)
if [ -n "${BASH_REMATCH[2]}" ] && [ "v1.${BASH_REMATCH[1]}${BASH_REMATCH[2]}" != "$k8s_version" ]; then
  echo "build.sh: the matrix pins Kubernetes $k8s_version for $module, not $requested" >&2
  exit 2
fi
dest=${2:-${CSR_CONFORMANCE_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/csr-conformance/assets/$k8s_version}}
stamp_want=$(cat go.mod go.sum ../build.sh | sha256sum | cut -d' ' -f1)

binaries=(kube-apiserver kube-controller-manager kubectl etcd)
complete=yes
for b in "${binaries[@]}"; do [ -x "$dest/$b" ] || complete=no; done
if [ "$complete" = yes ] && [ "$(cat "$dest/.stamp" 2>/dev/null)" = "$stamp_want" ]; then
  echo "build.sh: $dest is complete for kubernetes $k8s_version, etcd $etcd_version" >&2
  echo "$dest"
  exit 0
fi

mkdir -p "$dest"
export CGO_ENABLED=0 GOFLAGS="-mod=mod -trimpath -buildvcs=false"
# kube-apiserver reports this in /version; kubectl compares it for skew warnings.
ver_pkgs="k8s.io/component-base/version k8s.io/client-go/pkg/version"
ldflags="-s -w"
for p in $ver_pkgs; do
  ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1"
  ldflags+=" -X $p.gitMinor=$(echo "$k8s_version" | cut -d. -f2)"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done

start=$(date +%s)
echo "build.sh: building kubernetes $k8s_version and etcd $etcd_version into $dest" >&2
go build -ldflags "$ldflags" -o "$dest/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -ldflags "$ldflags" -o "$dest/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
go build -ldflags "$ldflags" -o "$dest/kubectl" k8s.io/kubernetes/cmd/kubectl
go build -ldflags "-s -w" -o "$dest/etcd" go.etcd.io/etcd/server/v3
echo "$stamp_want" > "$dest/.stamp"
printf 'kubernetes %s\netcd %s\n' "$k8s_version" "$etcd_version" > "$dest/VERSIONS"
echo "build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$dest"
