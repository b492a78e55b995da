#!/usr/bin/env bash
# Builds the offline bundle: one tarball to carry across the perimeter.
#
#   bash distribution/bundle.sh [--out DIR] [--no-image]
#
# distribution/out/enclave-bundle-VERSION-linux-x64.tar.gz holds, under
# enclave-bundle-VERSION-linux-x64/:
#   enclave-VERSION.tgz        the engine package exactly as `npm pack` makes it
#   node_modules.tar.gz        its production dependencies for linux-x64 (glibc), from
#                              package-lock.json, classic-level's native binary included
#   images/enclave-VERSION.tar the engine image (`docker save`), when Docker is available
#   charts/enclave-VERSION.tgz the Helm chart (as `helm package` lays it out), images.txt
#   compose/                   compose.yaml, compose.airgap.yaml, .env.example
#   enclave.service            systemd unit for the plain-Node install
#   install.sh, README.md, VERSION, SHA256SUMS (of every other file)
#
# Needs: node/npm (and the npm registry or a populated npm cache for the production
# dependencies); Docker optional (the running engine, or a private one as in compose/test.sh;
# the image is built from distribution/Dockerfile when not present: see docker-env.sh settings).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$here/out"
with_image=1
while (($#)); do
  case "$1" in
    --out) out="${2:?}"; shift 2 ;;
    --no-image) with_image=0; shift ;;
    *) echo "usage: bundle.sh [--out DIR] [--no-image]" >&2; exit 2 ;;
  esac
done
# shellcheck source=docker-env.sh
source "$here/docker-env.sh"

started=$SECONDS
step() { echo "== distribution/bundle.sh [$((SECONDS - started))s] $*"; }
version="$(node -p 'require(process.argv[1]).version' "$repo/package.json")"
name="enclave-bundle-$version-linux-x64"
work="$(mktemp -d "${TMPDIR:-/tmp}/enclave-bundle.XXXXXX")"
cleanup() {
  local rc=$?
  docker_env_down
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
root="$work/$name"
mkdir -p "$root/images" "$root/charts" "$root/compose" "$out"

step "npm pack (builds the package)"
(cd "$repo" && npm pack --silent --pack-destination "$root" >/dev/null)
[[ -f "$root/enclave-$version.tgz" ]] || { echo "npm pack did not produce enclave-$version.tgz" >&2; exit 1; }

step "production dependencies (npm ci --omit=dev from package-lock.json)"
mkdir -p "$work/deps"
tar -xzf "$root/enclave-$version.tgz" -C "$work/deps" --strip-components=1
cp "$repo/package-lock.json" "$work/deps/"
(cd "$work/deps" && timeout 600 npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
(cd "$work/deps" && node -e 'require("classic-level")') || { echo "classic-level's native binding does not load" >&2; exit 1; }
tar -czf "$root/node_modules.tar.gz" -C "$work/deps" node_modules

step "Helm chart, compose files, unit, installer, docs"
tar -czf "$root/charts/enclave-$version.tgz" -C "$repo/charts" --exclude=enclave/tests --exclude=enclave/ct.yaml enclave
cp "$repo/charts/enclave/images.txt" "$root/images.txt"
cp "$repo/compose/compose.yaml" "$repo/compose/compose.airgap.yaml" "$repo/compose/.env.example" "$root/compose/"
cp "$here/enclave.service" "$here/install.sh" "$here/README.md" "$root/"
chmod 0755 "$root/install.sh"
echo "$version" >"$root/VERSION"

if ((with_image)); then
  if docker_env_up; then
    image="${ENCLAVE_IMAGE:-enclave:$version}"
    if ! docker image inspect "$image" >/dev/null 2>&1; then
      step "building $image"
      build_images
      image="$ENCLAVE_IMAGE"
    fi
    step "docker save $image"
    timeout 600 docker save -o "$root/images/enclave-$version.tar" "$image"
  else
    step "no Docker engine: the bundle has no image (install.sh node and the chart still work)"
  fi
fi

step "SHA256SUMS"
(cd "$root" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum >SHA256SUMS)

step "tarball"
tar -czf "$out/$name.tar.gz" -C "$work" "$name"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
du -h "$out/$name.tar.gz" | awk '{print "  " $1 "  " $2}'
step "done: $out/$name.tar.gz (and .sha256)"
