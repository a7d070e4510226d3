#!/usr/bin/env bash
# Data retention on a large database, measured:
#
#   backup-mgmt demo-data --jobs 2000 --days 365        # into BMS_DATA_DIR, once
#   scripts/bench-retention.sh DATA_DIR [RUNS_DAYS]
#
# 1. starts the console with retention off and saves the report of an old
#    period (200 to 150 days ago) as JSON;
# 2. starts it again with retention_runs_days=RUNS_DAYS (default 90): the
#    first retention pass begins at once, while scripts/bench-ingest.py
#    reports runs one after another until the pass is logged, and prints
#    their p50/p95/p99/max;
# 3. prints what the pass deleted and how long it took, and compares the old
#    period's report with the one saved in step 1 (`generated_at` aside).
#
# Uses the build scripts/build-release.sh made (BACKUP_MGMT_BUILD: quick by
# default, or release), or BENCH_BINARY. The database is changed: work on a copy.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
data_dir=${1:?usage: scripts/bench-retention.sh DATA_DIR [RUNS_DAYS]}
runs_days=${2:-90}
binary=${BENCH_BINARY:-$(release_binary)}
# The first admin's password (made by this script on a database without users).
password=${BENCH_PASSWORD:-bench admin passphrase}
port=5987
base=http://127.0.0.1:$port
out=$(mktemp -d)

start() {
  env -u BACKUP_MGMT_TOOLS_DIR -u BACKUP_MGMT_BUILD BMS_DATA_DIR="$data_dir" BMS_LISTEN=127.0.0.1:$port \
    BMS_ADMIN_PASSWORD="$password" BMS_API_RATE_PER_MINUTE=0 BMS_BACKUP_DIR=/dev/null/no-backups \
    LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$PWD/target/site}" "$@" "$binary" serve > "$out/server.log" 2>&1 &
  server=$!
  until curl -fsS -o /dev/null "$base/health" 2>/dev/null; do sleep 0.5; done
}
stop() { kill "$server"; wait "$server" || true; server=; }
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; true' EXIT
report() {
  local token from until
  token=$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" "$base/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  from=$(date -u -d '200 days ago' +%F)
  until=$(date -u -d '150 days ago' +%F)
  curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/reports/summary?from=$from&until=$until" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); r.pop("generated_at"); print(json.dumps(r, sort_keys=True))'
}

log "1. the report of an old period, before"
start env BMS_RETENTION_RUNS_DAYS=0 BMS_RETENTION_EVENTS_DAYS=0 BMS_RETENTION_AUDIT_DAYS=0
report > "$out/before.json"
stop

log "2. retention_runs_days=$runs_days: the first pass, with runs reported meanwhile"
start env BMS_RETENTION_RUNS_DAYS="$runs_days"
python3 scripts/bench-ingest.py --base "$base" --user admin --password "$password" --seconds 3600 \
  --until-log "$out/server.log" --until-text "data retention: deleted old history"
grep "data retention: deleted old history" "$out/server.log" | tail -n 1

log "3. the report of the same period, after"
report > "$out/after.json"
stop
if cmp -s "$out/before.json" "$out/after.json"; then
  log "the old period's report is unchanged ($(wc -c < "$out/after.json") bytes of JSON)"
else
  diff <(python3 -m json.tool "$out/before.json") <(python3 -m json.tool "$out/after.json") | head -40
  die "the old period's report changed"
fi
rm -rf "$out"
