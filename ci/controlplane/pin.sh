#!/usr/bin/env bash
# Write the Go module that pins one Kubernetes release's control-plane binaries:
# ci/controlplane/v<major.minor>/go.mod and go.sum. build.sh builds from it.
#
# Usage: ci/controlplane/pin.sh vX.Y.Z
# k8s.io/kubernetes replaces each of its staging modules with a local path, which a
# module that imports it cannot follow; each is published as k8s.io/<name> v0.Y.Z,
# so the pin points every such replace at that twin. etcd is left to `go mod tidy`,
# which takes the version that Kubernetes release itself requires.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=${1:?usage: pin.sh vX.Y.Z}
if ! [[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "pin.sh: version must look like v1.37.2, not '$version'" >&2
  exit 2
fi
minor=${BASH_REMATCH[1]}
staging=v0.${minor}.${BASH_REMATCH[2]}
dir="$here/v1.$minor"
mkdir -p "$dir"
upstream=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$version" |
  awk -F'"' '$2 == "GoMod" {print $4}')

{
  echo "// Pins the real control-plane binaries of Kubernetes $version: kube-apiserver,"
  echo "// kube-controller-manager and kubectl from k8s.io/kubernetes, and etcd from"
  echo "// etcd's own server module at the version that release requires."
  echo "// Written by ci/controlplane/pin.sh; ci/controlplane/build.sh builds it."
  echo "module csr-conformance/ci/controlplane/v1.$minor"
  echo
  echo "go 1.26.0"
  echo
  echo "tool ("
  echo "	go.etcd.io/etcd/server/v3"
  echo "	k8s.io/kubernetes/cmd/kube-apiserver"
  echo "	k8s.io/kubernetes/cmd/kube-controller-manager"
  echo "	k8s.io/kubernetes/cmd/kubectl"
  echo ")"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "// Every staging module k8s.io/kubernetes replaces with a local path is published"
  echo "// as k8s.io/<name> $staging; point each at that twin."
  echo "replace ("
  awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// {printf "\t%s => %s %s\n", $1, $1, v}' "$upstream"
  echo ")"
} > "$dir/go.mod"
rm -f "$dir/go.sum"
(cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
echo "pin.sh: wrote $dir/go.mod for kubernetes $version" >&2
