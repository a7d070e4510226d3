//! Building the application: database, first admin, router, listener.

use std::{
    future::Future,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use app::{
    App, shell,
    ssr::{
        accounts::bootstrap::{self, FirstAdmin},
        infra::{
            cluster::Cluster,
            db::{Backend, Db},
            keys::Keys,
            limits::RateLimits,
            settings::Settings,
            state::AppState,
        },
    },
};
use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use leptos::prelude::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    api,
    middleware::{authenticate, count_requests, security_headers, server_fn_status},
    routes::{badge, health, manifest, metrics, ping, prefs},
};

/// A built, bound, not yet running console.
pub struct Application {
    /// Held while the console runs on a SQLite database: a restore (or a
    /// second console) on the same file is refused.
    _database_lock: Option<std::fs::File>,
    listener: TcpListener,
    router: Router,
    state: AppState,
    first_admin: FirstAdmin,
}

impl Application {
    /// Connects to the database, applies migrations, creates the first
    /// admin on an empty database, and binds `settings.listen`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        Self::build_with_listener(settings, listener).await
    }

    /// Like [`Application::build`] on an already bound listener (tests bind
    /// port 0 first so that the base URL can name the real port).
    pub async fn build_with_listener(settings: Settings, listener: TcpListener) -> anyhow::Result<Self> {
        let database_lock = match app::ssr::ops::backup::sqlite_file(&settings) {
            Some(file) => Some(app::ssr::ops::backup::lock_database(&file)?),
            None => None,
        };
        let db = Db::connect(&settings.database_url).await?;
        db.migrate().await?;
        let first_admin = bootstrap::ensure_first_admin(&db, settings.admin_password.as_ref())
            .await
            .context("cannot create the first administrator")?;
        let address = listener.local_addr().context("the listener has no local address")?;
        let keys = Keys::load(&settings).context("cannot load the signing keys")?;
        let limits = Arc::new(RateLimits::new(&settings));
        let cipher =
            app::ssr::infra::secrets::Cipher::load(&settings).context("cannot load the encryption key")?;
        let db_backend = db.backend();
        let state = AppState {
            leptos_options: leptos_options(address),
            db,
            settings: Arc::new(settings),
            started_at: Instant::now(),
            keys,
            limits,
            events: Default::default(),
            cipher,
            tasks: Default::default(),
            slots: Default::default(),
            cluster: Cluster::new(address.to_string(), matches!(db_backend, Backend::Postgres)),
        };
        app::ssr::jobs::calendar_service::reload(&state)
            .await
            .context("cannot read the business calendar's closures")?;
        let router = router(state.clone());
        Ok(Self { _database_lock: database_lock, listener, router, state, first_admin })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.state.leptos_options.site_addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.address().port()
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.state.settings
    }

    /// The shared state (tests use it to reach the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Whether the first admin was created by this start.
    pub fn first_admin(&self) -> &FirstAdmin {
        &self.first_admin
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self { _database_lock: lock, listener, router, state, .. } = self;
        crate::scheduler::start(&state);
        // Background tasks and event streams end as soon as shutdown starts;
        // ordinary requests in flight are allowed to finish.
        let tasks = state.tasks.clone();
        let signal = async move {
            shutdown.await;
            tasks.begin_shutdown();
        };
        let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signal)
            .await
            .context("the HTTP server failed");
        // Passes in flight finish (within a grace period) before the pool closes.
        state.tasks.stopped().await;
        served?;
        state.db.close().await;
        drop(lock);
        tracing::info!("stopped");
        Ok(())
    }
}

/// Leptos's options, from `LEPTOS_*` variables (set by cargo-leptos and in
/// the container image) with our defaults, bound to the real address.
fn leptos_options(address: SocketAddr) -> LeptosOptions {
    let var = |name: &str, default: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
    };
    let site_root = var("LEPTOS_SITE_ROOT", "target/site");
    // A release build names its files by their content and lists the
    // hashes in the site's hash.txt (scripts/build-release.sh); Leptos reads
    // the file at this path (an absolute one: it is joined to the
    // executable's directory).
    let hash_file =
        std::path::absolute(std::path::Path::new(&site_root).join("hash.txt")).unwrap_or_default();
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "backup-mgmt"))
        .hash_files(hash_file.is_file())
        .hash_file(std::sync::Arc::from(hash_file.to_string_lossy().as_ref()))
        .site_root(site_root)
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(address)
        .reload_port(var("LEPTOS_RELOAD_PORT", "5001").parse::<u32>().unwrap_or(5001))
        .build()
}

/// The app's pages, listed once per process.
///
/// `generate_route_list` renders the app with resource loading suppressed
/// through a process-wide flag (leptos_server's `SuppressResourceLoad`): a
/// page rendered by another server in the same process at that moment
/// would wait forever for its data (leptos-rs/leptos#4773). A binary builds
/// one router, but the tests start many servers in one process, so the list
/// is made once and reused.
pub fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole HTTP surface: plain routes, Leptos pages and server
/// functions, static files, and the layers around them.
pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let options = state.leptos_options.clone();
    Router::new()
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/manifest.webmanifest", get(manifest::manifest))
        .route("/metrics", get(metrics::metrics))
        .route("/badge/{file}", get(badge::badge))
        .route("/prefs/theme", post(prefs::set_theme))
        .route("/prefs/locale", post(prefs::set_locale))
        .route("/ping/{token}", get(ping::success).post(ping::success))
        .route("/ping/{token}/{action}", get(ping::action).post(ping::action))
        .merge(api::v1::router())
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::extract::DefaultBodyLimit::max(api::extract::BODY_LIMIT))
        .layer(middleware::from_fn(server_fn_status))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .with_state(state.clone())
        .layer(middleware::from_fn(cache_control))
        .layer(middleware::from_fn_with_state(state, security_headers))
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %loggable_path(request.uri().path()),
                        request_id = %request_id,
                    )
                })
                .on_response(|response: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_millis() as u64,
                        "response"
                    );
                }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Paths with secrets in them (ping URLs carry a job's token, badge URLs
/// theirs) are logged with the secret replaced.
pub fn loggable_path(path: &str) -> String {
    if path.starts_with("/badge/") {
        return "/badge/***.svg".to_owned();
    }
    match path.strip_prefix("/ping/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("/ping/***/{tail}"),
            None => "/ping/***".to_owned(),
        },
        None => path.to_owned(),
    }
}

/// Static assets may be cached but must be revalidated (their names carry
/// no hash, and the service worker keeps its own copy); everything else is
/// generated per request and may carry user data, so it is never stored.
async fn cache_control(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let value = if path.starts_with("/icons/") {
            "public, max-age=604800"
        } else if is_hashed_asset(&path) {
            // A name that changes with the content: never stale.
            "public, max-age=31536000, immutable"
        } else if path.starts_with("/pkg/") || path == "/sw.js" || path == "/manifest.webmanifest" {
            "no-cache"
        } else {
            "no-store"
        };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// `/pkg/backup-mgmt.0123456789abcdef.wasm`: a file named by its content.
fn is_hashed_asset(path: &str) -> bool {
    let Some(name) = path.strip_prefix("/pkg/") else { return false };
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 3 && parts[1].len() == 16 && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::{is_hashed_asset, loggable_path};

    #[test]
    fn only_content_named_files_are_immutable() {
        assert!(is_hashed_asset("/pkg/backup-mgmt.0123456789abcdef.wasm"));
        assert!(!is_hashed_asset("/pkg/backup-mgmt.wasm"));
        assert!(!is_hashed_asset("/pkg/backup-mgmt_bg.wasm"));
        assert!(!is_hashed_asset("/icons/a.0123456789abcdef.png"));
    }

    #[test]
    fn ping_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/ping/abc123"), "/ping/***");
        assert_eq!(loggable_path("/ping/abc123/fail"), "/ping/***/fail");
        assert_eq!(loggable_path("/jobs/3"), "/jobs/3");
        assert_eq!(loggable_path("/badge/s3cr3t-token.svg"), "/badge/***.svg");
    }
}
