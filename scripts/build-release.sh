#!/usr/bin/env bash
# Builds the server binary ($CARGO_TARGET_DIR/<profile>/backup-mgmt) and the
# site (target/site: the WASM, its JavaScript, the CSS and public/).
#
# BACKUP_MGMT_BUILD picks the build: `quick` (the default; the cargo
# profiles `quick` and `wasm-quick`: less optimisation, a fraction of the
# compile time, for the first start and the tests) or `release` (`release`
# and `wasm-release`, as cargo-leptos builds: production and benchmarks).
#
# It does what `cargo leptos build --release` (cargo-leptos 0.3.10) does with
# this workspace's metadata, step for step, with plain cargo and the same
# tools at the same versions, so a new machine need not compile cargo-leptos
# first (about 16 minutes on two cores). cargo-leptos stays the tool for
# `cargo leptos watch` during development; both write the same site.
#
# Needs on PATH: cargo with the wasm32-unknown-unknown target, wasm-opt and
# node; @swc/core and lightningcss under $BACKUP_MGMT_TOOLS_DIR/node_modules
# (scripts/lib.sh installs them). wasm-bindgen (the version pinned in
# Cargo.toml) is installed while the first build runs when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

NAME=backup-mgmt           # output-name in [[workspace.metadata.leptos]]
SITE=target/site           # site-root, relative to the workspace root
PKG=$SITE/pkg              # site-pkg-dir
TARGET_DIR=$CARGO_TARGET_DIR
FRONT_TARGET=$TARGET_DIR/front
case "$BACKUP_MGMT_BUILD" in
  quick) SERVER_PROFILE=quick WASM_PROFILE=wasm-quick ;;
  release) SERVER_PROFILE=release WASM_PROFILE=wasm-release ;;
  *) echo "error: BACKUP_MGMT_BUILD must be quick or release, not $BACKUP_MGMT_BUILD" >&2; exit 1 ;;
esac
WASM_IN=$FRONT_TARGET/wasm32-unknown-unknown/$WASM_PROFILE/frontend.wasm

# What cargo-leptos sets for both builds. LEPTOS_OUTPUT_NAME is read at
# compile time (the page asks for /pkg/$NAME.wasm) and `erase_components`
# (always-erase-components) changes what is compiled; the rest only keeps
# the environment the same. Variables that would change server function
# URLs or turn on live reload are unset.
build_env=(
  -u LEPTOS_WATCH -u SERVER_FN_PREFIX -u DISABLE_SERVER_FN_HASH -u SERVER_FN_MOD_PATH
  -u SERVER_FN_OVERRIDE_KEY -u CARGO_ENCODED_RUSTFLAGS
  LEPTOS_OUTPUT_NAME=$NAME LEPTOS_SITE_ROOT=$SITE LEPTOS_SITE_PKG_DIR=pkg
  LEPTOS_SITE_ADDR=127.0.0.1:5000 LEPTOS_RELOAD_PORT=5001
  LEPTOS_LIB_DIR=frontend LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false
  "RUSTFLAGS=${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components"
)

step() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

if [ -e public/index.html ] || [ -e public/pkg ]; then
  echo "error: public/ holds a path the build writes (index.html or pkg)" >&2
  exit 1
fi

# The server and the front end build side by side: the front end's last
# step (link-time optimisation into one unit) uses one core only.
# A new machine compiles wasm-bindgen-cli meanwhile: it fills the cores
# while the builds wait on their longest crates.
bindgen_pid=
if ! wasm_bindgen_ok; then
  ensure_wasm_bindgen &
  bindgen_pid=$!
fi
step "cargo build --profile $SERVER_PROFILE (server) and --profile $WASM_PROFILE (front end)"
env "${build_env[@]}" cargo build --package=server --bin=backup-mgmt --no-default-features --profile="$SERVER_PROFILE" &
server_pid=$!
trap 'kill "$server_pid" $bindgen_pid 2>/dev/null || true' EXIT
env "${build_env[@]}" cargo build --package=frontend --lib --target-dir="$FRONT_TARGET" \
  --target=wasm32-unknown-unknown --no-default-features --profile="$WASM_PROFILE"
if [ -n "$bindgen_pid" ]; then
  wait "$bindgen_pid" || { echo "error: cannot install wasm-bindgen-cli $WASM_BINDGEN_VERSION" >&2; exit 1; }
fi

# The site is made again only when what it is made from changed: the WASM,
# the stylesheet, public/ and these scripts (wasm-opt alone takes a minute
# or two on two cores).
stamp=$( (sha256sum "$WASM_IN" style/main.css scripts/build-release.sh scripts/site-tools.mjs; \
  find public -type f -print0 | sort -z | xargs -0 sha256sum; \
  echo "$BACKUP_MGMT_BUILD $WASM_BINDGEN_VERSION $BINARYEN_VERSION $SWC_VERSION $LIGHTNINGCSS_VERSION") | sha256sum)
if [ -f "$SITE/hash.txt" ] && [ "$(cat "$SITE/.build-stamp" 2>/dev/null)" = "$stamp" ]; then
  step "the site is up to date ($SITE)"
  wait "$server_pid"
  trap - EXIT
  step "built $TARGET_DIR/$SERVER_PROFILE/$NAME and $SITE"
  exit 0
fi
mkdir -p "$SITE" && find "$SITE" -mindepth 1 -delete
mkdir -p "$PKG"
step "wasm-bindgen, wasm-opt, JavaScript and CSS"
wasm-bindgen --target=web --out-name=$NAME --out-dir=$PKG "$WASM_IN"
mv "$PKG/${NAME}_bg.wasm" "$PKG/$NAME.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$PKG/$NAME.wasm" -o "$PKG/$NAME.wasm"
node scripts/site-tools.mjs minify-js "$PKG/$NAME.js"
node scripts/site-tools.mjs css style/main.css "$PKG/$NAME.css"
cp -R --preserve=mode public/. "$SITE"/

# Content-hashed names (backup-mgmt.<hash>.js, .wasm, .css), as
# cargo-leptos's hash-files writes them, so /pkg/ can be cached for a year
# (the console and deploy/nginx say `immutable`): a new build has new
# names. The console finds them in $SITE/hash.txt; without that file (a
# `cargo leptos watch` build) it asks for the plain names.
hash_of() { sha256sum "$1" | cut -c1-16; }
: > "$SITE/hash.txt"
for ext in js wasm css; do
  hash=$(hash_of "$PKG/$NAME.$ext")
  mv "$PKG/$NAME.$ext" "$PKG/$NAME.$hash.$ext"
  printf '%s: %s\n' "$ext" "$hash" >> "$SITE/hash.txt"
done
echo "$stamp" > "$SITE/.build-stamp"

wait "$server_pid"
trap - EXIT
step "built $TARGET_DIR/$SERVER_PROFILE/$NAME and $SITE"
