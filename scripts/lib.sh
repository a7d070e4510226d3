# Shared by start.sh and test.sh: install what is missing, set up PATH and
# the build directory. Sourced, not executed.

# Versions known to work together (see README.md, "Toolchain").
WASM_BINDGEN_VERSION=0.2.130 # must equal the `wasm-bindgen = "=..."` pin in Cargo.toml
BINARYEN_VERSION=132.0.0     # wasm-opt; Debian's binaryen 108 builds WASM that never hydrates
SWC_VERSION=1.15.13          # @swc/core: the JavaScript minifier cargo-leptos 0.3.10 links
LIGHTNINGCSS_VERSION=1.32.0  # lightningcss 1.0.0-alpha.71, as in cargo-leptos 0.3.10
# Only for `cargo leptos watch` during development (scripts/build-release.sh
# builds releases without it).
CARGO_LEPTOS_VERSION=0.3.10

CACHE_DIR=${BACKUP_MGMT_CACHE_DIR:-$HOME/.cache/backup-mgmt}
TOOLS_DIR="${BACKUP_MGMT_TOOLS_DIR:-$CACHE_DIR/tools}"
# (Not BMS_ names: the console refuses BMS_ variables that are not settings.)
export BACKUP_MGMT_TOOLS_DIR="$TOOLS_DIR"
# Cargo's build output lives outside the clone, so a fresh clone on the
# same machine reuses the compiled dependencies.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE_DIR/target}
# Incremental caches only help repeated edits and cost gigabytes per build
# of this workspace (Leptos's types are large); scripted builds skip them.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"
# Which build scripts/build-release.sh makes: `quick` (the default: the
# first start and the tests; less optimisation, much shorter to compile)
# or `release` (fully optimised: production, the Dockerfile, benchmarks).
export BACKUP_MGMT_BUILD=${BACKUP_MGMT_BUILD:-quick}
# The server binary that build makes.
release_binary() { echo "$CARGO_TARGET_DIR/$BACKUP_MGMT_BUILD/backup-mgmt"; }

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

APT_UPDATED=0
# Installs Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} (apt)"
  if [ "$APT_UPDATED" -eq 0 ]; then
    # An install from the cached package lists often works offline-ish
    # mirrors; update only if it fails.
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; then return 0; fi
    as_root apt-get update -q >/dev/null
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

# Everything needed to build a release: a C compiler, Node.js, the wasm32
# target, wasm-bindgen, and wasm-opt, swc and lightningcss from npm, at
# pinned versions. (No cargo-leptos: see scripts/build-release.sh.)
ensure_build_tools() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
  local pkgs=()
  command -v cc >/dev/null 2>&1 || pkgs+=(build-essential)
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
  command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
  [ ${#pkgs[@]} -gt 0 ] && apt_install "${pkgs[@]}"

  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(npm_version binaryen)" != "$BINARYEN_VERSION" ] \
     || [ "$(npm_version @swc/core)" != "$SWC_VERSION" ] \
     || [ "$(npm_version lightningcss)" != "$LIGHTNINGCSS_VERSION" ]; then
    log "installing wasm-opt (binaryen $BINARYEN_VERSION), @swc/core $SWC_VERSION and lightningcss $LIGHTNINGCSS_VERSION (npm)"
    mkdir -p "$TOOLS_DIR"
    # Their native parts come as optional dependencies: keep them.
    npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent \
      "binaryen@$BINARYEN_VERSION" "@swc/core@$SWC_VERSION" "lightningcss@$LIGHTNINGCSS_VERSION"
  fi
}

# wasm-bindgen at the pinned version (scripts/build-release.sh installs it
# while the first build runs, when it is missing).
wasm_bindgen_ok() { [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; }
ensure_wasm_bindgen() {
  if ! wasm_bindgen_ok; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once per machine, about 3 minutes)"
    # Without --locked: its lock file wants a crate version the registry
    # lacks. Its own target directory: sharing the build's would make the
    # two wait for each other.
    CARGO_TARGET_DIR="$CACHE_DIR/wasm-bindgen-build" \
      cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
    rm -rf "$CACHE_DIR/wasm-bindgen-build"
  fi
}

# The version of an npm package in the tools folder, or nothing.
npm_version() {
  node -e 'try { console.log(require(process.argv[1] + "/node_modules/" + process.argv[2] + "/package.json").version) } catch { }' \
    "$TOOLS_DIR" "$1" 2>/dev/null
}

# cargo-leptos, for `cargo leptos watch` (development only; about 16 minutes
# to compile the first time).
ensure_cargo_leptos() {
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine, about 16 minutes)"
    # no_downloads: a missing helper is a clear error instead of a download from GitHub.
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads
  fi
}

# A Python virtual environment with schemathesis at the version pinned in
# scripts/schemathesis-requirements.txt (for scripts/api-contract.sh).
SCHEMATHESIS_VENV="$CACHE_DIR/venv"
ensure_schemathesis() {
  local requirements want
  requirements="$(dirname "${BASH_SOURCE[0]}")/schemathesis-requirements.txt"
  want=$(sed -n 's/^schemathesis==//p' "$requirements")
  if [ "$("$SCHEMATHESIS_VENV/bin/schemathesis" --version 2>/dev/null)" = "schemathesis, version $want" ]; then
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
  log "installing schemathesis $want (a Python venv in $SCHEMATHESIS_VENV)"
  python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
}

# Builds the release: the server binary and the WASM/CSS site.
build_release() {
  log "building the $BACKUP_MGMT_BUILD build (scripts/build-release.sh)"
  bash "$(dirname "${BASH_SOURCE[0]}")/build-release.sh"
}

# Starts PostgreSQL on loopback (installing it if needed), makes sure the
# role `bms_test` may create databases, removes databases left by earlier
# runs, and exports TEST_POSTGRES_URL.
start_postgres() {
  apt_install postgresql
  local version port
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
    as_root pg_createcluster "$version" main >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main"{print $4}' | grep -q online; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster "$version" main start
  fi
  port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main"{print $3}')
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p "$port" || die "PostgreSQL did not start on port $port"
  # From /: the postgres user may not enter the current directory.
  cd /
  as_root runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 -c \
    "do \$\$ begin if not exists (select from pg_roles where rolname = 'bms_test') then
       create role bms_test login createdb password 'bms_test'; end if; end \$\$;" >/dev/null
  as_root runuser -u postgres -- psql -At -p "$port" -c \
    "select datname from pg_database where datname like 'bms\_t\_%'" \
    | while read -r db; do as_root runuser -u postgres -- dropdb -p "$port" --if-exists "$db"; done
  cd - >/dev/null
  export TEST_POSTGRES_URL="postgres://bms_test:bms_test@127.0.0.1:$port/postgres"
  log "PostgreSQL $version on 127.0.0.1:$port"
}
