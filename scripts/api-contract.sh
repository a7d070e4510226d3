#!/usr/bin/env bash
# Checks that the JSON API does exactly what /api/v1/openapi.json says:
# schemathesis (version pinned in scripts/schemathesis-requirements.txt)
# generates requests from the document, valid and invalid, and runs every
# check on the answers (no server errors, only documented statuses, bodies
# matching their schemas, valid data accepted, invalid data refused, ...).
#
# It starts the release binary on a free port with a fresh SQLite database,
# signs in as an administrator and creates a `write` API token for the run.
# The seed is fixed and the number of examples per operation bounded, so a
# run takes a few minutes and a failure can be reproduced.
#
# Usage: bash scripts/api-contract.sh [extra schemathesis run options]
#   BMS_CONTRACT_BINARY  the server binary (default: the one scripts/build-release.sh made)
#   CONTRACT_SEED        the seed (default 20261201)
#   CONTRACT_EXAMPLES    examples per operation (default 40)
#   CONTRACT_REPORTS     schemathesis report formats (default junit,ndjson; har
#                        records every request and answer)
# Reports (JUnit, NDJSON) and the server's log go to target/api-contract/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_schemathesis
binary=${BMS_CONTRACT_BINARY:-$CARGO_TARGET_DIR/${BACKUP_MGMT_BUILD:-quick}/backup-mgmt}
[ -x "$binary" ] || die "no server binary at $binary: build the release first (scripts/test.sh builds it)"
seed=${CONTRACT_SEED:-20261201}
examples=${CONTRACT_EXAMPLES:-40}
schemathesis="$SCHEMATHESIS_VENV/bin/schemathesis"
python="$SCHEMATHESIS_VENV/bin/python"

out="$PWD/target/api-contract"
rm -rf "$out"
mkdir -p "$out"
data=$(mktemp -d "${TMPDIR:-/tmp}/bms-contract-XXXXXX")
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_password="contract-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

# Only our own settings reach the server: it refuses unknown BMS_ variables.
server_env=()
while IFS='=' read -r name _; do
  case "$name" in BMS_*) server_env+=(-u "$name") ;; esac
done < <(env)
server_env+=(
  BMS_LISTEN="127.0.0.1:$port"
  BMS_BASE_URL="$base"
  BMS_DATA_DIR="$data"
  BMS_ADMIN_PASSWORD="$admin_password"
  BMS_LOG_LEVEL=warn
  # The generated requests come from one address, far more than 600 a
  # minute; the limit itself is covered by the integration tests (429 is
  # still documented on every operation).
  BMS_API_RATE_PER_MINUTE=0
  # The JSON API needs no WASM site; a missing one only affects pages.
  LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$PWD/target/site}"
)

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

log "starting $binary on $base (fresh SQLite database)"
env "${server_env[@]}" "$binary" serve >"$out/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$base/health" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$out/server.log" >&2; die "the server exited; log in $out/server.log"; }
  sleep 0.5
done
curl -fsS -o /dev/null "$base/health" || die "the server did not become healthy; log in $out/server.log"

json_field() { "$python" -c "import json, sys; print(json.load(sys.stdin)$1)"; }
jwt=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$admin_password\"}" "$base/api/v1/auth/login" | json_field '["token"]')
token=$(curl -fsS -H 'content-type: application/json' -H "authorization: Bearer $jwt" \
  -d '{"name": "api contract", "scope": "write"}' "$base/api/v1/tokens" | json_field '["secret"]')

# Two runs. The first covers every operation with the API token. Managing
# tokens, changing a password and managing users need a signed-in user (a
# token gets 403 there), and a revocation may hit the run's own token, so
# those operations get a run of their own with the administrator's bearer
# JWT, afterwards. (Signing out is left to the token run: with the JWT it
# would end the run's own session.)
signed_in=(--include-name 'GET /api/v1/tokens' --include-name 'POST /api/v1/tokens'
  --include-name 'DELETE /api/v1/tokens/{id}' --include-name 'POST /api/v1/me/password'
  --include-name 'POST /api/v1/users' --include-name 'PATCH /api/v1/users/{id}'
  --include-name 'DELETE /api/v1/users/{id}' --include-name 'POST /api/v1/users/{id}/reset-password')
excluded=()
for option in "${signed_in[@]}"; do excluded+=("${option/--include-/--exclude-}"); done

run() {
  local name=$1 credential=$2
  shift 2
  log "schemathesis: $name (seed $seed, at most $examples examples per operation)"
  # A hard bound on the whole run, should the server stop answering.
  timeout 900 "$schemathesis" --config-file scripts/schemathesis.toml run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $credential" \
    --checks all \
    --seed "$seed" \
    --max-examples "$examples" \
    --generation-database none \
    --request-timeout 10 \
    --workers 2 \
    --no-color \
    --report "${CONTRACT_REPORTS:-junit,ndjson}" --report-dir "$out/$name" \
    "$@" "${extra[@]}"
}
extra=("$@")

started=$(date +%s)
status=0
run with-token "$token" "${excluded[@]}" || status=1
run signed-in "$jwt" "${signed_in[@]}" || status=1
took=$(( $(date +%s) - started ))

if [ "$status" -ne 0 ]; then
  die "API contract: failures (see above) after $took s; reports and the server log in $out"
fi
log "API contract: every check passed on every operation in $took s (seed $seed, $examples examples per operation)"
