#!/usr/bin/env bash
# Run csr-conformance against a throwaway kind cluster, then delete the cluster.
#
# Usage: ci/kind/run.sh [extra `csr-conformance run` arguments...]
#
# Environment (all optional):
#   KIND_NODE_IMAGE  node image to test (default: the v1.37 image below)
#   CLUSTER_NAME     kind cluster name (default: csr-conformance)
#   REPORT_DIR       where junit.xml, summary.md and results.json go
#                    (default: ./csr-conformance-report)
#   KEEP_CLUSTER     set to 1 to keep the cluster afterwards, for debugging
#   PYTHON           interpreter that has csr-conformance installed (default: python3)
#
# Exit status is csr-conformance's: 0 conformant, 1 not conformant, 2 could not run.
#
# kind has no static-token users, so the unprivileged identities are ServiceAccounts
# with short-lived tokens from the TokenRequest API, bound to the same roles the
# control-plane target grants (printed by conformance.targets.controlplane.rbac_manifest).
# The admin is kind's own cluster-admin credential.
set -euo pipefail

# kind v0.33.0's default node image for Kubernetes v1.37; the digest pins the exact build.
KIND_NODE_IMAGE=${KIND_NODE_IMAGE:-kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5}
CLUSTER_NAME=${CLUSTER_NAME:-csr-conformance}
REPORT_DIR=${REPORT_DIR:-$PWD/csr-conformance-report}
KEEP_CLUSTER=${KEEP_CLUSTER:-}
PYTHON=${PYTHON:-python3}
NAMESPACE=csr-conformance
TOKEN_DURATION=${TOKEN_DURATION:-4h}
ROLES=(user approver signer)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

for tool in kind kubectl csr-conformance "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
"$PYTHON" -c 'import conformance.targets.controlplane.rbac_manifest' 2>/dev/null \
  || die "$PYTHON cannot import csr-conformance; run 'pip install .' or set PYTHON"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/csr-conformance-kind.XXXXXX")
kubeconfig=$workdir/kubeconfig
created=

# shellcheck disable=SC2317  # only ever invoked by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$created" ]; then
    if [ -n "$KEEP_CLUSTER" ]; then
      log "keeping cluster $CLUSTER_NAME (kubeconfig: $kubeconfig)"
    else
      kind delete cluster --name "$CLUSTER_NAME" --kubeconfig "$kubeconfig" >&2 \
        || log "could not delete kind cluster $CLUSTER_NAME"
    fi
  fi
  if [ -z "$KEEP_CLUSTER" ]; then
    rm -rf "$workdir"
  fi
  exit "$rc"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap deletes the cluster.
trap 'exit 130' INT
trap 'exit 143' TERM

k() { kubectl --kubeconfig "$kubeconfig" "$@"; }

log "creating kind cluster $CLUSTER_NAME with $KIND_NODE_IMAGE"
created=yes
kind create cluster \
  --name "$CLUSTER_NAME" \
  --config "$here/kind-config.yaml" \
  --image "$KIND_NODE_IMAGE" \
  --kubeconfig "$kubeconfig" \
  --wait 180s >&2

k config rename-context "kind-$CLUSTER_NAME" admin >/dev/null
cluster=$(k config view -o jsonpath='{.contexts[?(@.name=="admin")].context.cluster}')
[ -n "$cluster" ] || die "kind wrote no admin context to $kubeconfig"

log "creating the user, approver and signer ServiceAccounts and their RBAC"
"$PYTHON" -m conformance.targets.controlplane.rbac_manifest --namespace "$NAMESPACE" \
  | k --context admin apply -f - >&2

for role in "${ROLES[@]}"; do
  token=$(k --context admin --namespace "$NAMESPACE" create token "$role" --duration "$TOKEN_DURATION")
  k config set-credentials "$role" --token="$token" >/dev/null
  k config set-context "$role" --cluster="$cluster" --user="$role" >/dev/null
done
k config use-context admin >/dev/null

# RBAC takes effect once the authorizer's informers see the bindings: wait for
# each role's key permission so the first property does not see a stray 403.
can() { k --context "$1" auth can-i "${@:2}" >/dev/null 2>&1; }
deadline=$((SECONDS + 60))
until can user create certificatesigningrequests.certificates.k8s.io \
  && can approver update certificatesigningrequests.certificates.k8s.io --subresource=approval \
  && can signer update certificatesigningrequests.certificates.k8s.io --subresource=status; do
  [ "$SECONDS" -lt "$deadline" ] || die "RBAC for the suite's identities did not take effect in 60s"
  sleep 1
done

log "running csr-conformance (report: $REPORT_DIR)"
mkdir -p "$REPORT_DIR"
rc=0
csr-conformance run \
  --kubeconfig "$kubeconfig" \
  --context admin \
  --user-context user \
  --approver-context approver \
  --signer-context signer \
  --report-dir "$REPORT_DIR" \
  "$@" || rc=$?

if [ "$rc" -ge 2 ]; then
  # The suite could not run: keep the cluster's logs next to the report.
  kind export logs "$REPORT_DIR/kind-logs" --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
fi
log "csr-conformance exited with $rc"
exit "$rc"
