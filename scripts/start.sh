#!/usr/bin/env bash
# Quick start: installs whatever is missing, builds a release and starts the
# console on http://127.0.0.1:5000 with an embedded SQLite database in ./data.
# Extra arguments go to `backup-mgmt serve`; settings come from BMS_* variables.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools
build_release

export LEPTOS_SITE_ROOT="$PWD/target/site"
log "starting the console on ${BMS_LISTEN:-127.0.0.1:5000} (Ctrl-C stops it)"
exec "$(release_binary)" serve "$@"
