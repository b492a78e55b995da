#!/usr/bin/env bash
# Builds a LOCAL stand-in for the Dockerfile's base image (node:20-bookworm-slim) from this
# host's own Node.js, npm and shared libraries, and tags it with the base image's name.
#
# This is a CI / air-gap helper. Vendors whose build host reaches a registry (or a mirror of
# one) do not need it: `docker build` pulls the real base image. It exists because the CI
# machine reaches no container registry, so there is nothing to pull; the project's Dockerfile
# is built unchanged on top of this stand-in.
#
# What the stand-in holds (the same paths as the official image, so the Dockerfile cannot tell):
#   /usr/local/bin/node                 the host's node binary (must be Node 20 on glibc x86_64/arm64)
#   /usr/local/lib/node_modules/npm     the host's npm, with npm/npx links in /usr/local/bin
#   /bin/sh (dash) and the few tools the Dockerfile's RUN steps use (mkdir, chown, useradd, ...)
#   every shared library `ldd` lists for those, at the host's paths (merged /usr layout)
#   /etc/passwd, /etc/group (root, nobody, node:1000 as in the official image), nsswitch.conf
#   /tmp (1777)
# It has no package manager, no certificates store beyond Node's built-in one, no apt sources.
#
# Usage: distribution/base-image.sh [TAG]      (default: the Dockerfile's ARG NODE_IMAGE)
#   DOCKER=docker   the docker client to use (DOCKER_HOST is honoured)
#   FORCE=1         rebuild even if TAG already exists
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
DOCKER="${DOCKER:-docker}"
default_tag="$(sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' "$here/Dockerfile" | head -n1)"
TAG="${1:-${default_tag:?cannot read ARG NODE_IMAGE from $here/Dockerfile}}"

if [[ "${FORCE:-0}" != 1 ]] && "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  echo "base-image: $TAG already present (FORCE=1 rebuilds it)"
  exit 0
fi

node_bin="$(command -v node)"
node_bin="$(readlink -f "$node_bin")"
node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
want_major="$(sed -n 's/^node:\([0-9]*\).*/\1/p' <<<"$TAG")"
if [[ -n "$want_major" && "$node_major" != "$want_major" ]]; then
  echo "base-image: host node is v$node_major but $TAG wants Node $want_major" >&2
  exit 1
fi
npm_cli="$(readlink -f "$(command -v npm)")"          # .../node_modules/npm/bin/npm-cli.js
npm_dir="$(cd "$(dirname "$npm_cli")/.." && pwd)"
[[ -f "$npm_dir/package.json" ]] || { echo "base-image: cannot find npm's folder" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/enclave-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/local/bin,usr/local/lib/node_modules,etc/default,tmp,root,home/node,dev,proc,sys}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
# Debian bookworm's merged /usr layout.
for d in bin sbin lib; do ln -s "usr/$d" "$root/$d"; done
if [[ -d /usr/lib64 ]]; then mkdir -p "$root/usr/lib64" && ln -s usr/lib64 "$root/lib64"; fi

# Copies a file (following symlinks) to the same path inside the rootfs.
put() {
  local src="$1" dst="${2:-$1}"
  mkdir -p "$root$(dirname "$dst")"
  cp -L --preserve=mode "$src" "$root$dst"
}
# Copies a binary and every library ldd lists for it (the library's own path and the name
# the loader asks for, which may be a symlink).
put_with_libs() {
  local bin="$1" dst="${2:-$1}"
  put "$bin" "$dst"
  local lib
  while read -r lib; do
    [[ -n "$lib" && -e "$lib" ]] || continue
    put "$lib"
    # Keep the canonical file too, when the listed path is a symlink to it.
    local real; real="$(readlink -f "$lib")"
    [[ "$real" == "$lib" ]] || put "$real"
  done < <(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
}

# Node and npm at the official image's paths.
put_with_libs "$node_bin" /usr/local/bin/node
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# A shell and the tools a Dockerfile's RUN lines commonly use.
put_with_libs "$(readlink -f /bin/dash)" /usr/bin/dash
ln -s dash "$root/usr/bin/sh"
# (The real slim image has all of Debian's essential set; this is the subset that matters.)
for tool in basename cat chgrp chmod chown cp cut dirname echo env false find grep gzip head id \
  ln ls mkdir mktemp mv printf readlink rm rmdir sed sleep sort stat tail tar test touch tr true \
  uname wc xargs groupadd useradd nologin; do
  path="$(type -P "$tool" || true)"
  [[ -z "$path" ]] && for d in /usr/sbin /sbin; do [[ -x "$d/$tool" ]] && path="$d/$tool"; done
  if [[ -z "$path" ]]; then
    echo "base-image: warning: $tool not found on this host; left out" >&2
    continue
  fi
  real="$(readlink -f "$path")"
  case "$path" in */sbin/*) dir=/usr/sbin ;; *) dir=/usr/bin ;; esac
  put_with_libs "$real" "$dir/$tool"
done
for f in /etc/login.defs /etc/default/useradd; do [[ -f "$f" ]] && put "$f"; done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
node:x:1000:1000::/home/node:/bin/sh
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
node:x:1000:
EOF
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\nnode:!:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\nnogroup:*::\nnode:!::\n' >"$root/etc/gshadow"
chmod 640 "$root/etc/shadow" "$root/etc/gshadow"
chown 1000:1000 "$root/home/node"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
cat >"$root/etc/os-release" <<EOF
PRETTY_NAME="Enclave local base stand-in ($TAG, built from the host's Node $("$node_bin" --version))"
ID=enclave-local-base
EOF

# Smoke-test the rootfs before importing it.
chroot "$root" /usr/local/bin/node -e 'process.exit(0)' 2>/dev/null ||
  echo "base-image: note: could not test node in a chroot (continuing)" >&2

node_version="$("$node_bin" --version)"
tar -C "$root" --numeric-owner -c . |
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'CMD ["node"]' \
    --change 'LABEL org.opencontainers.image.description="Local stand-in for the Node base image, assembled from the build host (CI / air-gap helper; not for production)"' \
    - "$TAG" >/dev/null
echo "base-image: built $TAG from $node_bin ($node_version) and npm $("$node_bin" "$npm_cli" --version 2>/dev/null)"
