# Backup Management System: container image.
#
#   docker build -t backup-mgmt .
#   docker run -p 5000:5000 -v bms-data:/data -e BMS_JWT_SECRET=... backup-mgmt
#
# Build stage: the same pinned tools as scripts/lib.sh, the same build
# command as scripts/start.sh (scripts/build-release.sh: no cargo-leptos).
FROM rust:1.95-bookworm AS build
ARG WASM_BINDGEN_VERSION=0.2.130
ARG BINARYEN_VERSION=132.0.0
ARG SWC_VERSION=1.15.13
ARG LIGHTNINGCSS_VERSION=1.32.0
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version ${WASM_BINDGEN_VERSION} \
 && npm install --prefix /opt/tools --no-audit --no-fund \
      binaryen@${BINARYEN_VERSION} @swc/core@${SWC_VERSION} lightningcss@${LIGHTNINGCSS_VERSION}
ENV PATH=/opt/tools/node_modules/.bin:$PATH \
    BACKUP_MGMT_TOOLS_DIR=/opt/tools \
    CARGO_TARGET_DIR=/src/target
WORKDIR /src
COPY . .
RUN BACKUP_MGMT_BUILD=release bash scripts/build-release.sh && strip target/release/backup-mgmt

# Runtime stage: the binary, the static site, nothing else.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 backup-mgmt \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /data --shell /usr/sbin/nologin backup-mgmt \
 && mkdir -p /data && chown 10001:10001 /data && chmod 0700 /data
COPY --from=build /src/target/release/backup-mgmt /usr/local/bin/backup-mgmt
COPY --from=build /src/target/site /usr/share/backup-mgmt/site
ENV LEPTOS_SITE_ROOT=/usr/share/backup-mgmt/site \
    BMS_LISTEN=0.0.0.0:5000 \
    BMS_DATA_DIR=/data \
    BMS_LOG_FORMAT=json
# Numeric, so the runtime (and Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001:10001
VOLUME /data
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5000 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/usr/local/bin/backup-mgmt"]
CMD ["serve"]
