#!/usr/bin/env bash
# Issue 17 ("Throughput"): the console's report-in path measured side by
# side with a bare axum program on the same machine, with ratios.
#
#   scripts/bench/compare.sh [--binary PATH] [--rounds N] [--json FILE]
#                            [--postgres URL] [--duration 8s] [--jobs 1000]
#                            [--reference PATH] [--console-env KEY=VALUE ...]
#
#   --binary PATH     the console (default: the release build,
#                     ${BACKUP_MGMT_CACHE_DIR:-~/.cache/backup-mgmt}/target/release/backup-mgmt)
#   --rounds N        how many times the whole set runs (default 3); medians are reported
#   --json FILE       also write every figure, the medians and the ratios as JSON
#   --postgres URL    also run the console on PostgreSQL: a role that may create
#                     databases, e.g. postgres://bms_test:bms_test@127.0.0.1:5432/postgres;
#                     each round creates a database bench_<random> and drops it
#   --duration D      each wrk run's length (default 8s; shorter only to try the script)
#   --jobs N          push jobs (ping URLs) the load is spread over (default 1000)
#   --reference PATH  a bench-reference binary to use instead of building it
#   --console-env K=V an extra setting for the console, e.g. BMS_LOG_LEVEL=warn
#                     (repeatable; by default it runs with its own defaults)
#
# Each round:
#   1. the reference program (scripts/bench/reference, built with cargo into
#      the cache's target/bench-reference) on a free loopback port with a
#      fresh SQLite file: wrk -t1 -c32 GET /hello, then wrk -t1 -c32 POST
#      /insert (one row per request, answered after its commit);
#   2. the console on a fresh data directory with SQLite: signs in as the
#      bootstrapped admin, creates --jobs push jobs through POST /api/v1/jobs
#      and takes their ping paths; wrk -t1 -c32 POSTs "backup ok\n" spread
#      over them round robin (pings.lua), while the console's peak RSS is
#      taken (VmHWM reset before the load, and VmRSS sampled); then the same
#      with -c1. After each, the runs stored are counted in the database and
#      must match wrk's 2xx answers (see README.md); a mismatch stops
#      everything with an error;
#   3. with --postgres, step 2 again on a fresh PostgreSQL database.
# Then a table: every round's requests/s, the medians, median p50/p99
# latency, the ratios console/hello, console/insert and 32 clients/1 client,
# peak RSS. Every process started is stopped and the temporary directory
# removed on exit (also on failure or Ctrl-C).
#
# Needs wrk (Debian/Ubuntu: sudo apt-get install -y wrk), python3, cargo (for
# the reference, unless --reference) and with --postgres psql
# (sudo apt-get install -y postgresql-client). The console and the reference
# share the machine with wrk: on 2 cores the figures are only comparable with
# each other, and only when nothing else runs (the script warns otherwise).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${BACKUP_MGMT_CACHE_DIR:-$HOME/.cache/backup-mgmt}

binary=$cache/target/release/backup-mgmt
rounds=3
json_out=
pg_url=
duration=8s
jobs=1000
reference=
console_env=()
admin_password='bench admin passphrase'

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "compare.sh: $*" >&2; exit 1; }
py() { python3 "$here/bench.py" "$@"; }

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    -h | --help) usage; exit 0 ;;
    --*=*) set -- "${opt%%=*}" "${opt#*=}" "${@:2}"; continue ;;
  esac
  case "$opt" in
    --binary | --rounds | --json | --postgres | --duration | --jobs | --reference | --console-env)
      [ $# -ge 2 ] || die "$opt needs a value (see --help)" ;;
    *) die "unknown argument '$opt' (see --help)" ;;
  esac
  case "$opt" in
    --binary) binary=$2 ;;
    --rounds) rounds=$2 ;;
    --json) json_out=$2 ;;
    --postgres) pg_url=$2 ;;
    --duration) duration=$2 ;;
    --jobs) jobs=$2 ;;
    --reference) reference=$2 ;;
    --console-env)
      [[ $2 == *=* ]] || die "--console-env takes KEY=VALUE, not '$2'"
      console_env+=("$2") ;;
  esac
  shift 2
done

[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive whole number, not '$rounds'"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive whole number, not '$jobs'"
[[ $duration =~ ^[1-9][0-9]*[smh]?$ ]] || die "--duration is wrk's, e.g. 8s, not '$duration'"
command -v wrk >/dev/null || die "wrk is not installed: sudo apt-get install -y wrk (Debian/Ubuntu)"
command -v python3 >/dev/null || die "python3 is not installed: sudo apt-get install -y python3"
[ -x "$binary" ] || die "no console binary at $binary: build one (BACKUP_MGMT_BUILD=release bash scripts/build-release.sh) or pass --binary PATH"
binary=$(realpath "$binary")
if [ -n "$json_out" ]; then
  [ -d "$(dirname "$json_out")" ] && [ -w "$(dirname "$json_out")" ] || die "cannot write --json $json_out"
  json_out=$(realpath -m "$json_out")
fi
if [ -n "$pg_url" ]; then
  command -v psql >/dev/null || die "--postgres needs psql: sudo apt-get install -y postgresql-client"
  psql "$pg_url" -X -q -A -t -v ON_ERROR_STOP=1 -c 'select 1' >/dev/null \
    || die "cannot connect to $(sed -E 's#//([^:@/]*):[^@/]*@#//\1:***@#' <<<"$pg_url") (see psql's error above)"
fi

# --- processes, temporary files, clean-up ------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/bms-bench.XXXXXX")
pids=()
pg_dbs=()

# Stops PID (TERM, then KILL after $2 seconds, default 10) and waits for it;
# its exit status goes to $stopped_status.
stop_pid() {
  local pid=$1 grace=${2:-10} i
  stopped_status=0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "  process $pid did not stop within ${grace} s of SIGTERM: killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || stopped_status=$?
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

drop_pg_db() {
  # WITH (FORCE): PostgreSQL 13 and later; plain DROP on older servers.
  psql "$pg_url" -X -q -v ON_ERROR_STOP=1 -c "drop database if exists \"$1\" with (force)" >/dev/null 2>&1 \
    || psql "$pg_url" -X -q -v ON_ERROR_STOP=1 -c "drop database if exists \"$1\"" >/dev/null
  local keep=() d
  for d in "${pg_dbs[@]}"; do [ "$d" = "$1" ] || keep+=("$d"); done
  pg_dbs=("${keep[@]}")
}

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  local pid db
  for pid in "${pids[@]}"; do stop_pid "$pid" 5; done
  for db in "${pg_dbs[@]}"; do
    drop_pg_db "$db" || echo "compare.sh: could not drop the database $db: drop it by hand" >&2
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints the last lines of a server's log and stops.
die_with_log() {
  local log=$1
  shift
  echo >&2
  echo "compare.sh: $*" >&2
  if [ -s "$log" ]; then
    echo "---- the last 60 lines of its log ----" >&2
    tail -n 60 "$log" >&2
    echo "---- end of the log ----" >&2
  else
    echo "(its log is empty)" >&2
  fi
  exit 1
}

# Waits until URL answers 200 from the server PID, or stops with its log.
wait_up() {
  local url=$1 pid=$2 log=$3 what=$4
  py wait-http "$url" --pid "$pid" --timeout 120 || die_with_log "$log" "$what did not start (see above)"
}

# wrk, one thread, the connections given, the run's BENCH_JSON line kept.
run_wrk() {
  local out=$1 connections=$2 url=$3 script=$4
  shift 4
  local extra=()
  [ $# -eq 0 ] || extra=(-- "$@")
  if ! wrk -t1 -c"$connections" -d"$duration" --timeout 30s -s "$here/$script" "$url" "${extra[@]}" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk failed against $url"
  fi
}

load_average() { cut -d' ' -f1 /proc/loadavg; }

# --- the reference program --------------------------------------------------
if [ -n "$reference" ]; then
  [ -x "$reference" ] || die "--reference $reference is not an executable"
  reference=$(realpath "$reference")
else
  reference=$cache/target/bench-reference/release/bench-reference
  if command -v cargo >/dev/null; then
    echo "building the reference program (a few minutes the first time, then instant)"
    cargo build --release --locked --quiet --manifest-path "$here/reference/Cargo.toml" \
      --target-dir "$cache/target/bench-reference" || die "the reference program did not build"
  fi
  [ -x "$reference" ] || die "no reference binary at $reference and no cargo to build it"
fi

# The console's static site: the built one when there is one (pages only;
# the measured paths do not read it), otherwise an empty directory.
site_root=$repo/target/site
if [ ! -d "$site_root" ]; then
  site_root=$work/site
  mkdir -p "$site_root"
fi

# Only our settings reach the console: it refuses unknown BMS_ variables.
unset_bms=()
for name in $(compgen -e); do
  case "$name" in BMS_*) unset_bms+=(-u "$name") ;; esac
done

results=$work/results.jsonl
: >"$results"
load_at_start=$(load_average)
echo "console: $binary"
echo "reference: $reference"
echo "wrk -t1, $duration per run; $jobs ping URLs; $rounds round(s); $(nproc) CPUs; load average $load_at_start"
if awk -v l="$load_at_start" 'BEGIN { exit !(l > 0.7) }'; then
  echo "WARNING: the machine is busy (load average $load_at_start): the figures will be low and noisy"
fi

# One round of the console on BACKEND (sqlite or postgres).
console_round() {
  local round=$1 backend=$2
  local dir=$work/round$round/console-$backend
  local log=$dir/console.log
  mkdir -p "$dir/data"
  local port db_url dbname=
  port=$(py free-port)
  local base=http://127.0.0.1:$port
  if [ "$backend" = postgres ]; then
    dbname=bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
    psql "$pg_url" -X -q -v ON_ERROR_STOP=1 -c "create database \"$dbname\"" >/dev/null \
      || die "cannot create the database $dbname"
    pg_dbs+=("$dbname")
    db_url=$(py pg-url "$pg_url" "$dbname")
  else
    db_url=sqlite://$dir/data/backup-mgmt.db
  fi
  echo " console on $backend (127.0.0.1:$port)"
  (
    cd "$dir"
    exec env "${unset_bms[@]}" \
      BMS_ENV=development \
      BMS_LISTEN="127.0.0.1:$port" \
      BMS_BASE_URL="$base/" \
      BMS_DATA_DIR="$dir/data" \
      BMS_DATABASE_URL="$db_url" \
      BMS_ADMIN_PASSWORD="$admin_password" \
      BMS_API_RATE_PER_MINUTE=0 \
      BMS_BACKUP_DAILY=false \
      LEPTOS_SITE_ROOT="$site_root" \
      "${console_env[@]}" \
      "$binary" serve
  ) >"$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_up "$base/health/live" "$pid" "$log" "the console ($backend)"

  local paths=$dir/ping-paths.txt made
  made=$(py make-jobs --base "$base" --user admin --password "$admin_password" --jobs "$jobs" --out "$paths") \
    || die_with_log "$log" "could not create the jobs through the API (see above)"
  echo "  created $made"

  local count_args
  if [ "$backend" = postgres ]; then count_args=(--postgres "$db_url"); else count_args=(--sqlite "$dir/data/backup-mgmt.db"); fi
  local before at_end after
  before=$(py count-runs "${count_args[@]}") || die_with_log "$log" "cannot count the console's runs"

  # 32 clients, with the peak RSS: VmHWM reset to the current RSS first
  # (clear_refs 5), and VmRSS sampled every 50 ms as a second opinion.
  local hwm_reset=no
  if echo 5 2>/dev/null >"/proc/$pid/clear_refs"; then hwm_reset=yes; fi
  py watch-rss "$pid" "$dir/rss-sampled" &
  local watcher=$!
  pids+=("$watcher")
  run_wrk "$dir/wrk-c32.txt" 32 "$base" pings.lua "$paths"
  local hwm sampled rss rss_how
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  stop_pid "$watcher" 2
  sampled=$(cat "$dir/rss-sampled" 2>/dev/null || echo 0)
  kill -0 "$pid" 2>/dev/null || die_with_log "$log" "the console ($backend) died during the 32-client load"
  if [ "$hwm_reset" = yes ] && [ -n "$hwm" ]; then
    rss=$((hwm > sampled ? hwm : sampled))
    rss_how="VmHWM reset before the load"
  else
    rss=$sampled
    rss_how="VmRSS sampled every 50 ms"
  fi
  read -r at_end after < <(py count-runs --settle "${count_args[@]}") \
    || die_with_log "$log" "cannot count the console's runs"
  py record --results "$results" --round "$round" --key "$backend-c32" --wrk "$dir/wrk-c32.txt" \
    --connections 32 --before "$before" --after "$after" --after-at-end "$at_end" \
    --rss-kb "$rss" --rss-how "$rss_how" \
    || die_with_log "$log" "the runs stored do not match wrk's answers (console on $backend, 32 clients)"

  before=$after
  run_wrk "$dir/wrk-c1.txt" 1 "$base" pings.lua "$paths"
  kill -0 "$pid" 2>/dev/null || die_with_log "$log" "the console ($backend) died during the 1-client load"
  read -r at_end after < <(py count-runs --settle "${count_args[@]}") \
    || die_with_log "$log" "cannot count the console's runs"
  py record --results "$results" --round "$round" --key "$backend-c1" --wrk "$dir/wrk-c1.txt" \
    --connections 1 --before "$before" --after "$after" --after-at-end "$at_end" \
    || die_with_log "$log" "the runs stored do not match wrk's answers (console on $backend, 1 client)"

  stop_pid "$pid" 30
  if [ "$stopped_status" -ne 0 ]; then
    echo "  WARNING: the console ($backend) exited with status $stopped_status on SIGTERM; its log's end:"
    tail -n 10 "$log" | sed 's/^/    /'
  fi
  if [ -n "$dbname" ]; then drop_pg_db "$dbname"; fi
  rm -rf "$dir"
}

for ((round = 1; round <= rounds; round++)); do
  echo
  echo "round $round of $rounds"
  rdir=$work/round$round
  mkdir -p "$rdir/reference"

  # The reference: GET /hello, then POST /insert on a fresh SQLite file.
  port=$(py free-port)
  "$reference" "127.0.0.1:$port" "$rdir/reference/reference.db" >"$rdir/reference/log" 2>&1 &
  ref_pid=$!
  pids+=("$ref_pid")
  echo " reference (127.0.0.1:$port)"
  wait_up "http://127.0.0.1:$port/hello" "$ref_pid" "$rdir/reference/log" "the reference program"
  run_wrk "$rdir/reference/wrk-hello.txt" 32 "http://127.0.0.1:$port/hello" report.lua
  py record --results "$results" --round "$round" --key hello --wrk "$rdir/reference/wrk-hello.txt" --connections 32
  before=$(py count-runs --sqlite "$rdir/reference/reference.db")
  run_wrk "$rdir/reference/wrk-insert.txt" 32 "http://127.0.0.1:$port/insert" post.lua
  kill -0 "$ref_pid" 2>/dev/null || die_with_log "$rdir/reference/log" "the reference program died"
  read -r at_end after < <(py count-runs --settle --sqlite "$rdir/reference/reference.db")
  py record --results "$results" --round "$round" --key insert --wrk "$rdir/reference/wrk-insert.txt" \
    --connections 32 --before "$before" --after "$after" --after-at-end "$at_end" \
    || die_with_log "$rdir/reference/log" "the reference's rows do not match wrk's answers"
  stop_pid "$ref_pid" 10
  rm -rf "$rdir/reference"

  console_round "$round" sqlite
  if [ -n "$pg_url" ]; then console_round "$round" postgres; fi
done

meta=$(python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
  binary "$binary" reference "$reference" duration "$duration" jobs "$jobs" \
  wrk "wrk -t1 --timeout 30s" postgres "$([ -n "$pg_url" ] && echo yes || echo no)" \
  console_env "${console_env[*]:-}" load_average_at_start "$load_at_start" load_average_at_end "$(load_average)" \
  git_commit "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)")
echo
echo "Summary ($rounds round(s); load average $load_at_start at the start, $(load_average) at the end)"
py summarize --results "$results" --meta "$meta" ${json_out:+--json "$json_out"}
