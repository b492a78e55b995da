#!/usr/bin/env bash
# Installs Enclave from the offline bundle this script sits in. Needs no network: everything
# it installs is in the bundle, and it checks every file against SHA256SUMS first.
#
#   ./install.sh verify                      check the bundle's checksums only
#   ./install.sh docker                      docker load the engine image (then see compose/)
#   ./install.sh node --prefix DIR [--systemd] [--unit-dir DIR] [--no-create-user]
#                                            plain Node.js install (Node >= 20.11 on linux-x64
#                                            glibc): DIR/lib/enclave, DIR/bin/enclave, and with
#                                            --systemd a unit in /etc/systemd/system (or
#                                            --unit-dir) and the system user `enclave`
#   ./install.sh chart                       print where the Helm chart is
#
# Exit codes: 0 done, 1 failed (checksums, missing tool, install step), 2 usage.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
say() { echo "install.sh: $*"; }
die() {
  echo "install.sh: ERROR: $*" >&2
  exit 1
}
usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

verify() {
  [[ -f "$here/SHA256SUMS" ]] || die "SHA256SUMS is missing: the bundle is incomplete"
  command -v sha256sum >/dev/null || die "sha256sum is needed (coreutils)"
  (cd "$here" && sha256sum --quiet --strict -c SHA256SUMS) ||
    die "checksum mismatch: the bundle was damaged or altered in transit; do not install it"
  say "checksums OK ($(wc -l <"$here/SHA256SUMS") files)"
}

version="$(cat "$here/VERSION" 2>/dev/null || echo unknown)"

cmd="${1:-}"
[[ -n "$cmd" ]] || usage
shift

case "$cmd" in
  verify)
    verify
    ;;

  docker)
    verify
    command -v docker >/dev/null || die "docker is not installed"
    shopt -s nullglob
    images=("$here"/images/*.tar)
    ((${#images[@]})) || die "this bundle has no image (it was built without Docker); use: ./install.sh node"
    for tar in "${images[@]}"; do
      say "docker load -i images/$(basename "$tar")"
      docker load -i "$tar"
    done
    say "loaded. Next: cd compose && cp .env.example .env (set ENCLAVE_TOKEN) && docker-compose up -d"
    ;;

  node)
    prefix=""
    systemd=0
    unit_dir=/etc/systemd/system
    create_user=1
    while (($#)); do
      case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --systemd) systemd=1; shift ;;
        --unit-dir) unit_dir="${2:?--unit-dir needs a directory}"; shift 2 ;;
        --no-create-user) create_user=0; shift ;;
        *) usage ;;
      esac
    done
    [[ -n "$prefix" ]] || usage
    verify
    node_bin="$(command -v node || true)"
    [[ -n "$node_bin" ]] || die "node is not installed (Node.js >= 20.11 is needed)"
    "$node_bin" -e '
      const [maj, min] = process.versions.node.split(".").map(Number);
      if (maj < 20 || (maj === 20 && min < 11)) { console.error(`Node ${process.version} is too old: >= 20.11 is needed`); process.exit(1); }
      if (process.platform !== "linux" || process.arch !== "x64") { console.error(`this bundle is for linux-x64, not ${process.platform}-${process.arch}`); process.exit(1); }
    ' || die "unsupported Node.js or platform"
    mkdir -p "$prefix"
    prefix="$(cd "$prefix" && pwd)"
    dest="$prefix/lib/enclave"
    if [[ -e "$dest" ]]; then
      say "replacing $dest"
      rm -rf "$dest"
    fi
    mkdir -p "$dest" "$prefix/bin" "$prefix/share/enclave"
    tar -xzf "$here/enclave-$version.tgz" -C "$dest" --strip-components=1
    tar -xzf "$here/node_modules.tar.gz" -C "$dest"
    chmod 0755 "$dest/dist/lib/cli/main.js"
    cat >"$prefix/bin/enclave" <<EOF
#!/bin/sh
exec "$node_bin" "$dest/dist/lib/cli/main.js" "\$@"
EOF
    chmod 0755 "$prefix/bin/enclave"
    cp "$here/README.md" "$prefix/share/enclave/README.md" 2>/dev/null || true
    # The native store binding must load here, or the engine cannot start.
    (cd "$dest" && "$node_bin" -e 'require("classic-level")') ||
      die "the classic-level native binding does not load on this machine (glibc linux-x64 needed)"
    "$prefix/bin/enclave" --version >/dev/null || die "the installed enclave does not run"
    say "installed enclave $("$prefix/bin/enclave" --version) in $dest; command: $prefix/bin/enclave"
    if ((systemd)); then
      mkdir -p "$unit_dir"
      sed -e "s#@NODE@#$node_bin#g" -e "s#@PREFIX@#$prefix#g" "$here/enclave.service" >"$unit_dir/enclave.service"
      chmod 0644 "$unit_dir/enclave.service"
      say "wrote $unit_dir/enclave.service"
      if ((create_user)) && ! id enclave >/dev/null 2>&1; then
        [[ "$(id -u)" == 0 ]] || die "creating the system user 'enclave' needs root (or pass --no-create-user)"
        useradd --system --home-dir /var/lib/enclave --no-create-home --shell /usr/sbin/nologin enclave
        say "created the system user enclave"
      fi
      if [[ "$unit_dir" == /etc/systemd/system ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl daemon-reload
        say "next: put config in /etc/enclave/ (e.g. auth.adminTokenFile), then: systemctl enable --now enclave"
      fi
    fi
    ;;

  chart)
    verify
    say "Helm chart: $here/charts/enclave-$version.tgz (images it uses: $here/images.txt)"
    say "helm install enclave $here/charts/enclave-$version.tgz --set global.imageRegistry=YOUR-MIRROR --set auth.adminToken=..."
    ;;

  -h | --help | help) usage ;;
  *) usage ;;
esac
