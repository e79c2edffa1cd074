#!/usr/bin/env bash
# Run the suite against kube-apiserver of every release of the matrix, one after another,
# and print a table of release, verdict and time. Builds (once, stamped) what is missing.
#
# Usage: ci/matrix.sh [REPORT_ROOT [extra `csr-conformance run` arguments...]]
#   REPORT_ROOT defaults to ./csr-conformance-matrix; each release writes its report to
#   REPORT_ROOT/<minor>/, and the table goes to REPORT_ROOT/matrix.md too.
#   CSR_CONFORMANCE names the command (default: .venv/bin/csr-conformance if present,
#   else csr-conformance on PATH). MATRIX_VERSIONS="1.36 1.37" runs only those releases.
# Exit status: 0 when every release is conformant, else 1 (2 when one could not run).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

root=${1:-csr-conformance-matrix}
shift || true
if [ -n "${CSR_CONFORMANCE:-}" ]; then
  cli=$CSR_CONFORMANCE
elif [ -x .venv/bin/csr-conformance ]; then
  cli=.venv/bin/csr-conformance
else
  cli=csr-conformance
fi
python=$(dirname "$(command -v "$cli")")/python
[ -x "$python" ] || python=python3
versions=${MATRIX_VERSIONS:-}
[ -n "$versions" ] || versions=$("$python" -c 'from conformance.oracle.versions import MATRIX; print(" ".join(map(str, MATRIX)))') || {
  echo "matrix.sh: cannot import csr-conformance with $python" >&2
  exit 2
}

mkdir -p "$root"
table="| Kubernetes | release | verdict | passed | failed | skipped | seconds |"$'\n'"|---|---|---|---|---|---|---|"
worst=0
for v in $versions; do
  assets=$(bash ci/controlplane/build.sh "$v" | tail -n 1) || { worst=2; continue; }
  start=$(date +%s)
  "$cli" run --target controlplane --kube-version "$v" --report-dir "$root/$v" "$@" \
    > "$root/$v.log" 2>&1
  rc=$?
  seconds=$(( $(date +%s) - start ))
  [ "$rc" -gt "$worst" ] && worst=$rc
  row=$("$python" - "$root/$v/results.json" "$assets" <<'PY'
import sys
from pathlib import Path
from reports.summary import from_json, verdict
result = from_json(Path(sys.argv[1]).read_text())
release = (Path(sys.argv[2]) / "VERSIONS").read_text().split()[1]
print(f"{release} | {verdict(result)} | {result.count('passed')} | {result.count('failed')} | {result.count('skipped')}")
PY
  ) || row="? | could not run (see $root/$v.log) | | |"
  table+=$'\n'"| $v | $row | $seconds |"
  printf '%s: exit %s in %ss\n' "$v" "$rc" "$seconds" >&2
done
printf '%s\n' "$table" | tee "$root/matrix.md"
[ "$worst" -gt 1 ] && exit 2
exit "$worst"
