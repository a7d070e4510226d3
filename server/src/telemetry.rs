//! Logging (text or JSON lines) to stdout and, with `log_dir`, to
//! `app.log`, `error.log` and `access.log` there (see [`crate::logfiles`]),
//! and the shutdown signal.

use std::io::IsTerminal;

use anyhow::Context;
use app::ssr::infra::settings::{LogFormat, Settings};
use tracing::{Level, Metadata};
use tracing_subscriber::{
    EnvFilter, Layer, Registry,
    filter::{LevelFilter, filter_fn},
    fmt::{self, MakeWriter},
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

use crate::logfiles::DailyFile;

/// The target of the access log's lines (one per request).
pub const ACCESS: &str = "access";

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

fn level_filter(level: &str) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

fn not_access(metadata: &Metadata<'_>) -> bool {
    metadata.target() != ACCESS
}

fn lines<W>(format: LogFormat, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    match format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
        LogFormat::Text => fmt::layer().with_target(false).with_ansi(ansi).with_writer(writer).boxed(),
    }
}

/// Installs the global subscriber: stdout always; with `log_dir`, the
/// three files too. `RUST_LOG`, when set, wins over the configured level
/// so a developer can turn on detail without editing configuration.
/// Calling it twice is harmless (tests do). Fails when `log_dir` cannot
/// be written.
pub fn init(settings: &Settings) -> anyhow::Result<()> {
    let (format, level) = (settings.log_format, settings.log_level.as_str());
    let mut layers: Vec<BoxedLayer> = vec![
        lines(format, std::io::stdout, std::io::stdout().is_terminal())
            .with_filter(level_filter(level))
            .with_filter(filter_fn(not_access))
            .boxed(),
    ];
    if let Some(dir) = &settings.log_dir {
        let file = |name: &str| {
            DailyFile::new(dir, name, settings.log_retention_days, settings.timezone)
                .with_context(|| format!("cannot write the log file {}", dir.join(name).display()))
        };
        layers.push(
            lines(format, file("app.log")?, false)
                .with_filter(level_filter(level))
                .with_filter(filter_fn(not_access))
                .boxed(),
        );
        layers.push(
            lines(format, file("error.log")?, false)
                .with_filter(LevelFilter::from_level(Level::WARN))
                .with_filter(filter_fn(not_access))
                .boxed(),
        );
        layers.push(
            lines(format, file("access.log")?, false)
                .with_filter(filter_fn(|m| m.target() == ACCESS && *m.level() <= Level::INFO))
                .boxed(),
        );
    }
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
