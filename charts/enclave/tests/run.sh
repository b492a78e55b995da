#!/usr/bin/env bash
# The chart's tests, without a cluster: build the renderer (Debian's Go packages, offline),
# install the Kubernetes schema models (tests/kube, from the npm registry, CI only), render the
# chart for the defaults and every value set, yamllint everything, then the vitest chart tests.
# With a real `helm` on PATH it also runs `helm lint` and `helm template` for each value set
# (and `ct lint` when `ct` is there).
#
#   bash charts/enclave/tests/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
chart="$(cd "$here/.." && pwd)"
repo="$(cd "$chart/../.." && pwd)"
out="$(mktemp -d "${TMPDIR:-/tmp}/enclave-chart.XXXXXX")"
trap 'rm -rf "$out"' EXIT
started=$SECONDS
step() { echo "== charts/enclave/tests [$((SECONDS - started))s] $*"; }

step "build the renderer"
bash "$here/render/build.sh"
render="$here/render/enclave-render"

step "Kubernetes schema models (tests/kube)"
timeout 300 npm ci --prefix "$here/kube" --no-audit --no-fund --ignore-scripts --loglevel=error

step "render every value set"
token="run-sh-admin-token-0123456789abcdef"
"$render" -chart "$chart" -set "auth.adminToken=$token" >"$out/defaults.yaml"
sets=("$chart"/ci/*-values.yaml "$here/values/mirror-digest-values.yaml")
for f in "${sets[@]}"; do
  "$render" -chart "$chart" -f "$f" >"$out/$(basename "$f" .yaml).yaml"
done
if "$render" -chart "$chart" >/dev/null 2>"$out/no-token.err"; then
  echo "the chart rendered without an admin token" >&2
  exit 1
fi
grep -q "auth.adminToken is required" "$out/no-token.err"
ls -1 "$out"/*.yaml | sed 's/^/  rendered /'

step "yamllint (static YAML, rendered manifests, compose files)"
yamllint --strict -c "$here/yamllint.yaml" \
  "$chart/Chart.yaml" "$chart/values.yaml" "$chart/ct.yaml" "$chart"/ci/*.yaml "$here"/values/*.yaml \
  "$repo"/compose/*.yaml "$out"/*.yaml

if command -v helm >/dev/null; then
  step "helm lint / helm template (a real helm is on PATH)"
  for f in "${sets[@]}"; do
    helm lint --strict "$chart" -f "$f"
    helm template t "$chart" -f "$f" >/dev/null
  done
  if command -v ct >/dev/null; then (cd "$repo" && ct lint --config "$chart/ct.yaml" --all); fi
fi

step "chart tests (vitest)"
cd "$repo"
ENCLAVE_RENDER_BIN="$render" timeout 600 npx vitest run charts/enclave/tests
step "passed"
