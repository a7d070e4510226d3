#!/usr/bin/env bash
# report-run.sh: run any backup command and report it to the Backup
# Management System through the job's ping URL.
#
#   BACKUP_PING_URL=https://backup.example.co.jp/ping/<token> \
#     report-run.sh restic -r /srv/restic backup /home
#
# Reports the start, runs the command (its output still goes to the
# terminal or cron mail), then reports its exit code with the last lines of
# output as the run's log. The command's exit code is passed through, and a
# console that cannot be reached never fails the backup itself.
#
# Settings (environment):
#   BACKUP_PING_URL   the job's ping URL (required; shown on the job's page)
#   BACKUP_LOG_LINES  how many output lines to send (default 100; the console keeps 10 KB)
#   BACKUP_CURL_OPTS  extra curl options, e.g. "--cacert /etc/ssl/console.pem"
set -u

url=${BACKUP_PING_URL:-}
if [ -z "$url" ] || [ $# -eq 0 ]; then
  echo "usage: BACKUP_PING_URL=https://console/ping/<token> $0 COMMAND [ARGS...]" >&2
  exit 64
fi
url=${url%/}
lines=${BACKUP_LOG_LINES:-100}
# shellcheck disable=SC2206 # word splitting of extra options is intended
extra=(${BACKUP_CURL_OPTS:-})
rid=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || date +%s%N)

ping() {
  # Retries with back-off for a minute; monitoring trouble is reported, not fatal.
  curl -fsS -m 10 --retry 5 --retry-max-time 60 "${extra[@]}" "$@" >/dev/null \
    || echo "report-run.sh: could not reach the console at ${url%/ping/*}" >&2
}

ping -X POST "$url/start?rid=$rid"

log=$(mktemp "${TMPDIR:-/tmp}/report-run.XXXXXX")
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
# Exit codes above 255 do not exist; 126/127 (cannot run / not found) are failures like any other.
tail -n "$lines" "$log" | ping -X POST --data-binary @- -H "Content-Type: text/plain; charset=utf-8" "$url/$code?rid=$rid"
exit "$code"
