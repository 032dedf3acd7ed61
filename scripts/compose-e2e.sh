#!/usr/bin/env bash
# End-to-end test of docker-compose.yml with the local stand-ins (docker-compose.local.yml):
#   1. build and `up` the stack (PostgreSQL, S3, registry, two inference replicas, Prometheus);
#   2. train and register the iris model through the registry (from the host, as a training job
#      would), promote it to Production: both replicas serve it (scripts/deployment-smoke.sh on each);
#   3. Prometheus scrapes the three processes and has loaded the alert rules;
#   4. register a second version and promote it: both replicas swap to it;
#   5. `down` (volumes kept) and `up` again: runs, versions, stages and artifacts are all still
#      there, and both replicas serve the promoted version again.
# Everything it started (containers, networks, volumes, the daemon when it started one) is removed
# on exit, failure included. Host ports are ephemeral, on 127.0.0.1.
#
# Usage: scripts/compose-e2e.sh        Needs docker.io, docker-compose, debootstrap, curl, node + npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/docker-daemon.sh

started=$SECONDS
project="mlpipe-e2e-$$"
export MLPIPE_IMAGE="mlpipe:e2e"
for port in REGISTRY INFERENCE_1 INFERENCE_2 PROMETHEUS GRAFANA MINIO_CONSOLE; do export "MLPIPE_${port}_PUBLISH=127.0.0.1:"; done
compose() { docker-compose -p "$project" -f docker-compose.yml -f docker-compose.local.yml "$@"; }

use_docker_daemon
scripts/container-base-image.sh
work="$(mktemp -d)"
on_exit "rm -rf '$work'"
on_exit "compose down -v --remove-orphans >/dev/null 2>&1"
on_exit '[ "$status" -eq 0 ] || compose logs --tail=30 >&2'

log "build"
compose build -q >/dev/null 2>&1 || compose build
up() { compose up -d >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "docker-compose up"; }; }
log "up"
up

# url SERVICE PORT: the host URL of a published port.
url() {
  local address
  address="$(compose port "$1" "$2" 2>/dev/null | tail -1)"
  [ -n "$address" ] || die "$1 publishes no port $2"
  echo "http://$address"
}
# version_of INFERENCE_URL: the version a replica serves ("" while it serves none).
version_of() { curl -sf --max-time 5 "$1/model/info" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).version)' 2>/dev/null || true; }
# wait_version VERSION URL...: waits (at most 90 s) until every replica serves VERSION.
wait_version() {
  local want=$1 deadline=$((SECONDS + 90))
  shift
  for u in "$@"; do
    until [ "$(version_of "$u")" = "$want" ]; do
      [ $SECONDS -lt $deadline ] || die "$u does not serve version $want (serves '$(version_of "$u")')"
      sleep 1
    done
  done
}
# wait_ready URL: waits (at most 120 s) for URL/health/ready.
wait_ready() {
  local deadline=$((SECONDS + 120))
  until curl -sf --max-time 5 "$1/health/ready" >/dev/null; do
    [ $SECONDS -lt $deadline ] || die "$1 not ready within 120 s"
    sleep 1
  done
}
mlpipe() { npx --no-install mlpipe --registry-url "$registry" "$@"; }
endpoints() {
  registry="$(url registry 5000)"
  inference=("$(url inference-1 8000)" "$(url inference-2 8000)")
  prometheus="$(url prometheus 9090)"
}

endpoints
wait_ready "$registry"
log "registry ready at $registry; training and registering version 1"
npx --no-install tsx training/train-iris.ts --tracking-url "$registry" --register --stage Production >/dev/null ||
  die "training and registering version 1"
for u in "${inference[@]}"; do SMOKE_WAIT_SECONDS=120 scripts/deployment-smoke.sh "$registry" "$u" >&2; done
wait_version 1 "${inference[@]}"

log "Prometheus at $prometheus: targets and rules"
deadline=$((SECONDS + 90))
until [ "$(curl -sf "$prometheus/api/v1/query" --data-urlencode 'query=sum(up{job=~"mlpipe-registry|mlpipe-inference"})' |
  node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")).data.result; process.stdout.write(r.length ? r[0].value[1] : "0")')" = 3 ]; do
  [ $SECONDS -lt $deadline ] || die "Prometheus does not see the registry and both replicas up"
  sleep 2
done
rules="$(curl -sf "$prometheus/api/v1/rules")"
for alert in MlpipePredictionErrorBudgetBurn MlpipeNoModelLoaded MlpipeRegistryDatabaseUnreachable; do
  grep -q "\"name\":\"$alert\"" <<<"$rules" || die "Prometheus has not loaded the alert $alert"
done

log "registering version 2 and promoting it: both replicas swap"
npx --no-install tsx training/train-iris.ts --tracking-url "$registry" --register --stage Staging >/dev/null ||
  die "training and registering version 2"
mlpipe promote iris-classifier 2 Production --archive-existing >&2 || die "promoting version 2"
wait_version 2 "${inference[@]}"

log "down (volumes kept) and up again"
compose down >/dev/null 2>&1
up
endpoints
wait_ready "$registry"
wait_version 2 "${inference[@]}"
versions="$(mlpipe versions list iris-classifier --json)"
for check in 'v.modelVersions.length === 2' \
  'v.modelVersions.find((m) => m.version === "2").currentStage === "STAGE_PRODUCTION"' \
  'v.modelVersions.find((m) => m.version === "1").currentStage === "STAGE_ARCHIVED"'; do
  node -e "const v = JSON.parse(require('fs').readFileSync(0, 'utf8')); process.exit(($check) ? 0 : 1)" <<<"$versions" ||
    die "after down/up: $check is false in $versions"
done
run_id="$(mlpipe runs list --experiment iris --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); if (v.runs.length !== 2) process.exit(1); process.stdout.write(v.runs[0].info.runId)')" ||
  die "after down/up: the two training runs are not both there"
mlpipe artifacts download "$run_id" model/model.onnx "$work/model.onnx" >&2 || die "after down/up: artifact download"
for u in "${inference[@]}"; do scripts/deployment-smoke.sh "$registry" "$u" >&2; done

log "compose end-to-end test passed in $((SECONDS - started)) s"
