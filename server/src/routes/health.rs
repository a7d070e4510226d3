//! `GET /health`: liveness and readiness for load balancers and monitors.

use app::ssr::infra::{
    state::AppState,
    supervisor::{TaskKind, TaskStatus},
};
use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;

/// The `/health` body.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: &'static str,
    /// The product version.
    pub version: &'static str,
    /// The database's state.
    pub database: DatabaseHealth,
    /// Seconds since this process started.
    pub uptime_seconds: u64,
    /// The notification worker of this instance.
    pub notifications: NotificationHealth,
    /// This instance's background tasks: each one's last good pass, and its
    /// last failure (a task that fails or panics runs again after a back-off).
    pub tasks: Vec<TaskHealth>,
}

/// A background task as `/health` shows it to anyone: when it last worked
/// and failed, not why (the log has that).
#[derive(Debug, Serialize)]
pub struct TaskHealth {
    /// The task's name.
    pub name: String,
    /// `periodic` or `follow_up`.
    pub kind: TaskKind,
    /// Its last good pass.
    pub last_ok_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its last failed (or panicked) pass.
    pub last_error_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Failed passes since the last good one.
    pub failures: u32,
    /// Passes that panicked, in all.
    pub panics: u64,
}

impl From<TaskStatus> for TaskHealth {
    fn from(t: TaskStatus) -> Self {
        Self {
            name: t.name,
            kind: t.kind,
            last_ok_at: t.last_ok_at,
            last_error_at: t.last_error_at,
            failures: t.failures,
            panics: t.panics,
        }
    }
}

/// The notification part of [`Health`].
#[derive(Debug, Serialize)]
pub struct NotificationHealth {
    /// Deliveries waiting to be sent (all instances).
    pub queue: Option<i64>,
    /// When this instance's worker last finished a pass.
    pub last_loop_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The database part of [`Health`].
#[derive(Debug, Serialize)]
pub struct DatabaseHealth {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Whether it answered a query.
    pub ok: bool,
}

/// 200 with the health JSON, or 503 when the database is unreachable.
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = state.db.ping().await;
    let body = Health {
        status: if db_ok { "ok" } else { "unavailable" },
        version: app::VERSION,
        database: DatabaseHealth { backend: state.db.backend().as_str(), ok: db_ok },
        uptime_seconds: state.started_at.elapsed().as_secs(),
        notifications: NotificationHealth {
            queue: if db_ok { app::ssr::notify::outbox::queue_length(&state).await.ok() } else { None },
            last_loop_at: state.tasks.task(app::ssr::notify::NOTIFIER_TASK).and_then(|t| t.last_ok_at),
        },
        // Periodic tasks only: follow-ups are named after servers and sessions.
        tasks: state
            .tasks
            .status()
            .into_iter()
            .filter(|t| t.kind == TaskKind::Periodic)
            .map(TaskHealth::from)
            .collect(),
    };
    let status = if db_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body))
}
