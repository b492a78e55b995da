#!/usr/bin/env bash
# Builds toybox for WASI (wasm32-wasi) from Debian's source package, with our
# compatibility layer (compat/) and patch (patches/), into software/dist/.
# See README.md. Sources and outputs are cached outside the repository in
# ${ENCLAVE_SOFTWARE_CACHE:-$HOME/.cache/enclave/software}/toybox.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIST="$(cd "$HERE/.." && pwd)/dist"
CACHE="${ENCLAVE_SOFTWARE_CACHE:-$HOME/.cache/enclave/software}/toybox"
# Pinned so the patch and compat layer always meet the source they were
# written for; bump deliberately.
TOYBOX_VERSION="${TOYBOX_VERSION:-0.8.9+dfsg-1}"
PACKAGES=(clang lld wasi-libc libclang-rt-14-dev-wasm32)
STARTED_NS=$(date +%s%N)

say() { echo "[toybox] $*"; }
die() { echo "[toybox] error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

# Files whose content decides the output (README and the smoke test do not).
build_inputs() {
  (cd "$HERE" && find build.sh toybox.miniconfig compat patches -type f | LC_ALL=C sort)
}

# --- 1. Source: Debian's .dsc and .orig tarball, fetched once ----------------

# deb-src twins of the machine's Debian entries (keeping its mirrors, which
# matter in an air-gapped network), as a private sources list: the system's
# apt configuration and package lists stay untouched.
write_src_sources() {
  local out="$1" f
  : > "$out"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v RS= -v ORS="\n\n" '
      /(^|\n)Types:[^\n]*deb/ && /(^|\n)URIs:[^\n]*debian/ {
        sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print
      }' "$f" >> "$out"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb\([[:space:]].*debian.*\)$/deb-src\1/p' "$f" >> "$out.list"
  done
  if [ -s "$out.list" ]; then
    mv "$out.list" "${out%.sources}.list"
  else rm -f "$out.list"
  fi
}

fetch_source() {
  local src="$CACHE/src" apt="$CACHE/apt" opts
  mkdir -p "$src" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/sources.list.d"
  if [ -n "${ENCLAVE_TOYBOX_APT_SOURCES:-}" ]; then
    cp "$ENCLAVE_TOYBOX_APT_SOURCES" "$apt/etc/sources.list.d/"
  else
    rm -f "$apt/etc/sources.list.d/"*
    write_src_sources "$apt/etc/sources.list.d/debian-src.sources"
  fi
  [ -n "$(ls -A "$apt/etc/sources.list.d")" ] ||
    die "no Debian apt source found to derive deb-src from (set ENCLAVE_TOYBOX_APT_SOURCES to a deb-src sources file)"
  opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt/etc/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Debug::NoLocking=1")
  # As root apt would hand downloads to the _apt user, who cannot write here.
  [ "$(id -u)" = 0 ] && opts+=(-o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" -qq update >/dev/null || die "apt-get update (deb-src) failed"
  # Only the .dsc and .orig tarball are needed; some mirrors lack the
  # .debian.tar.xz, so a failure is judged by what arrived.
  (cd "$src" && apt-get "${opts[@]}" -qq source --download-only "toybox=$TOYBOX_VERSION" >/dev/null 2>&1) || true
  # The package indexes (~20 MB) are only needed for this download.
  rm -rf "$apt/lists" "$apt/cache"
}

dsc_field_sha() {
  # sha256 the signed .dsc lists for a file.
  awk -v f="$2" '/^Checksums-Sha256:/ {on=1; next} /^[^ ]/ {on=0} on && $3 == f {print $1}' "$1"
}

DSC="$CACHE/src/toybox_${TOYBOX_VERSION}.dsc"
UPSTREAM="${TOYBOX_VERSION%-*}"
ORIG="$CACHE/src/toybox_${UPSTREAM}.orig.tar.xz"

say "1/5 fetching source (Debian toybox $TOYBOX_VERSION)..."
if [ ! -f "$DSC" ] || [ ! -f "$ORIG" ]; then
  command -v apt-get >/dev/null || die "apt-get not found: needs a Debian machine to fetch the toybox source"
  fetch_source
  [ -f "$DSC" ] && [ -f "$ORIG" ] || die "could not download toybox $TOYBOX_VERSION source (.dsc and .orig.tar.xz) with apt-get source"
else say "    source already in $CACHE/src"
fi
ORIG_SHA="$(sha256sum "$ORIG" | cut -d' ' -f1)"
[ "$ORIG_SHA" = "$(dsc_field_sha "$DSC" "$(basename "$ORIG")")" ] ||
  die "$(basename "$ORIG") does not match the checksum in $(basename "$DSC")"

# --- 2. Cache: one output per (source, build inputs) -------------------------

say "2/5 checking build cache..."
KEY="$( { echo "$ORIG_SHA"; build_inputs | while read -r f; do
  echo "$f $(sha256sum "$HERE/$f" | cut -d' ' -f1)"; done; } | sha256sum | cut -d' ' -f1)"
OUT="$CACHE/out/$KEY"
mkdir -p "$DIST"

if [ -f "$OUT/toybox.wasm" ] && [ -f "$OUT/toybox.json" ]; then
  say "    cached ($KEY), skipping build"
  say "3/5 toolchain not needed"
  say "4/5 build not needed"
else
  # --- 3. Toolchain ------------------------------------------------------------
  say "3/5 installing toolchain..."
  missing=()
  for p in "${PACKAGES[@]}"; do
    # A captured string, not a pipe into grep -q: under pipefail an early grep exit can fail the test.
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "    installing ${missing[*]}"
    # A fresh machine (or image) may have no package lists yet: update once and retry.
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
      say "    updating package lists first"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
        die "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${PACKAGES[*]})"
    fi
  else say "    ${PACKAGES[*]} present"
  fi
  for tool in clang wasm-ld; do
    command -v "$tool" >/dev/null || die "$tool not found after installing ${PACKAGES[*]}"
  done
  command -v patch >/dev/null || command -v git >/dev/null || die "need patch or git to apply patches/"

  # --- 4. Build ----------------------------------------------------------------
  say "4/5 building..."
  # set -e stops at the first failing step; say where to look.
  trap 'echo "[toybox] error: build failed (log: $WORK/make.log)" >&2' ERR
  WORK="$CACHE/build"
  rm -rf "$WORK"
  mkdir -p "$WORK"
  tar -xJf "$ORIG" -C "$WORK"
  TREE="$(find "$WORK" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
  for p in "$HERE"/patches/*.patch; do
    if command -v patch >/dev/null; then patch -s -p1 -d "$TREE" < "$p"
    else git -C "$TREE" apply -p1 "$p"
    fi
  done
  # The compat layer joins toybox's lib/ so it builds with the same headers.
  for f in "$HERE"/compat/*.c; do cp "$f" "$TREE/lib/enclave_$(basename "$f")"; done

  RES="$(clang -print-resource-dir)"
  SYSROOT_INC="/usr/include/wasm32-wasi"
  [ -f "$SYSROOT_INC/stdio.h" ] || die "wasi-libc headers not found in $SYSROOT_INC"
  WRAPS=""
  for s in open openat stat lstat fstat fstatat access faccessat close; do WRAPS+=" -Wl,--wrap=$s"; done
  (
    cd "$TREE"
    export HOSTCC=clang CC=clang NOSTRIP=1 V=
    # -nostdinc: Debian's clang would otherwise fall back to glibc's headers.
    export CFLAGS="--target=wasm32-wasi -nostdinc -isystem $HERE/compat/include -isystem $RES/include \
-isystem $SYSROOT_INC -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_MMAN \
-D_WASI_EMULATED_GETPID -Wno-string-plus-int -Wno-unused-command-line-argument"
    export OPTIMIZE="-O2 -ffunction-sections -fdata-sections -fno-strict-aliasing"
    export LDOPTIMIZE="-Wl,--gc-sections -Wl,--strip-debug"
    export LDFLAGS="-lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-mman \
-lwasi-emulated-getpid$WRAPS"
    # kconfig's conf, without needing make: expand our miniconfig into .config.
    for f in kconfig/*_shipped; do cp "$f" "${f%_shipped}"; done
    clang -w -o kconfig/conf kconfig/conf.c kconfig/zconf.tab.c -DKBUILD_NO_NLS=1 \
      '-DPROJECT_NAME="ToyBox"'
    scripts/genconfig.sh >/dev/null
    KCONFIG_ALLCONFIG="$HERE/toybox.miniconfig" kconfig/conf -n Config.in >/dev/null
    grep -q '^CONFIG_SH=y' .config && { echo "toysh must stay off" >&2; exit 1; }
    # make.sh scans every toys/*/*.c for globals and flags; drop the files
    # with no enabled command (selected as make.sh itself selects them).
    enabled="$(sed -n 's/^CONFIG_\([^=]*\)=y$/\1/p' .config | tr 'A-Z\n' 'a-z|')"
    for f in toys/*/*.c; do
      grep -Eq "TOY[(](${enabled%|})[ ,]" "$f" || rm "$f"
    done
    scripts/make.sh > "$WORK/make.log" 2>&1 || { tail -n 40 "$WORK/make.log" >&2; exit 1; }
    [ "$(head -c 4 toybox | od -An -c | tr -d ' ')" = '\0asm' ] || { echo "output is not wasm" >&2; exit 1; }

    # Applet names as compiled in: expand newtoys.h against config.h. Shell
    # builtins (NOFORK, like ":") cannot run as programs, so are not listed.
    { echo '#include "generated/config.h"'
      echo '#define NEWTOY(name, opts, flags) APPLET name flags'
      echo '#define OLDTOY(name, old, flags) APPLET name flags'
      cat generated/newtoys.h
    } | clang -E -P -I. -x c - | awk '$1 == "APPLET" && $2 != "toybox" && !/NOFORK/ {print $2}' \
      > "$WORK/applets.txt"
  )

  mkdir -p "$OUT.tmp"
  cp "$TREE/toybox" "$OUT.tmp/toybox.wasm"
  chmod 644 "$OUT.tmp/toybox.wasm"
  node -e '
    const [version, sha, list, out] = process.argv.slice(1);
    const applets = require("fs").readFileSync(list, "utf8").split("\n").filter(Boolean);
    const meta = { source: { package: "toybox", version, sha256: sha }, applets };
    require("fs").writeFileSync(out, JSON.stringify(meta, null, 2) + "\n");
  ' "$TOYBOX_VERSION" "$ORIG_SHA" "$WORK/applets.txt" "$OUT.tmp/toybox.json"
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  rm -rf "$WORK"
  trap - ERR
fi

# --- 5. Output and smoke test -------------------------------------------------

say "5/5 writing software/dist and running the smoke test..."
cp "$OUT/toybox.wasm" "$OUT/toybox.json" "$DIST/"
mapfile -t APPLETS < <(node -e 'for (const a of require(process.argv[1]).applets) console.log(a)' "$DIST/toybox.json")
node --no-warnings "$HERE/smoke.mjs" "$DIST/toybox.wasm" "${APPLETS[@]}"
SIZE=$(wc -c < "$DIST/toybox.wasm")
ELAPSED_MS=$(( ($(date +%s%N) - STARTED_NS) / 1000000 ))
say "done: software/dist/toybox.wasm ($SIZE bytes, ${#APPLETS[@]} applets) in $((ELAPSED_MS / 1000)).$(printf %03d $((ELAPSED_MS % 1000))) s"
