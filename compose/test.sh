#!/usr/bin/env bash
# The Compose deployment, run for real: what CI runs and what a vendor runs on a Docker host.
#
#   bash compose/test.sh
#
# 1. A Docker engine: the running one, else (as root, with Debian's docker.io) a private dockerd
#    with its own data/exec roots and socket under a temp dir, stopped and cleaned up at the end
#    (processes, mounts, iptables, ip_forward; see distribution/docker-env.sh).
# 2. Images from the unchanged distribution/Dockerfile (engine and example app). With a private
#    engine the base image is a local stand-in (distribution/base-image.sh): no registry here.
# 3. docker-compose up (engine + example app in runner mode), wait for health, checks on the
#    image (non-root, read-only root filesystem), then the end-to-end check from the host over
#    the published loopback port: create a counter, increment, read; a workspace runs toybox
#    through exec; restart the engine: value
#    kept; kill -9 right after an acknowledged increment: value kept. Then the air-gapped
#    variant (compose.airgap.yaml): the app has no route out and clients are still served.
#    When the image has `enclave conformance`, its core profile runs against the deployment too.
# 4. down -v, whatever happened.
#
# Settings: ENCLAVE_SKIP_BUILD=1 (use ENCLAVE_IMAGE / ENCLAVE_EXAMPLE_IMAGE as they are),
# ENCLAVE_CONFORMANCE=auto|1|0 (auto: run it when the image has the command), COMPOSE_TEST_AIRGAP=0
# (skip the air-gapped variant), COMPOSE_TEST_TIMEOUT (seconds for one wait, default 120), and the
# build settings of distribution/docker-env.sh (ENCLAVE_LOCAL_BASE, ENCLAVE_NPM_PROXY,
# ENCLAVE_NPM_REGISTRY). Every wait is bounded; every failure says what failed and shows logs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=../distribution/docker-env.sh
source "$repo/distribution/docker-env.sh"

WAIT="${COMPOSE_TEST_TIMEOUT:-120}"
started=$SECONDS
step() { echo "== compose/test.sh [$((SECONDS - started))s] $*"; }
die() {
  echo "compose/test.sh: FAILED: $*" >&2
  exit 1
}

if docker-compose version >/dev/null 2>&1; then
  DC=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  DC=(docker compose)
else
  die "neither docker-compose nor the docker compose plugin is installed"
fi

export COMPOSE_PROJECT_NAME="enclave-e2e-$$"
export ENCLAVE_TOKEN
ENCLAVE_TOKEN="$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))')"
export ENCLAVE_BIND=127.0.0.1
export ENCLAVE_PORT
ENCLAVE_PORT="$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})')"
export ENCLAVE_URL="http://127.0.0.1:$ENCLAVE_PORT"
files=(-f "$here/compose.yaml")
active_files=()
tmp="$(mktemp -d /tmp/enclave-compose-test.XXXXXX)"

dc() { timeout "$WAIT" "${DC[@]}" "${active_files[@]}" "$@"; }

show_logs() {
  [[ ${#active_files[@]} -gt 0 ]] || return 0
  echo "---- docker-compose ps / logs (last 60 lines per service) ----" >&2
  dc ps >&2 || true
  dc logs --no-color --tail 60 >&2 || true
  echo "--------------------------------------------------------------" >&2
}

cleanup() {
  local rc=$?
  set +e
  if ((rc != 0)); then show_logs; fi
  if [[ ${#active_files[@]} -gt 0 ]]; then
    step "down -v"
    dc down -v --remove-orphans >/dev/null 2>&1 || echo "compose/test.sh: down -v failed" >&2
    active_files=()
  fi
  docker_env_down
  rm -rf "$tmp"
  if ((rc == 0)); then step "passed"; else echo "compose/test.sh: FAILED (exit $rc) after $((SECONDS - started)) s" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check() { node "$here/e2e-check.mjs" "$@"; }

cid() { dc ps -q "$1"; }

wait_healthy() { # service
  local deadline=$((SECONDS + WAIT)) status id
  while :; do
    id="$(cid "$1")"
    status="$( [[ -n "$id" ]] && docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)"
    [[ "$status" == healthy ]] && return 0
    ((SECONDS < deadline)) || die "$1 not healthy after ${WAIT}s (status: $status)"
    sleep 1
  done
}

wait_running() { # service: running and not restarting for 3 s
  local deadline=$((SECONDS + WAIT)) state id
  while :; do
    id="$(cid "$1")"
    state="$( [[ -n "$id" ]] && docker inspect -f '{{.State.Status}}/{{.RestartCount}}' "$id" 2>/dev/null || echo missing)"
    if [[ "$state" == running/* ]]; then
      sleep 3
      [[ "$(docker inspect -f '{{.State.Status}}/{{.RestartCount}}' "$id" 2>/dev/null)" == "$state" ]] && return 0
    fi
    ((SECONDS < deadline)) || die "$1 not running steadily after ${WAIT}s (state: $state)"
    sleep 1
  done
}

conformance() { # run the suite's core profile from the engine image, on the compose network
  local mode="${ENCLAVE_CONFORMANCE:-auto}"
  [[ "$mode" == 0 ]] && return 0
  # (`enclave conformance --help` would print the main help if there were no such command.)
  # Capture first: with pipefail, `grep -q` closing the pipe early would fail the pipeline.
  local help
  help="$(docker run --rm --network none "$ENCLAVE_IMAGE" --help 2>/dev/null || true)"
  if ! grep -qE '^[[:space:]]+conformance\b' <<<"$help"; then
    [[ "$mode" == 1 ]] && die "ENCLAVE_CONFORMANCE=1 but the image has no 'enclave conformance'"
    step "conformance: the image has no 'enclave conformance' yet; the hand-written check above stands in"
    return 0
  fi
  step "conformance: core profile against the Compose deployment"
  local net
  net="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$(cid enclave)" | awk '{print $1}')"
  mkdir -p "$tmp/conformance" && chmod 777 "$tmp/conformance"
  timeout 900 docker run --rm --network "$net" --read-only --tmpfs /tmp \
    -v "$tmp/conformance:/report" \
    "$ENCLAVE_IMAGE" conformance --endpoint "http://default:$ENCLAVE_TOKEN@enclave:6420" \
    --profile core --report-dir /report ||
    die "conformance suite failed (report in $tmp/conformance is removed at exit; rerun to inspect)"
}

# ---------------------------------------------------------------------------------------------
step "Docker engine"
docker_env_up || die "no Docker engine"

if [[ "${ENCLAVE_SKIP_BUILD:-0}" != 1 ]]; then
  step "images"
  build_images || die "image build"
else
  : "${ENCLAVE_IMAGE:?ENCLAVE_SKIP_BUILD=1 needs ENCLAVE_IMAGE}" "${ENCLAVE_EXAMPLE_IMAGE:?ENCLAVE_SKIP_BUILD=1 needs ENCLAVE_EXAMPLE_IMAGE}"
fi
export ENCLAVE_IMAGE ENCLAVE_EXAMPLE_IMAGE

step "compose config (and the missing-token error)"
if ENCLAVE_TOKEN='' "${DC[@]}" "${files[@]}" config -q 2>"$tmp/notoken.err"; then
  die "compose accepted an empty ENCLAVE_TOKEN"
fi
grep -q "set ENCLAVE_TOKEN" "$tmp/notoken.err" || die "missing-token error does not say what to do: $(cat "$tmp/notoken.err")"
"${DC[@]}" "${files[@]}" config -q
"${DC[@]}" "${files[@]}" -f "$here/compose.airgap.yaml" config -q

step "image: labels, user"
[[ "$(docker image inspect -f '{{.Config.User}}' "$ENCLAVE_IMAGE")" == 10001:10001 ]] || die "engine image does not run as 10001:10001"
for label in version revision source licenses; do
  [[ -n "$(docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$label\"}}" "$ENCLAVE_IMAGE")" ]] ||
    die "engine image lacks the OCI label org.opencontainers.image.$label"
done

active_files=("${files[@]}")
step "up (engine + example app in runner mode) on 127.0.0.1:$ENCLAVE_PORT"
dc up -d
wait_healthy enclave
wait_running app

step "engine container: non-root, read-only root filesystem, writes only /data and /tmp"
eid="$(cid enclave)"
docker exec "$eid" node -e '
  const fs = require("fs");
  if (process.getuid() === 0) { console.error("running as root"); process.exit(1); }
  for (const p of ["/app/x", "/etc/x", "/x"]) {
    try { fs.writeFileSync(p, ""); console.error("could write " + p); process.exit(1); } catch (e) {
      if (e.code !== "EROFS" && e.code !== "EACCES") { console.error(p + ": " + e.code); process.exit(1); } }
  }
  fs.writeFileSync("/tmp/probe", ""); fs.unlinkSync("/tmp/probe");
  fs.accessSync("/data", fs.constants.W_OK);
' || die "engine container is not non-root/read-only as promised"

step "end to end: create, increment, read"
id="$(check create "compose-e2e-$$")"
[[ "$(check increment "$id" 5)" == 5 ]] || die "first increment did not answer 5"
[[ "$(check increment "$id" 2)" == 7 ]] || die "second increment did not answer 7"
check expect "$id" 7 >/dev/null

step "end to end: a workspace in the app container runs toybox (exec through the engine)"
[[ "$(check workspace "compose-e2e-$$")" == "HELLO FROM COMPOSE" ]] || die "the workspace exec did not print HELLO FROM COMPOSE"

step "docker-compose restart enclave: state kept"
dc restart enclave >/dev/null
wait_healthy enclave
check expect "$id" 7 >/dev/null

step "kill -9 right after an acknowledged increment: state kept"
[[ "$(check increment "$id" 1)" == 8 ]] || die "increment after restart did not answer 8"
dc kill -s KILL enclave >/dev/null
dc up -d >/dev/null
wait_healthy enclave
check expect "$id" 8 >/dev/null
wait_running app

conformance

step "down -v"
dc down -v --remove-orphans >/dev/null
active_files=()

if [[ "${COMPOSE_TEST_AIRGAP:-1}" != 0 ]]; then
  export COMPOSE_PROJECT_NAME="enclave-e2e-airgap-$$"
  active_files=("${files[@]}" -f "$here/compose.airgap.yaml")
  step "air-gapped variant: up"
  dc up -d
  wait_healthy enclave
  wait_running app
  step "air-gapped variant: the app reaches the engine on its internal network and nothing beyond it"
  [[ "$(docker network inspect -f '{{.Internal}}' "${COMPOSE_PROJECT_NAME}_backend")" == true ]] ||
    die "the backend network is not internal"
  # Probes only this deployment's own containers: the engine's address on the internal network
  # (must connect) and its address on the edge network, which is one hop out of the app's
  # network (must not: Docker drops traffic leaving an internal network).
  eid="$(cid enclave)"
  backend_ip="$(docker inspect -f "{{(index .NetworkSettings.Networks \"${COMPOSE_PROJECT_NAME}_backend\").IPAddress}}" "$eid")"
  edge_ip="$(docker inspect -f "{{(index .NetworkSettings.Networks \"${COMPOSE_PROJECT_NAME}_edge\").IPAddress}}" "$eid")"
  [[ -n "$backend_ip" && -n "$edge_ip" ]] || die "cannot read the engine's addresses"
  docker exec "$(cid app)" node -e '
    const net = require("net");
    const probe = (host) => new Promise((done) => {
      const s = net.connect({ host, port: 6420 });
      const t = setTimeout(() => { s.destroy(); done("timeout"); }, 3000);
      s.on("connect", () => { clearTimeout(t); s.destroy(); done("connected"); });
      s.on("error", (e) => { clearTimeout(t); done(e.code); });
    });
    (async () => {
      const inside = await probe(process.argv[1]), outside = await probe(process.argv[2]);
      console.log(`internal network: ${inside}; one hop out: ${outside}`);
      process.exit(inside === "connected" && outside !== "connected" ? 0 : 1);
    })();
  ' "$backend_ip" "$edge_ip" || die "the app container can leave its internal network"
  step "air-gapped variant: clients are served over the published port"
  id="$(check create "compose-airgap-$$")"
  [[ "$(check increment "$id" 3)" == 3 ]] || die "air-gapped increment did not answer 3"
  check expect "$id" 3 >/dev/null
  check egress >"$tmp/egress.json"
  node -e '
    const { attempts } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const allowed = attempts.filter((a) => a.allowed);
    if (allowed.length) { console.error("outbound attempts allowed:", JSON.stringify(allowed)); process.exit(1); }
    console.log(`egress audit: ${attempts.length} attempt(s), none allowed`);
  ' "$tmp/egress.json" || die "the engine let an outbound attempt through in the air-gapped variant"
  step "air-gapped variant: down -v"
  dc down -v --remove-orphans >/dev/null
  active_files=()
fi
