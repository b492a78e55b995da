# shellcheck shell=bash
# Sourced by compose/test.sh and distribution/bundle.sh: a Docker engine to talk to, and the
# project's images built from the unchanged distribution/Dockerfile.
#
#   docker_env_up        use the running Docker engine (DOCKER_HOST or the default socket); if
#                        none answers and we are root with a `dockerd`, start a private one
#                        with its own --data-root/--exec-root/-H unix socket under a temp dir
#   docker_env_down      stop what docker_env_up started and undo its changes: processes,
#                        mounts, temp dir, iptables rules/chains, ip_forward, network links
#   build_images         base stand-in (when wanted), the engine image, the example image
#
# Settings (environment):
#   ENCLAVE_LOCAL_BASE=auto|1|0   build the base image stand-in (distribution/base-image.sh).
#                                 auto (default): only in a private engine started here (its
#                                 image store is thrown away), never in your own daemon.
#   ENCLAVE_NPM_REGISTRY=URL      an npm registry mirror for the build (--build-arg
#                                 NPM_CONFIG_REGISTRY); the build container must reach it
#   ENCLAVE_NPM_PROXY=1           start distribution/npm-registry-proxy.mjs on 127.0.0.1 and
#                                 build with --network host through it (for machines whose
#                                 build containers cannot reach the registry directly)
#   ENCLAVE_IMAGE, ENCLAVE_EXAMPLE_IMAGE   tags to build (default enclave:VERSION and
#                                 enclave-example:VERSION, plus :latest)
#   DOCKERD_START_TIMEOUT (60), DOCKER_BUILD_TIMEOUT (900) seconds

_de_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DE_OWN_DOCKERD=0
DE_DIR=""
DE_PROXY_PID=""

_de_log() { echo "[docker-env] $*" >&2; }

_de_snapshot() { # $1: suffix (before|after)
  local s="$1"
  cat /proc/sys/net/ipv4/ip_forward >"$DE_DIR/ip_forward.$s" 2>/dev/null || true
  cat /proc/sys/net/ipv6/conf/all/forwarding >"$DE_DIR/ip6_forward.$s" 2>/dev/null || true
  if command -v iptables-save >/dev/null; then iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' >"$DE_DIR/ipt.$s" || true; fi
  if command -v ip6tables-save >/dev/null; then ip6tables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' >"$DE_DIR/ip6t.$s" || true; fi
  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sort >"$DE_DIR/links.$s" || true
}

docker_env_up() {
  if docker info >/dev/null 2>&1; then
    _de_log "using the running Docker engine ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return 0
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v dockerd >/dev/null; then
    _de_log "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default}) and none can be started here (needs root and dockerd)"
    return 1
  fi
  DE_DIR="$(mktemp -d /tmp/enclave-dockerd.XXXXXX)"
  DE_OWN_DOCKERD=1
  _de_snapshot before
  export DOCKER_HOST="unix://$DE_DIR/docker.sock"
  # Its own roots and socket, and no changes to the host's firewall or forwarding: no iptables
  # rules, ip_forward left as it is, no docker0 bridge. Published ports still work (docker-proxy
  # on the host's loopback), containers on one network still reach each other, and nothing in a
  # container has a route out of this machine.
  dockerd \
    --data-root "$DE_DIR/data" --exec-root "$DE_DIR/exec" -H "$DOCKER_HOST" \
    --pidfile "$DE_DIR/dockerd.pid" \
    --iptables=false --ip-forward=false --bridge=none \
    >"$DE_DIR/dockerd.log" 2>&1 &
  echo $! >"$DE_DIR/dockerd.bgpid"
  local deadline=$((SECONDS + ${DOCKERD_START_TIMEOUT:-60}))
  until docker info >/dev/null 2>&1; do
    if ((SECONDS > deadline)) || ! kill -0 "$(cat "$DE_DIR/dockerd.bgpid")" 2>/dev/null; then
      _de_log "private dockerd did not come up; its log:"
      tail -n 30 "$DE_DIR/dockerd.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  _de_log "started a private dockerd $(docker version --format '{{.Server.Version}}' 2>/dev/null) at $DOCKER_HOST"
}

docker_env_down() {
  if [[ -n "$DE_PROXY_PID" ]]; then
    kill "$DE_PROXY_PID" 2>/dev/null || true
    wait "$DE_PROXY_PID" 2>/dev/null || true
    DE_PROXY_PID=""
  fi
  [[ "$DE_OWN_DOCKERD" == 1 && -n "$DE_DIR" ]] || return 0
  DE_OWN_DOCKERD=0
  local pid
  pid="$(cat "$DE_DIR/dockerd.bgpid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    # Containers first (bounded), then the daemon.
    timeout 60 docker ps -q 2>/dev/null | xargs -r timeout 60 docker rm -f >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      _de_log "dockerd $pid did not stop in 30 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  # Anything our daemon started that outlived it (containerd, shims): by pid, only those whose
  # command line names our private directory.
  local p cmd
  for p in /proc/[0-9]*; do
    [[ "${p#/proc/}" == "$$" || "${p#/proc/}" == "$BASHPID" ]] && continue
    cmd="$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" || continue
    if [[ "$cmd" == *"$DE_DIR"* ]]; then
      _de_log "killing leftover process ${p#/proc/}: ${cmd:0:100}"
      kill -KILL "${p#/proc/}" 2>/dev/null || true
    fi
  done
  # Mounts under our directory (overlays, netns, shm), deepest first.
  awk -v d="$DE_DIR" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  _de_snapshot after
  _de_restore_net
  rm -rf "$DE_DIR" 2>/dev/null || _de_log "could not remove $DE_DIR completely"
  DE_DIR=""
}

# Undo whatever the private daemon changed in the host's network setup (with the flags above it
# should change nothing; this is the safety net, and it says what it had to undo).
_de_restore_net() {
  local f
  for f in ip_forward:/proc/sys/net/ipv4/ip_forward ip6_forward:/proc/sys/net/ipv6/conf/all/forwarding; do
    local name="${f%%:*}" path="${f#*:}"
    if [[ -s "$DE_DIR/$name.before" ]] && ! cmp -s "$DE_DIR/$name.before" "$DE_DIR/$name.after"; then
      _de_log "restoring $path to $(cat "$DE_DIR/$name.before")"
      cat "$DE_DIR/$name.before" >"$path" || true
    fi
  done
  local fam tool
  for fam in ipt:iptables ip6t:ip6tables; do
    tool="${fam#*:}"
    fam="${fam%%:*}"
    [[ -f "$DE_DIR/$fam.before" && -f "$DE_DIR/$fam.after" ]] || continue
    cmp -s "$DE_DIR/$fam.before" "$DE_DIR/$fam.after" && continue
    _de_log "removing $tool rules and chains the private dockerd added"
    local table="" line
    # Rules added: delete them (in their table).
    while IFS= read -r line; do
      case "$line" in
        \**) table="${line#\*}" ;;
        -A\ *) grep -qxF -- "$line" "$DE_DIR/$fam.before" || eval "$tool -t $table -D ${line#-A }" 2>/dev/null || true ;;
      esac
    done <"$DE_DIR/$fam.after"
    # Chains added: flush and delete them.
    table=""
    while IFS= read -r line; do
      case "$line" in
        \**) table="${line#\*}" ;;
        :*)
          local chain="${line#:}"
          chain="${chain%% *}"
          if ! grep -q "^:$chain " "$DE_DIR/$fam.before"; then
            $tool -t "$table" -F "$chain" 2>/dev/null || true
            $tool -t "$table" -X "$chain" 2>/dev/null || true
          fi
          ;;
      esac
    done <"$DE_DIR/$fam.after"
  done
  # Bridges and veths our daemon created and left behind.
  if [[ -f "$DE_DIR/links.before" ]]; then
    comm -13 "$DE_DIR/links.before" "$DE_DIR/links.after" | grep -E '^(docker0|br-|veth)' |
      while read -r l; do _de_log "removing leftover link $l"; ip link delete "$l" 2>/dev/null || true; done
  fi
}

_de_version() { node -p 'require(process.argv[1]).version' "$_de_repo/package.json"; }

# build_images: sets ENCLAVE_IMAGE and ENCLAVE_EXAMPLE_IMAGE (exported) to what it built.
build_images() {
  local version revision created
  version="$(_de_version)"
  revision="$(git -C "$_de_repo" rev-parse HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git -C "$_de_repo" status --porcelain 2>/dev/null | head -n1)" ]]; then revision="$revision-dirty"; fi
  created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  export ENCLAVE_IMAGE="${ENCLAVE_IMAGE:-enclave:$version}"
  export ENCLAVE_EXAMPLE_IMAGE="${ENCLAVE_EXAMPLE_IMAGE:-enclave-example:$version}"

  local local_base="${ENCLAVE_LOCAL_BASE:-auto}"
  if [[ "$local_base" == auto ]]; then local_base="$DE_OWN_DOCKERD"; fi
  if [[ "$local_base" == 1 ]]; then
    _de_log "building the local base image stand-in (no registry here)"
    bash "$_de_repo/distribution/base-image.sh"
  fi

  local -a args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created")
  if [[ "${ENCLAVE_NPM_PROXY:-0}" == 1 && -z "${ENCLAVE_NPM_REGISTRY:-}" ]]; then
    local portfile="${DE_DIR:-/tmp}/npm-proxy.port.$$"
    rm -f "$portfile"
    node "$_de_repo/distribution/npm-registry-proxy.mjs" --port-file "$portfile" &
    DE_PROXY_PID=$!
    local i
    for i in $(seq 1 50); do [[ -s "$portfile" ]] && break; sleep 0.2; done
    [[ -s "$portfile" ]] || { _de_log "npm registry proxy did not start"; return 1; }
    ENCLAVE_NPM_REGISTRY="http://127.0.0.1:$(cat "$portfile")/"
    rm -f "$portfile"
    args+=(--network host)
  fi
  if [[ -n "${ENCLAVE_NPM_REGISTRY:-}" ]]; then args+=(--build-arg "NPM_CONFIG_REGISTRY=$ENCLAVE_NPM_REGISTRY"); fi

  local t0=$SECONDS
  _de_log "building $ENCLAVE_IMAGE and $ENCLAVE_EXAMPLE_IMAGE from distribution/Dockerfile"
  local log="${DE_DIR:-/tmp}/docker-build.$$.log"
  if ! timeout "${DOCKER_BUILD_TIMEOUT:-900}" docker build "${args[@]}" -f "$_de_repo/distribution/Dockerfile" \
    --target example -t "$ENCLAVE_EXAMPLE_IMAGE" -t "${ENCLAVE_EXAMPLE_IMAGE%:*}:latest" "$_de_repo" >"$log" 2>&1 ||
    ! timeout "${DOCKER_BUILD_TIMEOUT:-900}" docker build "${args[@]}" -f "$_de_repo/distribution/Dockerfile" \
      -t "$ENCLAVE_IMAGE" -t "${ENCLAVE_IMAGE%:*}:latest" "$_de_repo" >>"$log" 2>&1; then
    _de_log "docker build FAILED; the end of its output:"
    tail -n 60 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  _de_log "images built in $((SECONDS - t0)) s"
  if [[ -n "$DE_PROXY_PID" ]]; then
    kill "$DE_PROXY_PID" 2>/dev/null || true
    wait "$DE_PROXY_PID" 2>/dev/null || true
    DE_PROXY_PID=""
  fi
}
