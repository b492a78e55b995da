#!/usr/bin/env bash
# CI's Docker steps, in one Docker engine session: the Compose end-to-end test, the offline
# bundle (with the image tar), and the bundle's offline install test. Called by .ci/run.
#
# On a machine with no Docker engine running (CI) it starts a private dockerd (own data/exec
# roots and socket under a temp dir, no iptables changes, ip_forward untouched) and removes it
# and everything it left at the end, also on failure or interruption. The base image is the
# local stand-in (no registry here), and the image build reaches the npm registry through the
# loopback proxy (build containers here do not trust the machine's egress TLS CA).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=docker-env.sh
source "$repo/distribution/docker-env.sh"
started=$SECONDS
step() { echo "== distribution/ci-docker.sh [$((SECONDS - started))s] $*"; }
out="$(mktemp -d "${TMPDIR:-/tmp}/enclave-ci-bundle.XXXXXX")"
cleanup() {
  local rc=$?
  set +e
  docker_env_down
  rm -rf "$out"
  if ((rc == 0)); then step "passed"; else echo "distribution/ci-docker.sh: FAILED (exit $rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export ENCLAVE_LOCAL_BASE="${ENCLAVE_LOCAL_BASE:-1}"
export ENCLAVE_NPM_PROXY="${ENCLAVE_NPM_PROXY:-1}"
# CI must run the conformance suite against the Compose deployment, not fall back silently.
export ENCLAVE_CONFORMANCE="${ENCLAVE_CONFORMANCE:-1}"

step "Docker engine"
docker_env_up
step "images (base stand-in + distribution/Dockerfile)"
build_images
export ENCLAVE_SKIP_BUILD=1 ENCLAVE_IMAGE ENCLAVE_EXAMPLE_IMAGE

step "compose/test.sh"
timeout 900 bash "$repo/compose/test.sh"

step "distribution/bundle.sh"
timeout 900 bash "$repo/distribution/bundle.sh" --out "$out"

step "distribution/test-bundle.sh"
timeout 600 bash "$repo/distribution/test-bundle.sh" "$out"/enclave-bundle-*-linux-x64.tar.gz
