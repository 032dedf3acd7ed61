# Sourced by the container scripts: a Docker daemon to talk to, and cleanup that always runs.
#
# use_docker_daemon: when no daemon answers (DOCKER_HOST or the default socket), starts
#   `dockerd` with its own data root, exec root, pidfile and socket under $MLPIPE_DOCKER_ROOT
#   (default /var/tmp/mlpipe-docker: images persist between runs, so the base image is built once)
#   and exports DOCKER_HOST; that daemon is stopped on exit.
# on_exit CMD: registers CMD to run on exit, success or failure (in reverse order of registration).
# Needs root (dockerd) and the Debian packages docker.io (and docker-compose for the compose test).

_exit_actions=()
on_exit() { _exit_actions=("$1" "${_exit_actions[@]}"); }
_run_exit_actions() {
  local status=$?
  set +e
  for action in "${_exit_actions[@]}"; do eval "$action"; done
  exit "$status"
}
trap _run_exit_actions EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

use_docker_daemon() {
  if docker info >/dev/null 2>&1; then
    log "using the running Docker daemon (${DOCKER_HOST:-default socket})"
    return
  fi
  command -v dockerd >/dev/null || die "no Docker daemon and no dockerd (apt-get install docker.io)"
  local root="${MLPIPE_DOCKER_ROOT:-/var/tmp/mlpipe-docker}"
  mkdir -p "$root"
  export DOCKER_HOST="unix://$root/docker.sock"
  if docker info >/dev/null 2>&1; then
    log "using the Docker daemon left at $DOCKER_HOST"
    return
  fi
  log "starting dockerd (data root $root/data, log $root/dockerd.log)"
  dockerd --data-root "$root/data" --exec-root "$root/exec" --pidfile "$root/dockerd.pid" \
    --host "$DOCKER_HOST" >"$root/dockerd.log" 2>&1 &
  local pid=$!
  on_exit "stop_docker_daemon $pid"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    kill -0 "$pid" 2>/dev/null || { tail -20 "$root/dockerd.log" >&2; die "dockerd exited"; }
    sleep 0.5
  done
  tail -20 "$root/dockerd.log" >&2
  die "dockerd did not answer within 30 s"
}

stop_docker_daemon() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || { log "dockerd stopped"; return 0; }
    sleep 0.5
  done
  log "dockerd did not stop within 20 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# The base image the Dockerfile names (its NODE_IMAGE build argument's default).
dockerfile_base_image() {
  sed -n 's/^ARG NODE_IMAGE=//p' "$1" | head -1
}
