#!/usr/bin/env bash
# Times the reports on a large demo database (issue 14's goals: the 30-day
# summary of all jobs <= 500 ms, its PDF <= 3 s, a 365-day summary <= 3 s).
#
#   BMS_DATA_DIR=/tmp/perf backup-mgmt demo-data --jobs 2000 --days 365
#   BMS_DATA_DIR=/tmp/perf BMS_ADMIN_PASSWORD='perf admin passphrase' BMS_API_RATE_PER_MINUTE=0 backup-mgmt serve &
#   scripts/bench-reports.sh --user admin --password 'perf admin passphrase' [--requests 7]
#
# Each URL is requested once to warm up, then --requests times in a row;
# the median (p50), p95 and maximum are printed in milliseconds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
today="$(date +%F)"
year_ago="$(date -d "$today - 364 days" +%F)"
exec python3 "$here/bench-pages.py" --requests 7 "$@" \
    "/api/v1/reports/summary?period=last_30_days" \
    "/api/v1/reports/summary?period=last_30_days&format=csv&lang=ja" \
    "/api/v1/reports/summary?period=last_30_days&format=pdf&lang=ja" \
    "/api/v1/reports/summary?from=${year_ago}&until=${today}" \
    "/reports?period=last_30_days"
