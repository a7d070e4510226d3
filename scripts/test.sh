#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and integration tests on SQLite
# and on PostgreSQL, then the API contract check (schemathesis) and the
# end-to-end tests in Chromium against a release build.
# Installs what is missing first (Chromium, PostgreSQL, the npm packages).
# Set TEST_POSTGRES_URL to use an existing PostgreSQL server instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

started=$(date +%s)
ensure_build_tools
# Chromium for the browser tests; a Japanese font so screenshots show kana;
# poppler-utils for `pdftotext`, which the PDF export tests read back; age,
# which must decrypt the console's own backups.
apt_install chromium fonts-ipafont-gothic poppler-utils age
if [ -z "${TEST_POSTGRES_URL:-}" ]; then start_postgres; fi
# The PostgreSQL twin of every database test must run, not skip.
export TEST_REQUIRE_POSTGRES=1
# The PDF export tests must read their PDFs back, not skip.
export TEST_REQUIRE_PDFTOTEXT=1
# The backup tests must decrypt with Debian's age, not skip.
export TEST_REQUIRE_AGE=1

log "checking formatting (cargo fmt)"
cargo fmt --all --check

log "deployment files (nginx -t, systemd-analyze, compose config, hadolint)"
bash scripts/check-deploy.sh

log "lints (cargo clippy, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

log "unit and integration tests on SQLite and PostgreSQL (cargo test)"
cargo test --workspace --exclude frontend

log "Windows: the service code compiles (cargo check --target x86_64-pc-windows-gnu)"
# The MinGW compiler builds the C parts (SQLite) for the target; the host's
# proc-macros and build scripts come from the test build above.
apt_install gcc-mingw-w64-x86-64-posix
rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
cargo check --package server --bin backup-mgmt --target x86_64-pc-windows-gnu

build_release

log "API contract (schemathesis)"
bash scripts/api-contract.sh

log "end-to-end tests in Chromium (Playwright)"
(
  cd end2end
  npm ci --no-audit --no-fund --silent
  BMS_E2E_BINARY="$(release_binary)" LEPTOS_SITE_ROOT="$PWD/../target/site" npx playwright test
)

log "all tests passed in $(( $(date +%s) - started )) s; screenshots in end2end/artifacts/screenshots"
