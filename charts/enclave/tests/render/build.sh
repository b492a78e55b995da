#!/usr/bin/env bash
# Builds enclave-render (main.go) from Debian's Go packages, offline, in GOPATH mode:
#   apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev
# Output: charts/enclave/tests/render/enclave-render (git-ignored). A real `helm` is not needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v go >/dev/null || { echo "build.sh: no 'go' (apt-get install golang-go)" >&2; exit 1; }
for pkg in github.com/Masterminds/sprig gopkg.in/yaml.v3; do
  [[ -d "/usr/share/gocode/src/$pkg" ]] || {
    echo "build.sh: missing /usr/share/gocode/src/$pkg (apt-get install golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev)" >&2
    exit 1
  }
done
gopath="$(mktemp -d "${TMPDIR:-/tmp}/enclave-render-gopath.XXXXXX")"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/enclave-render"
cp "$here/main.go" "$gopath/src/enclave-render/"
cd "$gopath/src/enclave-render"
GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS= GOCACHE="$gopath/cache" GOPROXY=off \
  timeout 300 go build -o "$here/enclave-render" .
echo "build.sh: built $here/enclave-render ($(go version | awk '{print $3}'))"
