#!/usr/bin/env bash
# Tests an offline bundle the way an operator uses it, with no network:
#   1. a damaged bundle is refused (checksums);
#   2. `install.sh node` into an empty prefix, inside a network namespace with only loopback
#      (as root: unshare -n), then the installed engine starts there and answers /health,
#      /health/ready and one authenticated call, and stops cleanly on SIGTERM;
#   3. with Docker and an image in the bundle: the image is removed, `install.sh docker` loads
#      it, and the loaded image runs (`--version`, no network).
#
#   bash distribution/test-bundle.sh distribution/out/enclave-bundle-VERSION-linux-x64.tar.gz
set -euo pipefail
bundle="${1:?usage: test-bundle.sh BUNDLE.tar.gz}"
bundle="$(cd "$(dirname "$bundle")" && pwd)/$(basename "$bundle")"
started=$SECONDS
step() { echo "== distribution/test-bundle.sh [$((SECONDS - started))s] $*"; }
die() {
  echo "distribution/test-bundle.sh: FAILED: $*" >&2
  exit 1
}
tmp="$(mktemp -d "${TMPDIR:-/tmp}/enclave-bundle-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

step "unpack"
[[ ! -f "$bundle.sha256" ]] || (cd "$(dirname "$bundle")" && sha256sum --quiet -c "$(basename "$bundle").sha256") ||
  die "the bundle's own .sha256 does not match"
tar -xzf "$bundle" -C "$tmp"
dir="$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'enclave-bundle-*' | head -n1)"
[[ -n "$dir" ]] || die "no enclave-bundle-* folder in the tarball"
version="$(cat "$dir/VERSION")"

step "a damaged copy is refused"
cp -a "$dir" "$tmp/damaged"
printf 'x' >>"$tmp/damaged/enclave.service"
if "$tmp/damaged/install.sh" verify >"$tmp/damaged.log" 2>&1; then die "install.sh accepted a damaged bundle"; fi
grep -q "checksum mismatch" "$tmp/damaged.log" || die "no clear message for a damaged bundle: $(cat "$tmp/damaged.log")"
rm -rf "$tmp/damaged"

step "install.sh node into an empty prefix, with no network"
cat >"$tmp/offline.sh" <<'EOF'
set -euo pipefail
dir="$1"; tmp="$2"
ip link set lo up
# Proof that there is no way out from here: no route but loopback.
if ip route get 192.0.2.1 >/dev/null 2>&1; then echo "a route out exists" >&2; exit 1; fi
"$dir/install.sh" node --prefix "$tmp/prefix" --systemd --unit-dir "$tmp/units" --no-create-user
grep -q "^ExecStart=$(command -v node) $tmp/prefix/lib/enclave/dist/lib/cli/main.js start" "$tmp/units/enclave.service"
! grep -q "@PREFIX@\|@NODE@" "$tmp/units/enclave.service"
# The workspaces' base software comes with the package (no toolchain on the target), and runs.
test -s "$tmp/prefix/lib/enclave/software/dist/toybox.wasm"
(cd "$tmp/prefix/lib/enclave" && node --input-type=module -e '
  import("./dist/lib/workspace/index.js").then(async ({ workspace }) => {
    const { createEngine, setup } = await import("./dist/lib/index.js");
    const running = await createEngine({ registry: setup({ use: { vm: workspace() } }), storage: { driver: "memory" },
      gateway: { host: "127.0.0.1", port: 0 }, auth: { adminToken: "x".repeat(32) }, log: { level: "silent" }, env: {} });
    const { record } = await running.engine.getOrCreate("default", "vm", ["b"], undefined, "getOrCreate");
    const r = await running.engine.action("default", record.actorId, "exec", ["echo offline | tr a-z A-Z"]);
    await running.close();
    if (r.stdout !== "OFFLINE\n") { console.error("bundle workspace exec gave", r); process.exit(1); }
  });
')
port="$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})')"
"$tmp/prefix/bin/enclave" start --data "$tmp/data" --host 127.0.0.1 --port "$port" >"$tmp/engine.log" 2>&1 &
pid=$!
node - "$port" "$tmp/data/admin-token" <<'JS'
const [port, tokenFile] = process.argv.slice(2);
const fs = require("fs");
const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 60_000;
(async () => {
  for (;;) {
    try {
      const r = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) { console.error("engine not ready within 60 s"); process.exit(1); }
    await new Promise((r) => setTimeout(r, 250));
  }
  const health = await (await fetch(`${base}/health`)).json();
  const token = fs.readFileSync(tokenFile, "utf8").trim();
  if ((fs.statSync(tokenFile).mode & 0o777) !== 0o600) { console.error("admin-token is not mode 0600"); process.exit(1); }
  const ns = await fetch(`${base}/namespaces`, { headers: { authorization: `Bearer ${token}` } });
  const body = await ns.json();
  if (!ns.ok || !body.namespaces.some((n) => n.name === "default")) { console.error("GET /namespaces:", ns.status, body); process.exit(1); }
  const anon = await fetch(`${base}/namespaces`);
  if (anon.status !== 401) { console.error("no token should be 401, got", anon.status); process.exit(1); }
  console.log(`installed engine ${health.version} answers on 127.0.0.1:${port} (no network)`);
})().catch((e) => { console.error(e); process.exit(1); });
JS
kill -TERM "$pid"
for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; echo "engine did not stop within 40 s of SIGTERM" >&2; exit 1; fi
wait "$pid" || { echo "engine exited non-zero after SIGTERM" >&2; cat "$tmp/engine.log" >&2; exit 1; }
EOF
if [[ "$(id -u)" == 0 ]] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  timeout 300 unshare -n bash "$tmp/offline.sh" "$dir" "$tmp" || { cat "$tmp/engine.log" >&2 2>/dev/null || true; die "offline node install"; }
else
  echo "(not root or no unshare: installing WITHOUT a network namespace; the network is not sealed)"
  sed -i -e 's/^ip link set lo up$//' -e '/ip route get/d' "$tmp/offline.sh"
  timeout 300 bash "$tmp/offline.sh" "$dir" "$tmp" || die "node install"
fi

if compgen -G "$dir/images/*.tar" >/dev/null && docker info >/dev/null 2>&1; then
  step "install.sh docker: load the image into Docker"
  image="enclave:$version"
  docker image rm -f "$image" >/dev/null 2>&1 || true
  docker image inspect "$image" >/dev/null 2>&1 && die "could not remove $image before loading it"
  timeout 300 "$dir/install.sh" docker
  docker image inspect "$image" >/dev/null || die "$image is not there after install.sh docker"
  got="$(timeout 60 docker run --rm --network none "$image" --version 2>/dev/null)"
  [[ "$got" == *"$version"* ]] || die "the loaded image answered '$got' to --version"
  echo "loaded image $image runs (--version: $got)"
else
  step "install.sh docker: skipped (no image in the bundle or no Docker engine)"
fi
step "passed"
