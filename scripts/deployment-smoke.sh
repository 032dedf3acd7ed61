#!/usr/bin/env bash
# Smoke test of a deployed mlpipe: the registry is ready (its database answers) and serves RPCs,
# the inference server is ready, reports the version it serves, and answers /predict for a row of
# the served model's width. Used by the deploy workflow (through port-forwards) after each rollout,
# and by scripts/compose-e2e.sh against each replica. Waits up to SMOKE_WAIT_SECONDS (default 120)
# for readiness; prints the served version on success.
#
# With authentication on (REGISTRY_AUTH / INFERENCE_AUTH=token), MLPIPE_TOKEN is sent as a bearer
# token on every call but the health checks and metrics.
#
# Usage: scripts/deployment-smoke.sh REGISTRY_URL INFERENCE_URL      Needs curl and node.
set -euo pipefail
registry="${1:?registry URL, e.g. http://127.0.0.1:5000}"
inference="${2:?inference URL, e.g. http://127.0.0.1:8000}"
wait_seconds="${SMOKE_WAIT_SECONDS:-120}"
auth=()
[ -z "${MLPIPE_TOKEN:-}" ] || auth=(-H "authorization: Bearer $MLPIPE_TOKEN")

fail() { echo "deployment smoke test FAILED: $*" >&2; exit 1; }
json() { node -e "const v = JSON.parse(require('fs').readFileSync(0, 'utf8')); process.stdout.write(String($1))"; }

ready() {
  local deadline=$((SECONDS + wait_seconds))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1/health/ready")" = 200 ]; do
    [ $SECONDS -lt $deadline ] || fail "$1/health/ready did not answer 200 within ${wait_seconds} s"
    sleep 2
  done
}

ready "$registry"
models="$(curl -sf --max-time 10 ${auth[@]+"${auth[@]}"} "$registry/mlpipe.registry.v1.RegistryService/SearchRegisteredModels" \
  -H 'content-type: application/json' -d '{}')" || fail "registry SearchRegisteredModels"
metrics="$(curl -sf --max-time 10 "$registry/metrics")" || fail "registry /metrics"
grep -q '^registry_database_up 1$' <<<"$metrics" || fail "registry reports its database down"

ready "$inference"
info="$(curl -sf --max-time 10 ${auth[@]+"${auth[@]}"} "$inference/model/info")" || fail "inference /model/info"
features="$(json 'v.signature.inputs[0].shape[1]' <<<"$info")"
served="$(json 'v.version' <<<"$info")"
row="$(node -e "process.stdout.write(JSON.stringify({features: Array(Number('$features')).fill(0.5)}))")"
answer="$(curl -sf --max-time 10 ${auth[@]+"${auth[@]}"} -X POST "$inference/predict" -H 'content-type: application/json' -d "$row")" ||
  fail "inference /predict"
[ "$(json 'v.model_version' <<<"$answer")" = "$served" ] || fail "/predict answered version other than the served one: $answer"
metrics="$(curl -sf --max-time 10 "$inference/metrics")" || fail "inference /metrics"
grep -q "^active_model_version{.*version=\"$served\"} 1$" <<<"$metrics" || fail "inference metrics do not show version $served active"
echo "ok: registry ready ($(json 'v.registeredModels ? v.registeredModels.length : 0' <<<"$models") models), inference serves version $served"
